"""A video track paced to a frame rate on the 90 kHz video clock, fed by any frame source.

Subclasses say where frames come from (:meth:`PacedVideoTrack.next_frame`); the base turns each
into an ``av.VideoFrame``, spaces frames ``1/fps`` apart and stamps them on the video clock.
Blocking source steps run on the track's own worker thread, so a slow source never blocks the
event loop. Used by :mod:`reactor_notebook.sources` (arrays, files, another session's frames).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from typing import Any

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from . import VIDEO_TIME_BASE, PtsClock, as_rgb

__all__ = ["PacedVideoTrack", "to_video_frame"]


def to_video_frame(frame: Any) -> av.VideoFrame:
    """An (H, W, 3) uint8 RGB array, an (H, W) grey array or an ``av.VideoFrame`` → ``av.VideoFrame``."""
    if isinstance(frame, av.VideoFrame):
        return frame
    return av.VideoFrame.from_ndarray(as_rgb(frame, "video source frame"), format="rgb24")


class PacedVideoTrack(MediaStreamTrack):
    """Base: a video track that asks :meth:`next_frame` for content and paces it to ``fps``."""

    kind = "video"

    def __init__(self, fps: float | None = 24.0) -> None:
        super().__init__()
        if fps is not None and not (isinstance(fps, (int, float)) and 0 < fps <= 240):
            raise ValueError(f"fps must be a number in (0, 240], got {fps!r}")
        self.fps = float(fps) if fps is not None else None
        self.frames_sent = 0
        self._clock = PtsClock()
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None

    async def next_frame(self) -> Any:
        """Return the next frame (array or VideoFrame), or ``None`` when the source has ended."""
        raise NotImplementedError

    async def _in_thread(self, fn: Any, *args: Any) -> Any:
        """Run a blocking source step on this track's own worker thread (order kept, loop free)."""
        if self._executor is None:
            self._executor = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix=type(self).__name__)
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    def _fps(self) -> float:
        return self.fps or 24.0

    async def recv(self) -> av.VideoFrame:
        """The next frame, paced to ``fps`` on the video clock; ends the track when the source ends."""
        if self.readyState != "live":
            raise MediaStreamError
        item = await self.next_frame()
        if item is None or self.readyState != "live":
            self.stop()
            raise MediaStreamError
        vf = to_video_frame(item)
        now = time.monotonic()
        start = self._clock.start if self._clock.start is not None else now
        target = start + self.frames_sent / self._fps()
        if target > now:
            await asyncio.sleep(target - now)
        elif now - target > 1.0:  # the source stalled for long: restart the clock, do not burst
            start = now - self.frames_sent / self._fps()
        self._clock.start = start
        vf.pts, vf.time_base = self._clock.stamp(time.monotonic()), VIDEO_TIME_BASE
        self.frames_sent += 1
        return vf

    def _cleanup(self) -> None:
        """Release source resources; runs on the worker thread after any pending step."""

    def stop(self) -> None:
        """End the track and release the source (after any step still running on the worker)."""
        super().stop()
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.submit(self._cleanup)
            executor.shutdown(wait=False)
        else:
            self._cleanup()

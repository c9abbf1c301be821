"""Publishing video from the kernel: aiortc tracks fed by numpy frames, video files or another session.

Use with the SDK: ``await reactor.publish_track("webcam", ArrayTrack(gen(), fps=24))``.

* :class:`ArrayTrack` — frames from any iterable or async iterable of ``(H, W, 3)`` uint8 RGB arrays
  (a generator, a list, a recorded ``(N, H, W, 3)`` array); ``loop=True`` repeats a finite sequence.
* :class:`VideoFileTrack` — a video file decoded with PyAV, at its own rate or ``fps``.
* :class:`FramesTrack` — relays another session's :class:`~reactor_notebook.frames.FrameBuffer`
  (latest frame wins, repeated when the source is slower than ``fps``).
* :class:`PushedFrameTrack` — frames handed over from any thread with :meth:`~PushedFrameTrack.push`
  (the widget's browser webcam uses it): latest frame wins, repeated at ``fps``, black before the first.

Pulling the next frame (a generator step, a decode) runs on a worker thread, so a slow source never
blocks the SDK's event loop; frames are paced to ``fps`` on a 90 kHz clock.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import fractions
import os
import threading
import time
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from typing import Any

import av
import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from .frames import FrameBuffer

CLOCK_RATE = 90000
TIME_BASE = fractions.Fraction(1, CLOCK_RATE)
_END = object()


def to_video_frame(frame: Any) -> av.VideoFrame:
    """An (H, W, 3) uint8 RGB array, an (H, W) grey array or an ``av.VideoFrame`` → ``av.VideoFrame``."""
    if isinstance(frame, av.VideoFrame):
        return frame
    arr = np.asarray(frame)
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] not in (3, 4):
        raise ValueError(f"a video source frame must be (H, W, 3) RGB, got shape {arr.shape}")
    if arr.dtype != np.uint8:
        raise ValueError(
            f"a video source frame must be uint8, got {arr.dtype} (convert with np.uint8 / .astype)"
        )
    if arr.shape[2] == 4:
        arr = arr[:, :, :3]
    return av.VideoFrame.from_ndarray(np.ascontiguousarray(arr), format="rgb24")


class PacedVideoTrack(MediaStreamTrack):
    """Base: a video track that asks :meth:`next_frame` for content and paces it to ``fps``."""

    kind = "video"

    def __init__(self, fps: float | None = 24.0) -> None:
        super().__init__()
        if fps is not None and not (isinstance(fps, (int, float)) and 0 < fps <= 240):
            raise ValueError(f"fps must be a number in (0, 240], got {fps!r}")
        self.fps = float(fps) if fps is not None else None
        self.frames_sent = 0
        self._start: float | None = None
        self._last_pts = -1
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
        if self.readyState != "live":
            raise MediaStreamError
        item = await self.next_frame()
        if item is None or self.readyState != "live":
            self.stop()
            raise MediaStreamError
        vf = to_video_frame(item)
        now = time.monotonic()
        if self._start is None:
            self._start = now
        target = self._start + self.frames_sent / self._fps()
        if target > now:
            await asyncio.sleep(target - now)
        elif now - target > 1.0:  # the source stalled for long: restart the clock, do not burst
            self._start = now - self.frames_sent / self._fps()
        pts = round((time.monotonic() - self._start) * CLOCK_RATE)
        pts = max(pts, self._last_pts + 1)
        self._last_pts = pts
        vf.pts, vf.time_base = pts, TIME_BASE
        self.frames_sent += 1
        return vf

    def _cleanup(self) -> None:
        """Release source resources; runs on the worker thread after any pending step."""

    def stop(self) -> None:
        super().stop()
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.submit(self._cleanup)
            executor.shutdown(wait=False)
        else:
            self._cleanup()


class ArrayTrack(PacedVideoTrack):
    """Frames from an iterable / async iterable of uint8 RGB arrays (generators welcome), paced to ``fps``."""

    def __init__(
        self,
        frames: Iterable[Any] | AsyncIterable[Any] | np.ndarray,
        fps: float = 24.0,
        *,
        loop: bool = False,
    ) -> None:
        super().__init__(fps)
        self._async: AsyncIterator[Any] | None = None
        self._iter: Iterator[Any] | None = None
        self._source = frames
        if isinstance(frames, AsyncIterable):
            if loop:
                raise ValueError(
                    "loop=True needs a re-iterable source (a list or an array), not an async iterator"
                )
            self._async = frames.__aiter__()
        else:
            if loop and iter(frames) is frames:
                raise ValueError("loop=True needs a re-iterable source (a list or an array), not a generator")
            self._iter = iter(frames)
        self.loop = loop

    async def next_frame(self) -> Any:
        if self._async is not None:
            try:
                return await self._async.__anext__()
            except StopAsyncIteration:
                return None
        assert self._iter is not None
        item = await self._in_thread(next, self._iter, _END)
        if item is _END and self.loop:
            self._iter = iter(self._source)  # type: ignore[arg-type]
            item = await self._in_thread(next, self._iter, _END)
        return None if item is _END else item


class VideoFileTrack(PacedVideoTrack):
    """A video file decoded with PyAV; ``fps=None`` keeps the file's average frame rate."""

    def __init__(self, path: str | os.PathLike[str], fps: float | None = None, *, loop: bool = False) -> None:
        self.path = os.fspath(path)
        if not os.path.isfile(self.path):
            raise FileNotFoundError(f"no such video file: {self.path}")
        try:
            container = av.open(self.path)
        except av.FFmpegError as exc:
            raise ValueError(f"cannot open {self.path} as video: {exc}") from None
        if not container.streams.video:
            container.close()
            raise ValueError(f"{self.path} has no video stream")
        rate = container.streams.video[0].average_rate
        container.close()
        super().__init__(fps if fps is not None else (float(rate) if rate else 24.0))
        self.loop = loop
        self._container: Any = None
        self._frames: Iterator[Any] | None = None

    def _decode_one(self) -> Any:
        for _ in range(2):
            if self._frames is None:
                self._container = av.open(self.path)
                self._frames = self._container.decode(video=0)
            try:
                return next(self._frames).to_ndarray(format="rgb24")
            except StopIteration:
                self._close()
                if not self.loop:
                    return None
        return None

    def _close(self) -> None:
        if self._container is not None:
            self._container.close()
        self._container = None
        self._frames = None

    async def next_frame(self) -> Any:
        return await self._in_thread(self._decode_one)

    def _cleanup(self) -> None:
        self._close()


class FramesTrack(PacedVideoTrack):
    """Relays another session's frames (``other.frames``) at ``fps``: newest frame wins, repeated when idle."""

    def __init__(
        self, frames: FrameBuffer, fps: float = 24.0, *, first_frame_timeout: float | None = 30.0
    ) -> None:
        if not isinstance(frames, FrameBuffer):
            raise TypeError(
                f"FramesTrack needs a FrameBuffer (e.g. other_reactor.frames), got {type(frames).__name__}"
            )
        super().__init__(fps)
        self.buffer = frames
        self.first_frame_timeout = first_frame_timeout
        self._seq = -1
        self._last: Any = None

    async def next_frame(self) -> Any:
        if self._last is None:
            item = self.buffer.latest_ref() or await self.buffer.await_next(-1, self.first_frame_timeout)
            if item is None:
                return None
        else:
            item = self.buffer.latest_ref()
        if item is not None and item[1].seq != self._seq:
            self._seq = item[1].seq
            self._last = item[0]
        return self._last


class PushedFrameTrack(PacedVideoTrack):
    """Frames pushed from any thread (newest wins), repeated at ``fps``; black until the first push.

    A stalled producer (e.g. a browser tab in the background) never stalls the WebRTC sender:
    the track keeps sending its newest frame at its own pace.
    """

    def __init__(self, fps: float = 15.0, width: int = 640, height: int = 480) -> None:
        super().__init__(fps)
        self._lock = threading.Lock()
        self._frame: np.ndarray = np.zeros((height, width, 3), np.uint8)
        self.received = 0

    def push(self, frame: np.ndarray) -> None:
        """Replace the current frame with an (H, W, 3) uint8 RGB array (any thread)."""
        if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
            raise ValueError(f"expected an (H, W, 3) uint8 frame, got {frame.shape} {frame.dtype}")
        h, w = frame.shape[:2]
        if h % 2 or w % 2:  # yuv420p needs even dimensions
            frame = np.ascontiguousarray(frame[: h - h % 2, : w - w % 2])
        with self._lock:
            self._frame = frame
            self.received += 1

    async def next_frame(self) -> Any:
        with self._lock:
            return self._frame

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
blocks the SDK's event loop; frames are paced to ``fps`` on the 90 kHz video clock (:class:`~reactor_notebook.media.paced.PacedVideoTrack`).
"""

from __future__ import annotations

import os
import threading
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from typing import Any

import av
import numpy as np

from .frames import FrameBuffer
from .media import is_rgb_frame
from .media.paced import PacedVideoTrack, to_video_frame

# PacedVideoTrack and to_video_frame live in media.paced; re-exported here, where tracks were always found.
__all__ = ["ArrayTrack", "FramesTrack", "PacedVideoTrack", "VideoFileTrack", "to_video_frame"]

_END = object()


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
        """The next item of the (async) iterable, restarting a finite sequence when ``loop`` is set."""
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
        """The next decoded RGB frame, decoded on a worker thread so the event loop never waits."""
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
        """The buffer's newest frame, or the last one again when no new frame came in.
        Waits up to ``first_frame_timeout`` for the first frame; None (end of track) if none arrives."""
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
        if not is_rgb_frame(frame):
            raise ValueError(f"expected an (H, W, 3) uint8 frame, got {frame.shape} {frame.dtype}")
        h, w = frame.shape[:2]
        if h % 2 or w % 2:  # yuv420p needs even dimensions
            frame = np.ascontiguousarray(frame[: h - h % 2, : w - w % 2])
        with self._lock:
            self._frame = frame
            self.received += 1

    async def next_frame(self) -> Any:
        """The most recently pushed frame (black before the first push)."""
        with self._lock:
            return self._frame

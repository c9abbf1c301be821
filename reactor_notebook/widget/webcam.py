"""Browser webcam → model: an aiortc video track fed with frames the browser sends as JPEG.

The browser captures ``getUserMedia`` frames to a canvas, encodes JPEG and sends them as
binary custom messages at a capped rate under its own ack window. The kernel decodes each
one and hands it to :class:`BrowserVideoTrack`, which the SDK publishes as the model's input
track. The track keeps only the newest frame (latest wins) and repeats it at its own pace,
so a stalled browser never stalls the WebRTC sender.
"""

from __future__ import annotations

import asyncio
import threading
import time

import numpy as np
from aiortc.mediastreams import MediaStreamError, VideoStreamTrack
from av import VideoFrame

from ..media import VIDEO_CLOCK_RATE as CLOCK_RATE
from ..media import VIDEO_TIME_BASE as TIME_BASE
from .encode import Frame


class BrowserVideoTrack(VideoStreamTrack):
    """A video track whose frames are pushed from any thread (newest wins), paced at ``fps``."""

    def __init__(self, fps: float = 15.0, width: int = 640, height: int = 480) -> None:
        super().__init__()
        self.fps = float(fps)
        self._lock = threading.Lock()
        self._frame: Frame = np.zeros((height, width, 3), np.uint8)
        self.received = 0
        self.delivered = 0
        self._t0: float | None = None
        self._n = 0

    def push(self, frame: Frame) -> None:
        """Replace the current frame (called by the widget's comm handler, any thread)."""
        if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
            raise ValueError(f"expected an (H, W, 3) uint8 frame, got {frame.shape} {frame.dtype}")
        with self._lock:
            self._frame = frame
            self.received += 1

    async def recv(self) -> VideoFrame:
        """Next frame at the track's pace: the newest frame pushed (or black before the first)."""
        if self.readyState != "live":
            raise MediaStreamError
        now = time.monotonic()
        if self._t0 is None:
            self._t0 = now
        else:
            self._n += 1
            wait = self._t0 + self._n / self.fps - now
            if wait > 0:
                await asyncio.sleep(wait)
            elif wait < -1.0:  # fell far behind (loop was busy): resynchronise instead of bursting
                self._t0, self._n = now, 0
        with self._lock:
            frame = self._frame
        h, w = frame.shape[:2]
        if h % 2 or w % 2:  # yuv420p needs even dimensions
            frame = np.ascontiguousarray(frame[: h - h % 2, : w - w % 2])
        vf = VideoFrame.from_ndarray(frame, format="rgb24")
        vf.pts = int(self._n * CLOCK_RATE / self.fps)
        vf.time_base = TIME_BASE
        self.delivered += 1
        return vf

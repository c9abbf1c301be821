"""YUV → RGB conversion of decoded frames, one reusable single-threaded scaler per track.

``frame.to_ndarray(format="rgb24")`` builds a new reformatter for every frame, and PyAV 17+
gives each one swscale's automatic slice threads: two threads started per frame on the thread
that converts, and joined when the frame is freed (on the SDK loop). At 640x384 that costs
more than the conversion itself. :class:`RgbConverter` keeps one reformatter (scaler context)
and converts on the calling thread only, with the same pixels.
"""

from __future__ import annotations

import time
from typing import Any, cast

from av.video.reformatter import VideoReformatter

from ..media import Frame


class RgbConverter:
    """Converts decoded ``av.VideoFrame`` s to (H, W, 3) RGB uint8; use from one thread at a time."""

    def __init__(self) -> None:
        self._reformatter = VideoReformatter()
        self._threads_arg = True  # PyAV < 17 has no ``threads`` argument (and no slice threads)
        self.converted = 0

    def to_array(self, frame: Any) -> Frame:
        """The frame as an RGB array (a frame already in rgb24 is not converted again)."""
        if self._threads_arg:
            try:
                rgb = self._reformatter.reformat(frame, format="rgb24", threads=1)
            except TypeError:
                self._threads_arg = False
                rgb = self._reformatter.reformat(frame, format="rgb24")
        else:
            rgb = self._reformatter.reformat(frame, format="rgb24")
        self.converted += 1
        return cast(Frame, rgb.to_ndarray())  # rgb24: uint8 (H, W, 3)

    def __call__(self, frame: Any) -> tuple[Frame, float]:
        """(RGB array, ms taken): the ``convert`` hook of the reader's decoded-frame queue."""
        t0 = time.perf_counter()
        arr = self.to_array(frame)
        return arr, (time.perf_counter() - t0) * 1000.0


def to_rgb(frame: Any) -> tuple[Frame, float]:
    """Convert one decoded ``av.VideoFrame`` to RGB uint8 (H, W, 3); returns (array, ms taken)."""
    return RgbConverter()(frame)

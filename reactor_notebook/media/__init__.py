"""Media basics every layer shares: the frame type, the RTP video clock and the RGB frame check.

Needs only numpy (and the standard library), so ``frames``, the SDK, the runtime and the widget
can all import it. The paced aiortc video track lives apart in :mod:`.paced` (it needs aiortc).
"""

from __future__ import annotations

import fractions
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["VIDEO_CLOCK_RATE", "VIDEO_TIME_BASE", "Frame", "PtsClock", "as_rgb", "is_rgb_frame"]

Frame = NDArray[np.uint8]
"""One video frame: an (H, W, 3) uint8 RGB array."""

VIDEO_CLOCK_RATE = 90_000
"""The RTP clock of video (Hz): presentation timestamps and jitter are counted in its ticks."""

VIDEO_TIME_BASE = fractions.Fraction(1, VIDEO_CLOCK_RATE)
"""Seconds per tick of :data:`VIDEO_CLOCK_RATE`, the ``time_base`` of outgoing video frames."""


class PtsClock:
    """Presentation timestamps on :data:`VIDEO_CLOCK_RATE` from monotonic seconds, strictly increasing.

    ``start`` is the time stamped 0 (the first :meth:`stamp` unless set before); a pacer may move it.
    """

    def __init__(self) -> None:
        self.start: float | None = None
        self._last = -1

    def stamp(self, t: float) -> int:
        """The pts of time ``t``: ticks since ``start``, at least one more than the previous one."""
        if self.start is None:
            self.start = t
        pts = max(round((t - self.start) * VIDEO_CLOCK_RATE), self._last + 1)
        self._last = pts
        return pts


def is_rgb_frame(arr: NDArray[Any]) -> bool:
    """True for an (H, W, 3) uint8 array: the one frame shape models and tracks exchange."""
    return arr.ndim == 3 and arr.shape[2] == 3 and arr.dtype == np.uint8


def as_rgb(frame: Any, what: str = "frame") -> Frame:
    """Check and normalise a frame to a C-contiguous (H, W, 3) uint8 RGB array.

    Accepts (H, W, 3) RGB, (H, W, 4) RGBA (alpha dropped) and (H, W) grey (repeated to RGB), all
    uint8; anything else raises ValueError naming ``what`` and the shape or dtype it got.
    """
    arr = np.asarray(frame)
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] not in (3, 4):
        raise ValueError(f"a {what} must be (H, W, 3) RGB, got shape {arr.shape}")
    if arr.dtype != np.uint8:
        raise ValueError(f"a {what} must be uint8, got {arr.dtype} (convert with .astype(np.uint8))")
    if arr.shape[2] == 4:
        arr = arr[:, :, :3]
    return np.ascontiguousarray(arr)

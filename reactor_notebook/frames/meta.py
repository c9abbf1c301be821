"""What one received frame is: its pixels' type and the metadata the buffer stamps on arrival."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from ..profiles.helios import STATE_COLUMNS

Frame = NDArray[np.uint8]
MB = 1024 * 1024


@dataclass(frozen=True)
class FrameMeta:
    """Per-frame metadata; ``state`` is the model's last ``state`` message data when the frame arrived.

    ``frame``, ``chunk`` and ``prompt`` are this frame's own model frame index, chunk and latched
    prompt: exact when the runtime stamps frames with their index (our runtime's models; read from
    the pixels by the SDK), else the latest ``state`` message's values (which lag within a chunk).
    None where unknown, and for Helios's idle card before ``start``.
    """

    seq: int  # 0-based arrival counter of this buffer (monotonic, never reused)
    arrival: float  # time.time() at arrival
    arrival_mono: float  # time.monotonic() at arrival, for latency maths
    track: str
    width: int
    height: int
    frame_index: int | None = None  # model frame counter when known (e.g. Helios current_frame)
    latency_ms: float | None = None  # estimate of decode-to-arrival age, when the SDK knows it
    state: dict[str, Any] | None = None
    chunk: int | None = None  # the model chunk this frame belongs to
    prompt: str | None = None  # the prompt latched for that chunk

    @property
    def frame(self) -> int | None:
        """This frame's model frame index (Helios: frames generated since ``start``), or None."""
        return self.frame_index

    def as_row(self, state_columns: Sequence[str] = STATE_COLUMNS) -> dict[str, Any]:
        """Flat dict for tables: ``seq``/``time`` join with the timeline, ``state_columns`` from the state."""
        row: dict[str, Any] = {
            "seq": self.seq,
            "time": self.arrival,
            "arrival": self.arrival,
            "track": self.track,
            "width": self.width,
            "height": self.height,
            "frame_index": self.frame_index,
            "chunk": self.chunk,
            "prompt": self.prompt,
            "latency_ms": self.latency_ms,
        }
        st = self.state or {}
        for key in state_columns:
            row[key] = st.get(key)
        return row

    def __repr__(self) -> str:
        from ..reprs import meta_text

        return meta_text(self)

    def _repr_html_(self) -> str:
        from ..reprs import meta_html

        return meta_html(self)


class LiveFrame(NamedTuple):
    """A live frame and its metadata; unpacks as ``frame, meta``. ``frame`` is shared: copy before mutating."""

    frame: Frame
    meta: FrameMeta

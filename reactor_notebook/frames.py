"""Frames for analysis: a bounded ring buffer of received frames with metadata, and a timeline.

The SDK session pushes every decoded frame here (one decode, shared by analysis and the
widget's display pump); readers take copies only when they ask for them. Memory is bounded
by a frame count and a byte budget whatever the stream length. Thread-safe: the SDK pushes
from its event-loop thread while cells, the widget pump and comm handlers read from others.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

Frame = NDArray[np.uint8]


@dataclass(frozen=True)
class FrameMeta:
    """Per-frame metadata; ``state`` is the model's last ``state`` message data when the frame arrived."""

    seq: int  # 0-based arrival counter of this buffer (monotonic, never reused)
    arrival: float  # time.time() at arrival
    arrival_mono: float  # time.monotonic() at arrival, for latency maths
    track: str
    width: int
    height: int
    frame_index: int | None = None  # model frame counter when known (e.g. Helios current_frame)
    latency_ms: float | None = None  # estimate of decode-to-arrival age, when the SDK knows it
    state: dict[str, Any] | None = None

    def as_row(self) -> dict[str, Any]:
        row: dict[str, Any] = {
            "seq": self.seq,
            "arrival": self.arrival,
            "track": self.track,
            "width": self.width,
            "height": self.height,
            "frame_index": self.frame_index,
            "latency_ms": self.latency_ms,
        }
        st = self.state or {}
        for key in ("current_frame", "current_chunk", "current_prompt", "running", "paused"):
            row[key] = st.get(key)
        return row


@dataclass(frozen=True)
class TimelineEntry:
    """One thing that happened: a command sent, a message or event received, a status change."""

    time: float
    kind: str  # "command" | "message" | "event" | "state" | "status" | "error"
    name: str
    data: Any = None
    seq: int | None = field(default=None)  # frames.seq of the newest frame at that moment


class FrameBuffer:
    """Bounded ring of recent frames (by count and bytes) plus a bounded timeline."""

    def __init__(self, max_frames: int = 240, max_bytes: int | None = 512 * 1024 * 1024, timeline_size: int = 10000):
        if max_frames < 1:
            raise ValueError(f"max_frames must be >= 1, got {max_frames}")
        self.max_frames = max_frames
        self.max_bytes = max_bytes
        self._frames: deque[tuple[Frame, FrameMeta]] = deque()
        self._bytes = 0
        self._seq = -1
        self._cond = threading.Condition()
        self._timeline: deque[TimelineEntry] = deque(maxlen=timeline_size)
        self._state: dict[str, Any] | None = None
        self.dropped = 0  # frames evicted by the bounds

    # --- writer side (SDK) ---------------------------------------------------------------
    def push(
        self,
        frame: Frame,
        *,
        track: str = "main_video",
        frame_index: int | None = None,
        latency_ms: float | None = None,
        arrival_mono: float | None = None,
    ) -> FrameMeta:
        """Store a frame the caller will not mutate again (no copy is made)."""
        with self._cond:
            self._seq += 1
            h, w = frame.shape[:2]
            state = self._state
            if frame_index is None and state is not None and isinstance(state.get("current_frame"), int):
                frame_index = state["current_frame"]
            meta = FrameMeta(
                seq=self._seq,
                arrival=time.time(),
                arrival_mono=arrival_mono if arrival_mono is not None else time.monotonic(),
                track=track,
                width=w,
                height=h,
                frame_index=frame_index,
                latency_ms=latency_ms,
                state=state,
            )
            self._frames.append((frame, meta))
            self._bytes += frame.nbytes
            while len(self._frames) > self.max_frames or (
                self.max_bytes is not None and self._bytes > self.max_bytes and len(self._frames) > 1
            ):
                old, _ = self._frames.popleft()
                self._bytes -= old.nbytes
                self.dropped += 1
            self._cond.notify_all()
            return meta

    def set_state(self, state: dict[str, Any]) -> None:
        """Record the model's latest ``state`` data; later frames carry it in their metadata."""
        with self._cond:
            self._state = dict(state)
        self.add_event("state", "state", state)

    def add_event(self, kind: str, name: str, data: Any = None) -> None:
        """Append to the timeline (commands sent, messages, status changes, errors)."""
        with self._cond:
            self._timeline.append(TimelineEntry(time.time(), kind, name, data, self._seq if self._seq >= 0 else None))

    # --- reader side -----------------------------------------------------------------------
    @property
    def state(self) -> dict[str, Any] | None:
        with self._cond:
            return None if self._state is None else dict(self._state)

    @property
    def seq(self) -> int:
        """Sequence number of the newest frame (-1 before the first)."""
        with self._cond:
            return self._seq

    def __len__(self) -> int:
        with self._cond:
            return len(self._frames)

    @property
    def nbytes(self) -> int:
        with self._cond:
            return self._bytes

    def latest_ref(self) -> tuple[Frame, FrameMeta] | None:
        """The newest frame without copying (read-only by convention), or None."""
        with self._cond:
            return self._frames[-1] if self._frames else None

    def latest(self) -> Frame | None:
        """A copy of the newest frame, (H, W, 3) uint8, or None before the first frame."""
        ref = self.latest_ref()
        return None if ref is None else ref[0].copy()

    def wait_next(self, after_seq: int, timeout: float | None = None) -> tuple[Frame, FrameMeta] | None:
        """Block until a frame newer than ``after_seq`` exists; return the newest (latest wins)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._seq <= after_seq or not self._frames:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return None
                self._cond.wait(remaining)
            return self._frames[-1]

    def frames(self) -> list[tuple[Frame, FrameMeta]]:
        """Snapshot list of (frame, meta) currently held (frames not copied)."""
        with self._cond:
            return list(self._frames)

    def timeline_entries(self) -> list[TimelineEntry]:
        with self._cond:
            return list(self._timeline)

    def iter_live(self, timeout: float | None = 5.0) -> Iterator[tuple[Frame, FrameMeta]]:
        """Yield live frames, skipping any that arrived while the consumer was busy."""
        seq = self.seq
        while True:
            item = self.wait_next(seq, timeout)
            if item is None:
                return
            seq = item[1].seq
            yield item

    def clear(self) -> None:
        with self._cond:
            self._frames.clear()
            self._bytes = 0

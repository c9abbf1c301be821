"""``get_stats()``: WebRTC statistics (aiortc ``getStats`` + transport internals) plus our frame counters."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .reader import FrameTiming
from .types import ConnectionStats, ConnectionTimings

VIDEO_CLOCK_RATE = 90_000


def _num(x: Any) -> float | None:
    return float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) else None


def summarize_report(report: dict[str, Any]) -> dict[str, Any]:
    """Reduce an aiortc RTCStatsReport to rtt / jitter / loss / packet counts over inbound video."""
    rtt = jitter = None
    received = lost = 0
    seen_inbound = False
    for stat in report.values():
        kind = getattr(stat, "type", None)
        if kind == "remote-inbound-rtp":
            value = _num(getattr(stat, "roundTripTime", None))
            if value is not None:
                rtt = value * 1000.0
        elif kind == "inbound-rtp" and getattr(stat, "kind", None) == "video":
            seen_inbound = True
            received += int(getattr(stat, "packetsReceived", 0) or 0)
            lost += max(0, int(getattr(stat, "packetsLost", 0) or 0))
            j = _num(getattr(stat, "jitter", None))
            if j is not None:
                jitter = max(jitter or 0.0, j / VIDEO_CLOCK_RATE)
    total = received + lost
    return {
        "rtt": rtt,
        "jitter": jitter,
        "packet_loss_ratio": (lost / total) if total else (0.0 if seen_inbound else None),
        "packets_received": received if seen_inbound else None,
        "packets_lost": lost if seen_inbound else None,
    }


class FpsMeter:
    """Frames per second between two collections."""

    def __init__(self) -> None:
        self._last: tuple[float, int] | None = None
        self.value: float | None = None

    def update(self, frames_received: int) -> float | None:
        """The rate since the previous call (kept when called again within 0.2 s)."""
        now = time.monotonic()
        if self._last is not None:
            dt = now - self._last[0]
            if dt > 0.2:
                self.value = (frames_received - self._last[1]) / dt
                self._last = (now, frames_received)
        else:
            self._last = (now, frames_received)
        return self.value

    def reset(self) -> None:
        """Forget the previous sample (a new connection)."""
        self._last = None
        self.value = None


@dataclass
class FrameCounters:
    """The one place the session counts received frames and keeps the latest frame timings."""

    received: int = 0
    dropped: int = 0  # by the readers (latest frame wins); never decreases within a session's life
    decode_ms: float | None = None
    frame_age_ms: float | None = None
    convert_ms: float | None = None

    def on_frame(self, timing: FrameTiming) -> None:
        """Count one delivered frame and keep its timings (unknown ones keep the previous value)."""
        self.received += 1
        self.convert_ms = timing.convert_ms
        if timing.decode_ms is not None:
            self.decode_ms = timing.decode_ms
        if timing.age_ms is not None:
            self.frame_age_ms = timing.age_ms

    def as_stats(self, reader_drops: Iterable[int], callback_dropped: int) -> dict[str, Any]:
        """The frame part of ``get_stats()``; ``reader_drops`` are the live readers' drop counts."""
        self.dropped = max(self.dropped, sum(reader_drops))
        return {
            "frames_received": self.received,
            "frames_dropped": self.dropped,
            "callback_frames_dropped": callback_dropped,
            "decode_ms": self.decode_ms,
            "frame_age_ms": self.frame_age_ms,
            "convert_ms": self.convert_ms,
        }


def empty_stats() -> ConnectionStats:
    """Stats shape before anything is known."""
    return ConnectionStats(
        timestamp=time.time() * 1000.0,
        rtt=None,
        frames_per_second=None,
        jitter=None,
        packet_loss_ratio=None,
        candidate_type=None,
        available_outgoing_bitrate=None,
        connection_timings=None,
        frame_age_ms=None,
        decode_ms=None,
        convert_ms=None,
        frames_received=0,
        frames_dropped=0,
        callback_frames_dropped=0,
        packets_received=None,
        packets_lost=None,
    )


def timings_dict(timings: dict[str, float] | None) -> ConnectionTimings | None:
    """Handshake timings for ``connection_timings`` (ms rounded to µs), or None before any."""
    if not timings:
        return None
    return ConnectionTimings(**{k: round(v, 3) if isinstance(v, float) else v for k, v in timings.items()})  # type: ignore[typeddict-item]

"""Flow control of the display pump: the ack window, the quality ladder and the pump's tunables.

:class:`FlowWindow` and :class:`AdaptiveQuality` are pure state machines with the clock passed
in, so tests step them without sleeping; :class:`~reactor_notebook.widget.pump.FramePump` drives
them from its thread.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import KW_ONLY, dataclass, field

import numpy as np

# (JPEG quality, scale) from best to cheapest; the controller walks this ladder.
LEVELS: tuple[tuple[int, float], ...] = (
    (90, 1.0),
    (80, 1.0),
    (70, 1.0),
    (60, 1.0),
    (60, 0.75),
    (55, 0.5),
)
DEFAULT_LEVEL = 1


@dataclass
class PumpConfig:
    """Tunables of the pump; the defaults suit 640x384..1280x720 at 24-30 fps on loopback."""

    window: int = 4  # max frames in flight (sent, not yet acked)
    ack_timeout: float = 1.0  # upper bound (s) before an unacked frame counts as lost
    min_ack_timeout: float = 0.25  # lower bound of the RTT-adaptive deadline
    adaptive: bool = True
    level: int = DEFAULT_LEVEL  # start index into LEVELS
    max_fps: float | None = None  # cap on frames sent per second (None: source rate)
    skip_unchanged: bool = True  # don't resend a frame identical to the last one sent
    still_after: float | None = 0.5  # idle seconds before sending a lossless PNG still
    track: str | None = None  # only show this track (None: any)
    period: float = 1.0  # adaptation/stats period (s)
    stall_after: float | None = 5.0  # no ack for this long with a full window sent: probe only
    probe_interval: float = 2.0  # one frame per this many seconds while stalled

    def __post_init__(self) -> None:
        if int(self.window) < 1:
            raise ValueError(f"window must be >= 1, got {self.window}")
        if not self.ack_timeout > 0:
            raise ValueError(f"ack_timeout must be > 0, got {self.ack_timeout}")
        if not 0 <= self.level < len(LEVELS):
            raise ValueError(f"level must be 0..{len(LEVELS) - 1}, got {self.level}")
        if self.max_fps is not None and not self.max_fps > 0:
            raise ValueError(f"max_fps must be > 0 or None, got {self.max_fps}")


class FlowWindow:
    """Frames in flight keyed by id; a slot frees on ack, or when the frame is overdue (counted as lost).

    "Overdue" adapts to the measured round trip: 3x the recent p90, clamped to
    ``[min_timeout, timeout]``, so a stall (e.g. a cell blocking the shell) costs a few
    hundred ms per window instead of a full second, while a slow browser, whose acks
    come back late, pushes the deadline up again (late acks still feed the estimate).
    """

    def __init__(self, size: int = 4, timeout: float = 1.0, min_timeout: float = 0.25) -> None:
        self.size = size
        self.max_timeout = timeout
        self.min_timeout = min(min_timeout, timeout)
        self.in_flight: dict[int, float] = {}
        self.next_id = 1
        self.lost = 0
        self.acked = 0
        self.late_acks = 0
        self.duplicate_acks = 0
        self._expired: OrderedDict[int, float] = OrderedDict()
        self._rtts: deque[float] = deque(maxlen=32)

    @property
    def timeout(self) -> float:
        """Current overdue threshold in seconds."""
        if len(self._rtts) < 4:
            return self.max_timeout
        ordered = sorted(self._rtts)
        p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
        return min(self.max_timeout, max(self.min_timeout, 3.0 * p90))

    def expire(self, now: float) -> int:
        """Free the slots of overdue frames; return how many were declared lost."""
        timeout = self.timeout
        old = [i for i, t in self.in_flight.items() if now - t >= timeout]
        for i in old:
            self._expired[i] = self.in_flight.pop(i)
        while len(self._expired) > 256:
            self._expired.popitem(last=False)
        self.lost += len(old)
        return len(old)

    def has_room(self, now: float) -> bool:
        """Whether another frame may go out: frames past their loss deadline are dropped from the window first."""
        self.expire(now)
        return len(self.in_flight) < self.size

    def time_to_room(self, now: float) -> float:
        """Seconds until the oldest frame is overdue (0 if there is room already)."""
        if len(self.in_flight) < self.size:
            return 0.0
        oldest = min(self.in_flight.values())
        return max(0.0, oldest + self.timeout - now)

    def sent(self, now: float) -> int:
        """Register a sent frame; return its id."""
        fid = self.next_id
        self.next_id += 1
        self.in_flight[fid] = now
        return fid

    def ack(self, fid: int, now: float) -> float | None:
        """Acknowledge ``fid``; return its round trip in seconds, or None if unknown or a duplicate."""
        sent = self.in_flight.pop(fid, None)
        if sent is None:
            late = self._expired.pop(fid, None)
            if late is None:
                self.duplicate_acks += 1
                return None
            self.late_acks += 1  # drawn after all, just slower than the deadline
            self._rtts.append(now - late)
            return now - late
        self.acked += 1
        self._rtts.append(now - sent)
        # Frames sent before an acked one were delivered or dropped by the browser: free them too.
        for older in [i for i in self.in_flight if i < fid]:
            del self.in_flight[older]
        return now - sent

    def reset(self) -> None:
        """Forget everything in flight (a view (re)connected)."""
        self.in_flight.clear()
        self._expired.clear()


@dataclass
class AdaptiveQuality:
    """Walks :data:`LEVELS` down when the browser falls behind and back up when it keeps up."""

    level: int = DEFAULT_LEVEL
    _: KW_ONLY
    levels: tuple[tuple[int, float], ...] = LEVELS
    rtt_high_ms: float = 250.0
    rtt_low_ms: float = 120.0
    full_high: float = 0.5  # fraction of the period spent with a full window
    full_low: float = 0.15
    up_after: int = 3  # good periods in a row before one step better
    changes: int = field(default=0, init=False)
    _good: int = field(default=0, init=False, repr=False)

    @property
    def quality(self) -> int:
        """The JPEG quality of the current ladder level."""
        return self.levels[self.level][0]

    @property
    def scale(self) -> float:
        """The size factor of the current ladder level (1.0 = full size)."""
        return self.levels[self.level][1]

    def evaluate(self, *, full_fraction: float, rtt_ms: float | None, acked: int, lost: int) -> int:
        """One period's verdict: returns -1 (better), +1 (cheaper) or 0; updates ``level``."""
        if acked == 0:
            # No acks at all: the view is hidden or the shell is blocked; that says nothing about speed.
            self._good = 0
            return 0
        behind = (
            full_fraction > self.full_high or (rtt_ms is not None and rtt_ms > self.rtt_high_ms) or lost > 0
        )
        if behind:
            self._good = 0
            if self.level < len(self.levels) - 1:
                self.level += 1
                self.changes += 1
                return 1
            return 0
        keeping_up = full_fraction < self.full_low and (rtt_ms is None or rtt_ms < self.rtt_low_ms)
        if not keeping_up:
            self._good = 0
            return 0
        self._good += 1
        if self._good >= self.up_after and self.level > 0:
            self._good = 0
            self.level -= 1
            self.changes += 1
            return -1
        return 0


def percentile(values: list[float], q: float) -> float | None:
    """The ``q``-th percentile of ``values`` (None when empty)."""
    return float(np.percentile(values, q)) if values else None

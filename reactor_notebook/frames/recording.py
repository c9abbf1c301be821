"""Recordings: every live frame of one track from now on, for ``n`` frames and/or ``seconds``.

Unlike the ring's "latest wins" readers, a recording keeps every frame pushed while it runs,
bounded by a byte budget (``max_mb``); it stops early, with a warning, when the frame size changes
or the budget is reached.
"""

from __future__ import annotations

import asyncio
import threading
import time
import warnings
from collections.abc import Callable

import numpy as np

from .meta import MB, Frame, FrameMeta
from .ring import FrameRing, wake_soon

DEFAULT_RECORD_MB = 4096.0  # a recording holds at most this much frame data unless told otherwise
Recorded = Frame | tuple[Frame, list[FrameMeta]]


class Recorder:
    """Collects every frame of one track pushed between start and a count or time limit."""

    def __init__(
        self, n: int | None, seconds: float | None, track: str | None, start_mono: float, max_bytes: int | None
    ) -> None:
        self.n = n
        self.deadline = None if seconds is None else start_mono + seconds
        self.track = track
        self.max_bytes = max_bytes
        self.nbytes = 0
        self.items: list[tuple[Frame, FrameMeta]] = []
        self.shape: tuple[int, ...] | None = None
        self.stopped_early: str | None = None
        self.done = threading.Event()
        self.on_done: Callable[[], None] | None = None

    def offer(self, frame: Frame, meta: FrameMeta) -> None:
        """Called by ``push`` under the buffer lock; must stay cheap."""
        if self.done.is_set() or (self.track is not None and meta.track != self.track):
            return
        if self.deadline is not None and meta.arrival_mono >= self.deadline:
            self.finish()
            return
        if self.shape is None:
            self.shape, self.track = frame.shape, meta.track
        elif frame.shape != self.shape:
            self._stop(f"frame size changed from {self.shape} to {frame.shape} at seq {meta.seq}")
            return
        if self.max_bytes is not None and self.nbytes + frame.nbytes > self.max_bytes:
            self._stop(
                f"the recording reached its memory limit of {self.max_bytes / MB:.0f} MB "
                f"after {len(self.items)} frames (pass max_mb= to allow more)"
            )
            return
        self.nbytes += frame.nbytes
        self.items.append((frame, meta))
        if self.n is not None and len(self.items) >= self.n:
            self.finish()

    def _stop(self, reason: str) -> None:
        self.stopped_early = reason
        self.finish()

    def finish(self) -> None:
        """Mark the recording complete and wake whoever waits for it (idempotent)."""
        if not self.done.is_set():
            self.done.set()
            if self.on_done is not None:
                self.on_done()

    def wait_budget(self, timeout: float) -> float:
        """How long to wait: the timeout, or less when the time window ends first."""
        return timeout if self.deadline is None else min(timeout, max(0.0, self.deadline - time.monotonic()))


class Recording(FrameRing):
    """The ring plus ``record`` / ``arecord``."""

    def record(
        self,
        n: int | None = None,
        seconds: float | None = None,
        *,
        timeout: float | None = None,
        track: str | None = None,
        return_meta: bool = False,
        max_mb: float | None = DEFAULT_RECORD_MB,
    ) -> Recorded:
        """Capture every live frame from now on: ``n`` frames and/or ``seconds`` of stream → (N, H, W, 3).

        Blocks the calling thread (fine in a cell: frames arrive on the SDK's own thread).
        ``timeout`` (default ``seconds + 10`` or 30 s) bounds the wait for a stalled stream;
        ``max_mb`` bounds the frames held (the recording stops there with a warning).
        Use :meth:`arecord` inside a coroutine.
        """
        rec, wait = self._start_record(n, seconds, timeout, track, max_mb)
        if self._push_thread == threading.get_ident():
            self._stop_record(rec)
            raise RuntimeError(
                "record() would block the thread that delivers frames; use `await frames.arecord()`"
            )
        try:
            rec.done.wait(rec.wait_budget(wait))
            if not rec.done.is_set() and rec.deadline is not None and rec.items:
                rec.finish()  # the time window is over
        finally:
            self._stop_record(rec)
        return _recorded(rec, n, seconds, wait, return_meta)

    async def arecord(
        self,
        n: int | None = None,
        seconds: float | None = None,
        *,
        timeout: float | None = None,
        track: str | None = None,
        return_meta: bool = False,
        max_mb: float | None = DEFAULT_RECORD_MB,
    ) -> Recorded:
        """Awaitable :meth:`record` for any event loop; cancelling it stops the recording."""
        loop = asyncio.get_running_loop()
        rec, wait = self._start_record(n, seconds, timeout, track, max_mb, defer=True)
        fut: asyncio.Future[None] = loop.create_future()
        rec.on_done = lambda: wake_soon(loop, fut)
        with self._cond:
            self._recorders.append(rec)
        try:
            try:
                await asyncio.wait_for(fut, rec.wait_budget(wait))
            except asyncio.TimeoutError:
                if rec.deadline is not None and rec.items:
                    rec.finish()
        finally:
            self._stop_record(rec)
        return _recorded(rec, n, seconds, wait, return_meta)

    def _start_record(
        self,
        n: int | None,
        seconds: float | None,
        timeout: float | None,
        track: str | None,
        max_mb: float | None,
        defer: bool = False,
    ) -> tuple[Recorder, float]:
        _check_record_args(n, seconds, max_mb)
        if timeout is None:
            timeout = (seconds + 10.0) if seconds is not None else 30.0
        limit = None if max_mb is None else int(max_mb * MB)
        rec = Recorder(n, seconds, track, time.monotonic(), limit)
        if not defer:
            with self._cond:
                self._recorders.append(rec)
        return rec, float(timeout)

    def _stop_record(self, rec: Recorder) -> None:
        with self._cond:
            if rec in self._recorders:
                self._recorders.remove(rec)
            rec.done.set()


def _check_record_args(n: int | None, seconds: float | None, max_mb: float | None) -> None:
    if n is None and seconds is None:
        raise ValueError("record() needs n (frames) and/or seconds")
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise ValueError(f"n must be an integer >= 1, got {n!r}")
    if seconds is not None and (
        isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not seconds > 0
    ):
        raise ValueError(f"seconds must be a positive number, got {seconds!r}")
    if max_mb is not None and (isinstance(max_mb, bool) or not isinstance(max_mb, (int, float)) or max_mb <= 0):
        raise ValueError(f"max_mb must be a positive number or None, got {max_mb!r}")


def _recorded(rec: Recorder, n: int | None, seconds: float | None, timeout: float, return_meta: bool) -> Recorded:
    """The recording's array (and metas), or the error/warning saying why it is short."""
    items = rec.items
    if not items:
        window = f"the {seconds:g} s recording window" if seconds is not None else f"{timeout:g} s"
        raise TimeoutError(f"no frame arrived within {window}; is the session connected and streaming?")
    if n is not None and len(items) < n and rec.deadline is None and not rec.stopped_early:
        raise TimeoutError(
            f"recorded only {len(items)} of {n} frames within {timeout:g} s; the stream stalled "
            "(pass a larger timeout= or record seconds=)"
        )
    if rec.stopped_early:
        warnings.warn(f"recording stopped early: {rec.stopped_early}", RuntimeWarning, stacklevel=3)
    arr = np.stack([f for f, _ in items])
    return (arr, [m for _, m in items]) if return_meta else arr

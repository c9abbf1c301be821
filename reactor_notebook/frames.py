"""Frames for analysis: a bounded ring buffer of received frames with metadata, and a timeline.

The SDK session pushes every decoded frame here (one decode, shared by analysis and the
widget's display pump); readers take copies only when they ask for them. Memory is bounded
by a frame count and a byte budget whatever the stream length. Thread-safe: the SDK pushes
from its event-loop thread while cells, the widget pump and comm handlers read from others.

Analysis surface (all on :class:`FrameBuffer`, reachable as ``reactor.frames``):

* ``snapshot()`` → PIL image of the newest frame;
* ``record(n=None, seconds=None)`` / ``await arecord(...)`` → ``(N, H, W, 3)`` uint8 array of the
  *live* frames that arrive from now on (every frame, not latest-wins);
* ``iter()`` / ``async for frame, meta in frames`` → live frames, latest wins (a slow consumer skips);
* ``to_dataframe()`` / ``timeline()`` → pandas tables sharing ``seq`` and ``time`` columns;
* ``save_mp4`` / ``save_gif`` / ``save_npz`` (also module functions taking an array).
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import threading
import time
import warnings
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from PIL import Image

Frame = NDArray[np.uint8]
MB = 1024 * 1024
DEFAULT_FPS = 24.0
DEFAULT_RECORD_MB = 4096.0  # a recording holds at most this much frame data unless told otherwise
# Default ring: the last 5 s at 24 fps, at most 256 MB (88 MB at 640x384, ~92 frames = 3 s at 720p).
# Filling the ring is the SDK's whole steady memory cost (RSS grows by the ring, then stays flat);
# a larger ring costs that much more RAM and a longer page-faulting fill. ``configure()`` changes it.
DEFAULT_RING_FRAMES = 120
DEFAULT_RING_MB = 256
STATE_COLUMNS = ("current_frame", "current_chunk", "current_prompt", "running", "paused")


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

    def as_row(self) -> dict[str, Any]:
        """Flat dict for tables: ``seq``/``time`` join with the timeline, state fields as columns."""
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
        for key in STATE_COLUMNS:
            row[key] = st.get(key)
        return row

    def __repr__(self) -> str:
        from .reprs import meta_text

        return meta_text(self)

    def _repr_html_(self) -> str:
        from .reprs import meta_html

        return meta_html(self)


@dataclass(frozen=True)
class TimelineEntry:
    """One thing that happened: a command sent, a message or event received, a status change."""

    time: float
    kind: str  # "command" | "message" | "event" | "state" | "status" | "error"
    name: str
    data: Any = None
    seq: int | None = field(default=None)  # frames.seq of the newest frame at that moment

    def as_row(self) -> dict[str, Any]:
        """Flat dict for :meth:`FrameBuffer.timeline`."""
        return {"time": self.time, "seq": self.seq, "kind": self.kind, "name": self.name, "data": self.data}


class LiveFrame(NamedTuple):
    """A live frame and its metadata; unpacks as ``frame, meta``. ``frame`` is shared: copy before mutating."""

    frame: Frame
    meta: FrameMeta


def _require_pandas() -> Any:
    try:
        import pandas as pd
    except ImportError as exc:  # pragma: no cover - pandas is installed in the test env
        raise ImportError(
            "reactor_notebook tables need pandas, which is not installed; "
            "install it with: pip install reactor-notebook[pandas]"
        ) from exc
    return pd


class _Recorder:
    """Collects every frame of one track pushed between start and a count or time limit."""

    def __init__(
        self,
        n: int | None,
        seconds: float | None,
        track: str | None,
        start_mono: float,
        max_bytes: int | None,
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
        if self.done.is_set():
            return
        if self.track is not None and meta.track != self.track:
            return
        if self.deadline is not None and meta.arrival_mono >= self.deadline:
            self.finish()
            return
        if self.shape is None:
            self.shape, self.track = frame.shape, meta.track
        elif frame.shape != self.shape:
            self.stopped_early = f"frame size changed from {self.shape} to {frame.shape} at seq {meta.seq}"
            self.finish()
            return
        if self.max_bytes is not None and self.nbytes + frame.nbytes > self.max_bytes:
            self.stopped_early = (
                f"the recording reached its memory limit of {self.max_bytes / MB:.0f} MB "
                f"after {len(self.items)} frames (pass max_mb= to allow more)"
            )
            self.finish()
            return
        self.nbytes += frame.nbytes
        self.items.append((frame, meta))
        if self.n is not None and len(self.items) >= self.n:
            self.finish()

    def finish(self) -> None:
        if not self.done.is_set():
            self.done.set()
            if self.on_done is not None:
                self.on_done()


class FrameBuffer:
    """Bounded ring of recent frames (by count and bytes; default 120 frames, 256 MB) plus a bounded timeline."""

    def __init__(
        self,
        max_frames: int = DEFAULT_RING_FRAMES,
        max_bytes: int | None = DEFAULT_RING_MB * MB,
        timeline_size: int = 10000,
        *,
        max_mb: float | None = None,
    ):
        self._frames: deque[tuple[Frame, FrameMeta]] = deque()
        self._bytes = 0
        self._seq = -1
        self._cond = threading.Condition()
        self._timeline: deque[TimelineEntry] = deque(maxlen=timeline_size)
        self._state: dict[str, Any] | None = None
        self._recorders: list[_Recorder] = []
        self._async_waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self._push_thread: int | None = None
        self._closed = False
        self.max_frames = 1
        self.max_bytes: int | None = None  # None: bounded by count only
        self.evicted = 0  # oldest frames removed to keep the ring within its bounds (not lost in transit)
        if max_mb is not None:
            max_bytes = None  # max_mb replaces the default byte budget
        self.configure(max_frames=max_frames, max_bytes=max_bytes, max_mb=max_mb)

    @property
    def dropped(self) -> int:
        """Deprecated name of :attr:`evicted` (frames the ring removed to make room, not lost frames)."""
        warnings.warn(
            "FrameBuffer.dropped is deprecated: use FrameBuffer.evicted (frames the ring removed to make room)",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.evicted

    def __repr__(self) -> str:
        from .reprs import buffer_text

        return buffer_text(self)

    def _repr_html_(self) -> str:
        from .reprs import buffer_html

        return buffer_html(self)

    def configure(
        self, *, max_frames: int | None = None, max_mb: float | None = None, max_bytes: int | None = None
    ) -> FrameBuffer:
        """Change the bounds (frames and/or MB); applies at once, evicting the oldest frames."""
        if max_mb is not None and max_bytes is not None:
            raise ValueError("give max_mb or max_bytes, not both")
        if max_frames is not None:
            if isinstance(max_frames, bool) or not isinstance(max_frames, int) or max_frames < 1:
                raise ValueError(f"max_frames must be an integer >= 1, got {max_frames!r}")
        if max_mb is not None:
            if not isinstance(max_mb, (int, float)) or not math.isfinite(max_mb) or max_mb <= 0:
                raise ValueError(f"max_mb must be a positive number, got {max_mb!r}")
            max_bytes = int(max_mb * MB)
        if max_bytes is not None and max_bytes < 1:
            raise ValueError(f"max_bytes must be >= 1, got {max_bytes!r}")
        with self._cond:
            if max_frames is not None:
                self.max_frames = max_frames
            if max_bytes is not None or max_mb is not None:
                self.max_bytes = max_bytes
            self._evict()
        return self

    @property
    def max_mb(self) -> float | None:
        """The byte budget in MiB (None: bounded by count only)."""
        return None if self.max_bytes is None else self.max_bytes / MB

    # --- writer side (SDK) ---------------------------------------------------------------
    def push(
        self,
        frame: Frame,
        *,
        track: str = "main_video",
        frame_index: int | None = None,
        latency_ms: float | None = None,
        arrival_mono: float | None = None,
        chunk: int | None = None,
        prompt: str | None = None,
        exact: bool = False,
    ) -> FrameMeta:
        """Store a frame the caller will not mutate again (no copy is made).

        ``frame_index``/``chunk``/``prompt`` are the frame's own facts; with ``exact`` False, missing
        ones are filled from the latest ``state`` (the SDK passes ``exact`` when it read them per frame).
        """
        with self._cond:
            self._push_thread = threading.get_ident()
            self._closed = False
            self._seq += 1
            h, w = frame.shape[:2]
            state = self._state
            if not exact and state is not None:
                if frame_index is None and isinstance(state.get("current_frame"), int):
                    frame_index = state["current_frame"]
                if chunk is None and isinstance(state.get("current_chunk"), int):
                    chunk = state["current_chunk"]
                if prompt is None and isinstance(state.get("current_prompt"), str):
                    prompt = state["current_prompt"]
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
                chunk=chunk,
                prompt=prompt,
            )
            self._frames.append((frame, meta))
            self._bytes += frame.nbytes
            self._evict()
            for rec in self._recorders:
                rec.offer(frame, meta)
            self._wake()
            return meta

    def _evict(self) -> None:
        while len(self._frames) > self.max_frames or (
            self.max_bytes is not None and self._bytes > self.max_bytes and len(self._frames) > 1
        ):
            old, _ = self._frames.popleft()
            self._bytes -= old.nbytes
            self.evicted += 1

    def _wake(self) -> None:
        """Wake blocking and async waiters (caller holds the lock)."""
        self._cond.notify_all()
        waiters, self._async_waiters = self._async_waiters, []
        for loop, fut in waiters:
            try:
                loop.call_soon_threadsafe(_resolve, fut)
            except RuntimeError:  # that loop is closed; its waiter is gone
                pass

    def set_state(self, state: dict[str, Any]) -> None:
        """Record the model's latest ``state`` data; later frames carry it in their metadata."""
        with self._cond:
            self._state = dict(state)
        self.add_event("state", "state", state)
        with self._cond:
            self._cond.notify_all()

    def add_event(self, kind: str, name: str, data: Any = None) -> None:
        """Append to the timeline (commands sent, messages, status changes, errors).

        Long strings (base64 images) are stored as ``"<N chars>"`` so the timeline's memory stays
        bounded by its entry count.
        """
        data = _compact(data)
        with self._cond:
            self._timeline.append(
                TimelineEntry(time.time(), kind, name, data, self._seq if self._seq >= 0 else None)
            )

    def close(self) -> None:
        """End live iterators and pending waits (frames stay readable); ``push`` reopens."""
        with self._cond:
            self._closed = True
            for rec in self._recorders:
                rec.finish()
            self._wake()

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

    async def await_next(
        self, after_seq: int, timeout: float | None = None
    ) -> tuple[Frame, FrameMeta] | None:
        """Awaitable :meth:`wait_next` for any event loop (never blocks the loop)."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            with self._cond:
                if self._seq > after_seq and self._frames:
                    return self._frames[-1]
                if self._closed and self._seq <= after_seq:
                    return None
                fut: asyncio.Future[None] = loop.create_future()
                self._async_waiters.append((loop, fut))
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                self._drop_waiter(fut)
                return None
            try:
                await asyncio.wait_for(fut, remaining)
            except asyncio.TimeoutError:
                self._drop_waiter(fut)
                return None
            except BaseException:
                self._drop_waiter(fut)
                raise

    def _drop_waiter(self, fut: asyncio.Future[None]) -> None:
        with self._cond:
            self._async_waiters = [(lp, f) for lp, f in self._async_waiters if f is not fut]

    def wait_state(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float | None = 10.0
    ) -> dict[str, Any]:
        """Block until the model's ``state`` satisfies ``predicate``; TimeoutError names the last state."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while True:
                if self._state is not None and predicate(self._state):
                    return dict(self._state)
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    last = {k: (self._state or {}).get(k) for k in STATE_COLUMNS} if self._state else None
                    raise TimeoutError(
                        f"model state did not reach the condition within {timeout} s (last: {last})"
                    )
                self._cond.wait(remaining)

    def frames(self) -> list[tuple[Frame, FrameMeta]]:
        """Snapshot list of (frame, meta) currently held (frames not copied)."""
        with self._cond:
            return list(self._frames)

    def metas(self) -> list[FrameMeta]:
        """Metadata of the frames currently held, oldest first."""
        with self._cond:
            return [m for _, m in self._frames]

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

    def iter(self, timeout: float | None = 5.0) -> Iterator[LiveFrame]:
        """Live frames from now on, latest wins; ends after ``timeout`` s without a frame or on close()."""
        seq = self.seq
        while True:
            item = self._wait_open(seq, timeout)
            if item is None:
                return
            seq = item[1].seq
            yield LiveFrame(*item)

    def _wait_open(self, after_seq: int, timeout: float | None) -> tuple[Frame, FrameMeta] | None:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._seq <= after_seq or not self._frames:
                if self._closed:
                    return None
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return None
                self._cond.wait(remaining)
            return self._frames[-1]

    async def aiter(self, timeout: float | None = 5.0) -> AsyncIterator[LiveFrame]:
        """``async for frame, meta in frames.aiter()``: live frames, latest wins, from any event loop."""
        seq = self.seq
        while True:
            item = await self.await_next(seq, timeout)
            if item is None:
                return
            seq = item[1].seq
            yield LiveFrame(*item)

    def __aiter__(self) -> AsyncIterator[LiveFrame]:
        return self.aiter()

    def clear(self) -> None:
        with self._cond:
            self._frames.clear()
            self._bytes = 0

    # --- copies on request -------------------------------------------------------------------
    def snapshot(self, timeout: float | None = 5.0) -> Image.Image:
        """The newest frame as a PIL image (waits up to ``timeout`` s for a first frame)."""
        from PIL import Image

        ref = self.latest_ref() or self.wait_next(-1, timeout)
        if ref is None:
            raise TimeoutError(
                f"no frame arrived within {timeout} s; is the session connected and streaming?"
            )
        return Image.fromarray(np.ascontiguousarray(ref[0]), "RGB")

    def to_array(self, last: int | None = None, track: str | None = None) -> Frame:
        """Stack the held frames (the ``last`` n; one track, default the newest frame's) into a copy."""
        items = self.frames()
        if not items:
            raise ValueError("the frame buffer is empty; nothing to stack")
        track = track or items[-1][1].track
        items = [it for it in items if it[1].track == track]
        if last is not None:
            items = items[-last:] if last > 0 else []
        shape = items[-1][0].shape if items else None
        items = [it for it in items if it[0].shape == shape]
        if not items:
            raise ValueError(f"no frames of track {track!r} held")
        return np.stack([f for f, _ in items])

    def record(
        self,
        n: int | None = None,
        seconds: float | None = None,
        *,
        timeout: float | None = None,
        track: str | None = None,
        return_meta: bool = False,
        max_mb: float | None = DEFAULT_RECORD_MB,
    ) -> Frame | tuple[Frame, list[FrameMeta]]:
        """Capture every live frame from now on: ``n`` frames and/or ``seconds`` of stream → (N, H, W, 3).

        Blocks the calling thread (fine in a cell: frames arrive on the SDK's own thread).
        ``timeout`` (default ``seconds + 10`` or 30 s) bounds the wait for a stalled stream;
        ``max_mb`` bounds the frames held (the recording stops there with a warning).
        Use :meth:`arecord` inside a coroutine.
        """
        rec, timeout = self._start_record(n, seconds, timeout, track, max_mb)
        if self._push_thread == threading.get_ident():
            self._stop_record(rec)
            raise RuntimeError(
                "record() would block the thread that delivers frames; use `await frames.arecord()`"
            )
        try:
            wait = (
                timeout if rec.deadline is None else min(timeout, max(0.0, rec.deadline - time.monotonic()))
            )
            rec.done.wait(wait)
            if not rec.done.is_set() and rec.deadline is not None and rec.items:
                rec.finish()  # the time window is over
        finally:
            self._stop_record(rec)
        return self._recorded(rec, n, seconds, timeout, return_meta)

    async def arecord(
        self,
        n: int | None = None,
        seconds: float | None = None,
        *,
        timeout: float | None = None,
        track: str | None = None,
        return_meta: bool = False,
        max_mb: float | None = DEFAULT_RECORD_MB,
    ) -> Frame | tuple[Frame, list[FrameMeta]]:
        """Awaitable :meth:`record` for any event loop; cancelling it stops the recording."""
        loop = asyncio.get_running_loop()
        rec, timeout = self._start_record(n, seconds, timeout, track, max_mb, defer=True)
        fut: asyncio.Future[None] = loop.create_future()

        def wake() -> None:
            try:
                loop.call_soon_threadsafe(_resolve, fut)
            except RuntimeError:
                pass

        rec.on_done = wake
        with self._cond:
            self._recorders.append(rec)
        try:
            wait = (
                timeout if rec.deadline is None else min(timeout, max(0.0, rec.deadline - time.monotonic()))
            )
            try:
                await asyncio.wait_for(fut, wait)
            except asyncio.TimeoutError:
                if rec.deadline is not None and rec.items:
                    rec.finish()
        finally:
            self._stop_record(rec)
        return self._recorded(rec, n, seconds, timeout, return_meta)

    def _start_record(
        self,
        n: int | None,
        seconds: float | None,
        timeout: float | None,
        track: str | None,
        max_mb: float | None,
        defer: bool = False,
    ) -> tuple[_Recorder, float]:
        if n is None and seconds is None:
            raise ValueError("record() needs n (frames) and/or seconds")
        if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
            raise ValueError(f"n must be an integer >= 1, got {n!r}")
        if seconds is not None and (
            isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not seconds > 0
        ):
            raise ValueError(f"seconds must be a positive number, got {seconds!r}")
        if max_mb is not None and (
            isinstance(max_mb, bool) or not isinstance(max_mb, (int, float)) or max_mb <= 0
        ):
            raise ValueError(f"max_mb must be a positive number or None, got {max_mb!r}")
        if timeout is None:
            timeout = (seconds + 10.0) if seconds is not None else 30.0
        limit = None if max_mb is None else int(max_mb * MB)
        rec = _Recorder(n, seconds, track, time.monotonic(), limit)
        if not defer:
            with self._cond:
                self._recorders.append(rec)
        return rec, float(timeout)

    def _stop_record(self, rec: _Recorder) -> None:
        with self._cond:
            if rec in self._recorders:
                self._recorders.remove(rec)
            rec.done.set()

    def _recorded(
        self, rec: _Recorder, n: int | None, seconds: float | None, timeout: float, return_meta: bool
    ) -> Frame | tuple[Frame, list[FrameMeta]]:
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

    # --- tables ----------------------------------------------------------------------------
    def to_dataframe(self, metas: Iterable[FrameMeta] | None = None) -> pd.DataFrame:
        """Frame metadata (held frames, or the given metas e.g. from ``record(return_meta=True)``) as a table."""
        pd = _require_pandas()
        rows = [m.as_row() for m in (self.metas() if metas is None else metas)]
        columns = list(FrameMeta(0, 0.0, 0.0, "", 0, 0).as_row())
        df = pd.DataFrame(rows, columns=columns)
        return _with_datetimes(pd, df)

    def timeline(self) -> pd.DataFrame:
        """Commands, messages, events, state and status changes with timestamps.

        Shares ``time`` (UTC pandas datetimes; ``epoch`` has the seconds) and ``seq`` (newest frame at that moment) with
        :meth:`to_dataframe`, so ``pd.merge_asof`` or a ``seq`` join lines them up.
        ``event`` names application events of both Helios message families: the legacy
        ``data.event`` (``prompt_switched``) or the typed message type (``chunk_complete``).
        """
        pd = _require_pandas()
        rows = [e.as_row() for e in self.timeline_entries()]
        for row in rows:
            row["event"] = _event_name(row["kind"], row["name"], row["data"])
        df = pd.DataFrame(rows, columns=["time", "seq", "kind", "name", "event", "data"])
        df["seq"] = df["seq"].astype("Int64")
        return _with_datetimes(pd, df)

    # --- export ------------------------------------------------------------------------------
    def estimated_fps(self) -> float | None:
        """Frame rate measured from the held frames' arrival times (median interval), or None."""
        metas = self.metas()
        if len(metas) < 3:
            return None
        gaps = np.diff([m.arrival_mono for m in metas])
        gaps = gaps[gaps > 0]
        if not len(gaps):
            return None
        return float(1.0 / np.median(gaps))

    def save_mp4(self, path: str | os.PathLike[str], fps: float | None = None, *, crf: int = 18) -> str:
        """Encode the held frames (oldest first) to H.264 MP4 at ``path``; returns the path.

        ``fps`` defaults to the measured arrival rate, ``crf`` is x264's quality (lower: better,
        larger). Raises ValueError when the buffer is empty, and an OSError naming the path, the
        cause and a fix when the file cannot be written (missing directory, no permission).
        """
        return save_mp4(self.to_array(), path, fps=fps or self.estimated_fps() or DEFAULT_FPS, crf=crf)

    def save_gif(self, path: str | os.PathLike[str], fps: float | None = None) -> str:
        """Encode the held frames to an animated GIF at ``path``; same ``fps`` and errors as :meth:`save_mp4`."""
        return save_gif(self.to_array(), path, fps=fps or self.estimated_fps() or DEFAULT_FPS)

    def save_npz(self, path: str | os.PathLike[str], *, compressed: bool = False) -> str:
        """Save held frames, their metadata columns and the timeline (JSON) to one ``.npz``."""
        items = self.frames()
        if not items:
            raise ValueError("the frame buffer is empty; nothing to save")
        track = items[-1][1].track
        shape = items[-1][0].shape
        items = [it for it in items if it[1].track == track and it[0].shape == shape]
        return save_npz(
            np.stack([f for f, _ in items]),
            path,
            metas=[m for _, m in items],
            timeline=self.timeline_entries(),
            compressed=compressed,
        )


MAX_TIMELINE_STRING = 2048


def _compact(data: Any) -> Any:
    """Replace long strings (top level or one dict level) by a ``"<N chars>"`` placeholder."""
    if isinstance(data, str) and len(data) > MAX_TIMELINE_STRING:
        return f"<{len(data)} chars>"
    if isinstance(data, dict) and any(
        isinstance(v, str) and len(v) > MAX_TIMELINE_STRING for v in data.values()
    ):
        return {k: _compact(v) if isinstance(v, str) else v for k, v in data.items()}
    return data


def _with_datetimes(pd: Any, df: Any) -> Any:
    """``time`` as UTC pandas datetimes (readable, joinable), epoch seconds kept as ``epoch``."""
    df.insert(df.columns.get_loc("time") + 1, "epoch", df["time"].astype("float64"))
    df["time"] = pd.to_datetime(df["epoch"], unit="s", utc=True)
    df["datetime"] = df["time"]  # the former name of the datetime column
    return df


def _event_name(kind: str, name: str, data: Any) -> str | None:
    """The application event a timeline row stands for, whichever message family carried it."""
    if isinstance(data, dict) and isinstance(data.get("event"), str):
        return data["event"]
    if kind == "message" and name not in ("raw", "event"):
        return name.removeprefix("event:")
    return None


def _resolve(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


# ---------------------------------------------------------------------------------------------
# Export helpers for arrays (also used by the buffer methods)
# ---------------------------------------------------------------------------------------------
def _as_video(frames: Frame | Sequence[Frame]) -> Frame:
    arr = np.asarray(frames) if not isinstance(frames, np.ndarray) else frames
    if arr.ndim == 3:
        arr = arr[None]
    if arr.ndim != 4 or arr.shape[-1] != 3:
        raise ValueError(f"expected frames shaped (N, H, W, 3), got {arr.shape}")
    if arr.dtype != np.uint8:
        raise ValueError(f"expected uint8 frames, got {arr.dtype}")
    if arr.shape[0] == 0:
        raise ValueError("no frames to save")
    return arr


def _fps_fraction(fps: float) -> Any:
    from fractions import Fraction

    if not (isinstance(fps, (int, float)) and math.isfinite(fps) and fps > 0):
        raise ValueError(f"fps must be a positive number, got {fps!r}")
    return Fraction(fps).limit_denominator(1001)


def save_mp4(
    frames: Frame | Sequence[Frame], path: str | os.PathLike[str], fps: float = DEFAULT_FPS, *, crf: int = 18
) -> str:
    """Encode ``(N, H, W, 3)`` uint8 frames to H.264 (yuv420p) MP4 with PyAV; odd sizes are padded."""
    import av

    from .exporting import open_writer

    arr = _as_video(frames)
    n, h, w, _ = arr.shape
    ph, pw = h + (h & 1), w + (w & 1)
    path = os.fspath(path)
    with open_writer(path, "save_mp4") as container:
        stream = container.add_stream("libx264", rate=_fps_fraction(fps))
        stream.width, stream.height = pw, ph
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": str(crf), "preset": "veryfast"}
        buf = np.zeros((ph, pw, 3), np.uint8) if (ph, pw) != (h, w) else None
        for i in range(n):
            img = arr[i]
            if buf is not None:
                buf[:h, :w] = img
                img = buf
            for packet in stream.encode(
                av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")
            ):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def save_gif(frames: Frame | Sequence[Frame], path: str | os.PathLike[str], fps: float = DEFAULT_FPS) -> str:
    """Encode frames to an animated GIF with PyAV (palette per frame)."""
    import av

    from .exporting import open_writer

    arr = _as_video(frames)
    path = os.fspath(path)
    with open_writer(path, "save_gif", format="gif") as container:
        stream = container.add_stream("gif", rate=_fps_fraction(fps))
        stream.width, stream.height = arr.shape[2], arr.shape[1]
        stream.pix_fmt = "rgb8"
        for img in arr:
            vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24").reformat(format="rgb8")
            for packet in stream.encode(vf):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def read_video(path: str | os.PathLike[str]) -> Frame:
    """Decode a video file (mp4, gif, ...) to ``(N, H, W, 3)`` uint8 RGB with PyAV."""
    import av

    with av.open(os.fspath(path)) as container:
        out = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    if not out:
        raise ValueError(f"{os.fspath(path)!r} holds no video frames")
    return np.stack(out)


def save_npz(
    frames: Frame | Sequence[Frame],
    path: str | os.PathLike[str],
    *,
    metas: Sequence[FrameMeta] | None = None,
    timeline: Sequence[TimelineEntry] | None = None,
    compressed: bool = False,
) -> str:
    """Save frames (+ per-frame metadata columns and the timeline as JSON) to ``.npz``."""
    arr = _as_video(frames)
    payload: dict[str, Any] = {"frames": arr}
    if metas is not None:
        if len(metas) != len(arr):
            raise ValueError(f"{len(metas)} metadata rows for {len(arr)} frames")
        rows = [m.as_row() for m in metas]
        for key in rows[0] if rows else ():
            col = [r[key] for r in rows]
            if all(isinstance(v, (int, float, bool)) and not isinstance(v, bool) for v in col):
                payload[f"meta_{key}"] = np.asarray(col)
            else:
                payload[f"meta_{key}"] = np.asarray([json.dumps(v, default=str) for v in col])
    if timeline is not None:
        payload["timeline_json"] = np.asarray(json.dumps([e.as_row() for e in timeline], default=str))
    path = os.fspath(path)
    (np.savez_compressed if compressed else np.savez)(path, **payload)
    return path if path.endswith(".npz") else path + ".npz"


def load_npz(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a :func:`save_npz` file: ``frames`` array, ``meta`` dict of columns, ``timeline`` list."""
    with np.load(os.fspath(path), allow_pickle=False) as data:
        out: dict[str, Any] = {"frames": data["frames"], "meta": {}, "timeline": []}
        for key in data.files:
            if key.startswith("meta_"):
                col = data[key]
                if col.dtype.kind == "U":
                    out["meta"][key[5:]] = [json.loads(v) for v in col.tolist()]
                else:
                    out["meta"][key[5:]] = col
        if "timeline_json" in data.files:
            out["timeline"] = json.loads(str(data["timeline_json"]))
    return out

"""The ring of recent frames: bounded by count and bytes, thread-safe, with blocking and async waits.

The SDK pushes every decoded frame here from its event-loop thread (no copy); cells, the widget's
display pump and comm handlers read from other threads. "Latest wins" readers (``wait_next``,
``iter``, ``aiter``) skip frames that arrived while they were busy; recordings (``recording.py``)
see every frame.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
import warnings
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, Protocol

from ..profiles import ClientProfile, profile_for
from ..profiles.helios import HELIOS
from .meta import MB, Frame, FrameMeta, LiveFrame
from .timeline import TimelineEntry, compact

# Default ring: the last 5 s at 24 fps, at most 256 MB (88 MB at 640x384, ~92 frames = 3 s at 720p).
# Filling the ring is the SDK's whole steady memory cost (RSS grows by the ring, then stays flat);
# a larger ring costs that much more RAM and a longer page-faulting fill. ``configure()`` changes it.
DEFAULT_RING_FRAMES = 120
DEFAULT_RING_MB = 256
Item = tuple[Frame, FrameMeta]


class RecorderLike(Protocol):
    """What the ring offers each pushed frame to (see ``recording.Recorder``)."""

    def offer(self, frame: Frame, meta: FrameMeta) -> None:
        """Take one pushed frame; called under the ring's lock, so it must stay cheap."""

    def finish(self) -> None:
        """The recording is complete: wake whoever waits for it (idempotent)."""


class FrameRing:
    """Bounded ring of recent frames (by count and bytes; default 120 frames, 256 MB) plus a bounded timeline.

    ``profile`` (a :class:`~reactor_notebook.profiles.ClientProfile` or a model name) says which
    ``state`` keys fill a frame's index, chunk and prompt and which become table columns; the
    default is Helios's, the product's flagship model.
    """

    def __init__(
        self,
        max_frames: int = DEFAULT_RING_FRAMES,
        max_bytes: int | None = DEFAULT_RING_MB * MB,
        timeline_size: int = 10000,
        *,
        max_mb: float | None = None,
        profile: ClientProfile | str | None = None,
    ):
        self._frames: deque[Item] = deque()
        self._bytes = 0
        self._seq = -1
        self._cond = threading.Condition()
        self._timeline: deque[TimelineEntry] = deque(maxlen=timeline_size)
        self._state: dict[str, Any] | None = None
        self._recorders: list[RecorderLike] = []
        self._async_waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self._push_thread: int | None = None
        self._closed = False
        self.profile: ClientProfile = HELIOS
        self.max_frames = 1
        self.max_bytes: int | None = None  # None: bounded by count only
        self.evicted = 0  # oldest frames removed to keep the ring within its bounds (not lost in transit)
        if max_mb is not None:
            max_bytes = None  # max_mb replaces the default byte budget
        self.configure(max_frames=max_frames, max_bytes=max_bytes, max_mb=max_mb, profile=profile)

    @property
    def dropped(self) -> int:
        """Deprecated name of :attr:`evicted` (frames the ring removed to make room, not lost frames)."""
        warnings.warn(
            "FrameBuffer.dropped is deprecated: use FrameBuffer.evicted (frames the ring removed to make room)",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.evicted

    def configure(
        self,
        *,
        max_frames: int | None = None,
        max_mb: float | None = None,
        max_bytes: int | None = None,
        profile: ClientProfile | str | None = None,
    ) -> FrameRing:
        """Change the bounds (frames and/or MB) or the model profile; applies at once, evicting the oldest frames."""
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
            if profile is not None:
                self.profile = profile_for(profile) if isinstance(profile, str) else profile
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
            state = self._state
            if not exact and state is not None:
                s_frame, s_chunk, s_prompt = self.profile.counters(state)
                frame_index = s_frame if frame_index is None else frame_index
                chunk = s_chunk if chunk is None else chunk
                prompt = s_prompt if prompt is None else prompt
            h, w = frame.shape[:2]
            meta = FrameMeta(
                self._seq, time.time(), time.monotonic() if arrival_mono is None else arrival_mono,
                track, w, h, frame_index, latency_ms, state, chunk, prompt,
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
            wake_soon(loop, fut)

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
        data = compact(data)
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
        """A copy of the model's latest ``state`` data, or None before the first."""
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
        """Bytes of frame data held."""
        with self._cond:
            return self._bytes

    def latest_ref(self) -> Item | None:
        """The newest frame without copying (read-only by convention), or None."""
        with self._cond:
            return self._frames[-1] if self._frames else None

    def latest(self) -> Frame | None:
        """A copy of the newest frame, (H, W, 3) uint8, or None before the first frame."""
        ref = self.latest_ref()
        return None if ref is None else ref[0].copy()

    def wait_next(self, after_seq: int, timeout: float | None = None) -> Item | None:
        """Block until a frame newer than ``after_seq`` exists; return the newest (latest wins)."""
        return self._wait_newer(after_seq, timeout, stop_on_close=False)

    def _wait_newer(self, after_seq: int, timeout: float | None, *, stop_on_close: bool) -> Item | None:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._seq <= after_seq or not self._frames:
                if stop_on_close and self._closed:
                    return None
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return None
                self._cond.wait(remaining)
            return self._frames[-1]

    async def await_next(self, after_seq: int, timeout: float | None = None) -> Item | None:
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
                    raise TimeoutError(
                        f"model state did not reach the condition within {timeout} s (last: {self._last_state()})"
                    )
                self._cond.wait(remaining)

    def _last_state(self) -> dict[str, Any] | None:
        """The latest state for an error message: the profile's columns, or all of it (generic models)."""
        if not self._state:
            return None
        keys = self.profile.state_columns or tuple(self._state)
        return {k: self._state.get(k) for k in keys}

    def frames(self) -> list[Item]:
        """Snapshot list of (frame, meta) currently held (frames not copied)."""
        with self._cond:
            return list(self._frames)

    def metas(self) -> list[FrameMeta]:
        """Metadata of the frames currently held, oldest first."""
        with self._cond:
            return [m for _, m in self._frames]

    def timeline_entries(self) -> list[TimelineEntry]:
        """The timeline's entries, oldest first."""
        with self._cond:
            return list(self._timeline)

    def iter_live(self, timeout: float | None = 5.0) -> Iterator[Item]:
        """Yield live frames, skipping any that arrived while the consumer was busy."""
        seq = self.seq
        while (item := self.wait_next(seq, timeout)) is not None:
            seq = item[1].seq
            yield item

    def iter(self, timeout: float | None = 5.0) -> Iterator[LiveFrame]:
        """Live frames from now on, latest wins; ends after ``timeout`` s without a frame or on close()."""
        seq = self.seq
        while (item := self._wait_newer(seq, timeout, stop_on_close=True)) is not None:
            seq = item[1].seq
            yield LiveFrame(*item)

    async def aiter(self, timeout: float | None = 5.0) -> AsyncIterator[LiveFrame]:
        """``async for frame, meta in frames.aiter()``: live frames, latest wins, from any event loop."""
        seq = self.seq
        while (item := await self.await_next(seq, timeout)) is not None:
            seq = item[1].seq
            yield LiveFrame(*item)

    def __aiter__(self) -> AsyncIterator[LiveFrame]:
        return self.aiter()

    def clear(self) -> None:
        """Forget the held frames (the timeline and state stay)."""
        with self._cond:
            self._frames.clear()
            self._bytes = 0


def wake_soon(loop: asyncio.AbstractEventLoop, fut: asyncio.Future[None]) -> None:
    """Resolve ``fut`` on its own loop from any thread; a closed loop's waiter is gone already."""
    try:
        loop.call_soon_threadsafe(_resolve, fut)
    except RuntimeError:
        pass


def _resolve(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)

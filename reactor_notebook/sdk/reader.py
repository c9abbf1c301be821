"""Receiving video: a reader per remote track and the frame-callback dispatcher thread.

:class:`FrameReader` drains aiortc's decoded-frame queue continuously (it never grows: when
the consumer is slow it skips to the newest decoded frame and counts the drops), converts
each kept frame ONCE to an (H, W, 3) RGB uint8 array on a worker thread (so the SDK loop
stays free) and hands it on. :class:`CallbackDispatcher` runs user frame callbacks on their
own thread, latest frame wins, so a slow callback never stalls the reader; a callback that
raises is reported and never stops the stream.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from numpy.typing import NDArray

logger = logging.getLogger(__name__)

Frame = NDArray[np.uint8]


@dataclass
class ReaderStats:
    """Counters of one reader (read by ``get_stats``)."""

    frames_received: int = 0  # frames converted and delivered
    frames_dropped: int = 0  # decoded frames skipped because a newer one was already waiting
    convert_errors: int = 0
    last_convert_ms: float | None = None
    avg_convert_ms: float | None = None
    last_age_ms: float | None = None  # decoder output → delivered to the consumer
    last_decode_ms: float | None = None  # handed to the decoder → decoded (incl. decoder queue wait)


@dataclass(frozen=True)
class FrameTiming:
    """Timing of one delivered frame, in ms (None when aiortc's internals could not be hooked)."""

    convert_ms: float  # YUV → RGB conversion
    decode_ms: float | None  # encoded frame released by the jitter buffer → decoded frame out
    age_ms: float | None  # decoded frame out → delivered (queueing + conversion)
    last_arrival: float | None = None  # time.monotonic()


class StampedQueue(asyncio.Queue):  # type: ignore[type-arg]
    """aiortc's decoded-frame queue, remembering when each frame left the decoder (``time.monotonic``)."""

    def __init__(self) -> None:
        super().__init__()
        self._stamps: deque[float] = deque()
        self.last_stamp: float | None = None

    def _put(self, item: Any) -> None:
        super()._put(item)  # type: ignore[misc]
        self._stamps.append(time.monotonic())

    def _get(self) -> Any:
        item = super()._get()  # type: ignore[misc]
        self.last_stamp = self._stamps.popleft() if self._stamps else None
        return item


def install_stamps(track: MediaStreamTrack, receiver: Any) -> bool:
    """Give a fresh aiortc remote track a :class:`StampedQueue` (before its decoder thread starts)."""
    queue = getattr(track, "_queue", None)
    if (
        type(queue) is asyncio.Queue
        and queue.empty()
        and getattr(receiver, "_RTCRtpReceiver__decoder_thread", "missing") is None
    ):
        track._queue = StampedQueue()  # type: ignore[attr-defined]
        return True
    return False


def to_rgb(frame: Any) -> tuple[Frame, float]:
    """Convert one decoded ``av.VideoFrame`` to RGB uint8 (H, W, 3); returns (array, ms taken)."""
    t0 = time.perf_counter()
    arr = frame.to_ndarray(format="rgb24")
    return arr, (time.perf_counter() - t0) * 1000.0


class FrameReader:
    """Drains one remote video track and delivers each kept frame as an RGB array."""

    def __init__(
        self,
        track: MediaStreamTrack,
        name: str,
        deliver: Callable[[Frame, str, FrameTiming], None],
        on_end: Callable[[str], None] | None = None,
        released_at: Callable[[int | None], float | None] | None = None,
    ) -> None:
        self.track = track
        self.name = name
        self.stats = ReaderStats()
        self._deliver = deliver
        self._on_end = on_end
        self._released_at = released_at
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"reactor-rgb-{name}")
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"reactor-reader-{self.name}")

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def _newest(self, frame: Any) -> tuple[Any, bool]:
        """Skip to the newest already-decoded frame; returns (frame, track_ended)."""
        queue: asyncio.Queue[Any] | None = getattr(self.track, "_queue", None)
        if queue is None:
            return frame, False
        while not queue.empty():
            nxt = queue.get_nowait()
            if nxt is None:  # aiortc's end-of-track sentinel
                return frame, True
            self.stats.frames_dropped += 1
            frame = nxt
        return frame, False

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        ended = False
        try:
            while not ended:
                try:
                    frame = await self.track.recv()
                except MediaStreamError:
                    break
                frame, ended = self._newest(frame)
                stamp = getattr(getattr(self.track, "_queue", None), "last_stamp", None)
                released = self._released_at(frame.pts) if self._released_at is not None else None
                try:
                    arr, ms = await loop.run_in_executor(self._executor, to_rgb, frame)
                except Exception as exc:  # one bad frame must not end the stream
                    self.stats.convert_errors += 1
                    if self.stats.convert_errors == 1 or self.stats.convert_errors % 100 == 0:
                        logger.warning(
                            "track %r: frame conversion failed (%d so far): %s",
                            self.name,
                            self.stats.convert_errors,
                            exc,
                        )
                    continue
                arr.flags.writeable = False  # shared by reactor.frames and every callback: copy to modify
                st = self.stats
                st.frames_received += 1
                st.last_convert_ms = ms
                st.avg_convert_ms = ms if st.avg_convert_ms is None else 0.9 * st.avg_convert_ms + 0.1 * ms
                st.last_arrival = now = time.monotonic()
                st.last_age_ms = None if stamp is None else (now - stamp) * 1000.0
                st.last_decode_ms = None if stamp is None or released is None else (stamp - released) * 1000.0
                try:
                    self._deliver(arr, self.name, FrameTiming(ms, st.last_decode_ms, st.last_age_ms))
                except Exception:  # a consumer bug must not end the stream
                    logger.exception("frame consumer failed for track %r", self.name)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("frame reader for track %r stopped", self.name)
        finally:
            self._executor.shutdown(wait=False, cancel_futures=True)
            if self._on_end is not None:
                self._on_end(self.name)

    async def stop(self) -> None:
        """Cancel the reader and wait for it to finish."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass


class CallbackDispatcher:
    """Runs frame callbacks on a dedicated thread, latest frame wins.

    ``stop()`` never blocks the caller (it runs on the SDK loop): a callback still running
    finishes on its own and its thread then exits; a later ``submit`` starts a fresh thread.
    """

    def __init__(self, on_error: Callable[[BaseException, Callable[..., Any]], None]) -> None:
        self._on_error = on_error
        self._callbacks: list[Callable[[Frame], Any]] = []
        self._cond = threading.Condition()
        self._slot: Frame | None = None
        self._thread: threading.Thread | None = None
        self._generation = 0
        self.dropped = 0  # frames replaced before a slow callback took them
        self.delivered = 0

    def set_callbacks(self, callbacks: list[Callable[[Frame], Any]]) -> None:
        with self._cond:
            self._callbacks = list(callbacks)

    def submit(self, frame: Frame) -> None:
        """Offer a frame (any thread); a frame not yet taken is replaced and counted as dropped."""
        with self._cond:
            if not self._callbacks:
                return
            if self._slot is not None:
                self.dropped += 1
            self._slot = frame
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, args=(self._generation,), name="reactor-frame-callbacks", daemon=True
                )
                self._thread.start()
            self._cond.notify()

    def _run(self, generation: int) -> None:
        while True:
            with self._cond:
                while self._slot is None and generation == self._generation:
                    self._cond.wait()
                if generation != self._generation:
                    return
                frame, self._slot = self._slot, None
                callbacks = list(self._callbacks)
            for cb in callbacks:
                try:
                    cb(frame)
                except BaseException as exc:  # reported, never kills the stream
                    try:
                        self._on_error(exc, cb)
                    except Exception:
                        logger.exception("frame callback error handler failed")
            self.delivered += 1

    def stop(self) -> None:
        """Drop any waiting frame and retire the current thread (without waiting for it)."""
        with self._cond:
            self._generation += 1
            self._slot = None
            self._thread = None
            self._cond.notify_all()

"""Receiving video: a reader per remote track and the frame-callback dispatcher thread.

:class:`FrameReader` drains aiortc's decoded-frame queue continuously (it never grows: when
the consumer is slow it skips to the newest decoded frame and counts the drops) and hands on
each kept frame ONCE as an (H, W, 3) RGB uint8 array. The RGB conversion runs on the decoder
thread, right after decoding, and the newest frame reaches the reader with one loop callback
(:mod:`.decoding`), so it never blocks the SDK loop; when aiortc's internals cannot be hooked
the reader converts on a worker thread instead. :class:`CallbackDispatcher` runs user frame
callbacks on their own thread, latest frame wins, so a slow callback never stalls the reader;
a callback that raises is reported and never stops the stream.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from ..media import Frame
from .decoding import Decoded, StampedQueue
from .rgb import RgbConverter

__all__ = ["CallbackDispatcher", "FrameReader", "FrameTiming"]

logger = logging.getLogger(__name__)


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
    last_arrival: float | None = None  # time.monotonic() of the latest delivered frame


@dataclass(frozen=True)
class FrameTiming:
    """Timing of one delivered frame, in ms (None when aiortc's internals could not be hooked)."""

    convert_ms: float  # YUV → RGB conversion
    decode_ms: float | None  # encoded frame released by the jitter buffer → decoded frame out
    age_ms: float | None  # decoded frame out → delivered (queueing + conversion)
    last_arrival: float | None = None  # time.monotonic()


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
        self._executor: ThreadPoolExecutor | None = None  # only for frames the decoder thread did not convert
        self._converter = RgbConverter()  # used on that executor's single thread only
        self._task: asyncio.Task[None] | None = None
        self._converting: set[asyncio.Task[None]] = set()  # hand-overs that came without RGB

    def start(self) -> None:
        """Start reading the track on the running loop (call from the SDK's event-loop thread)."""
        queue = getattr(self.track, "_queue", None)
        if isinstance(queue, StampedQueue):
            queue.sink = self._on_decoded  # frames from our decoder worker come straight here
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"reactor-reader-{self.name}")

    @property
    def running(self) -> bool:
        """True until the reader is stopped or its track ends."""
        return self._task is not None and not self._task.done()

    def _newest(self, frame: Any, record: Decoded | None) -> tuple[Any, Decoded | None, bool]:
        """Skip to the newest already-decoded frame; returns (frame, its record, track_ended)."""
        queue: asyncio.Queue[Any] | None = getattr(self.track, "_queue", None)
        if queue is None:
            return frame, record, False
        while not queue.empty():
            nxt = queue.get_nowait()
            if nxt is None:  # aiortc's end-of-track sentinel
                return frame, record, True
            self.stats.frames_dropped += 1
            frame, record = nxt, getattr(queue, "last", None)
        return frame, record, False

    def _convert_failed(self, exc: BaseException) -> None:
        self.stats.convert_errors += 1
        if self.stats.convert_errors == 1 or self.stats.convert_errors % 100 == 0:
            logger.warning(
                "track %r: frame conversion failed (%d so far): %s", self.name, self.stats.convert_errors, exc
            )

    async def _to_rgb(self, frame: Any) -> tuple[Frame, float]:
        """Fallback when the decoder thread did not convert: a worker thread keeps the loop free."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"reactor-rgb-{self.name}")
        return await asyncio.get_running_loop().run_in_executor(self._executor, self._converter, frame)

    def _on_decoded(self, frame: Any, record: Decoded, replaced: int) -> None:
        """The decoder worker's hand-over (on the loop): the newest frame, converted, and how many it replaced."""
        if not self.running:
            return
        self.stats.frames_dropped += replaced
        if record.rgb is None and record.error is None:  # a queue without a converter: convert off the loop
            task = asyncio.ensure_future(self._convert_and_handle(frame, record.stamp))
            self._converting.add(task)
            task.add_done_callback(self._converting.discard)
            return
        self._handle(frame, record)

    async def _convert_and_handle(self, frame: Any, stamp: float | None) -> None:
        try:
            arr, ms = await self._to_rgb(frame)
        except Exception as exc:
            self._convert_failed(exc)
            return
        self._deliver_rgb(frame, arr, ms, stamp)

    def _handle(self, frame: Any, record: Decoded) -> None:
        """Deliver a frame converted on the decoder thread, or count its failed conversion."""
        if record.error is not None or record.rgb is None:  # one bad frame must not end the stream
            self._convert_failed(record.error or ValueError("frame was not converted"))
            return
        self._deliver_rgb(frame, record.rgb, record.convert_ms, record.stamp)

    def _deliver_rgb(self, frame: Any, arr: Frame, ms: float, stamp: float | None) -> None:
        """Count and hand on one RGB frame with its timing (``stamp``: when it left the decoder, if known)."""
        released = self._released_at(frame.pts) if self._released_at is not None else None
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

    async def _run(self) -> None:
        """Frames that come through ``recv()`` (aiortc's own decoder worker) and the end of the track."""
        ended = False
        try:
            while not ended:
                try:
                    frame = await self.track.recv()
                except MediaStreamError:
                    break
                record = getattr(getattr(self.track, "_queue", None), "last", None)
                frame, record, ended = self._newest(frame, record)
                if record is not None and (record.rgb is not None or record.error is not None):
                    self._handle(frame, record)
                else:
                    await self._convert_and_handle(frame, None if record is None else record.stamp)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("frame reader for track %r stopped", self.name)
        finally:
            queue = getattr(self.track, "_queue", None)
            if isinstance(queue, StampedQueue) and queue.sink == self._on_decoded:
                queue.sink = None
            if self._executor is not None:
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
        """Replace the callbacks that receive frames; with none, ``submit`` ignores frames."""
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
            assert frame is not None  # the wait above ends only with a frame or a new generation
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

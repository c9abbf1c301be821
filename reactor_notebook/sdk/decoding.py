"""The decoder-thread side of receiving video: decode, convert to RGB, hand the newest frame to the loop.

aiortc decodes each remote video track on its own thread (``decoder_worker``) and hands every
frame to the SDK loop with ``run_coroutine_threadsafe(queue.put(frame))``: a Task, a future
chain and a queue wake-up per frame on the loop. For tracks whose queue is our
:class:`StampedQueue`, :func:`decoder_worker` replaces it: the frame is converted to RGB where
it was decoded, kept in a one-frame slot (newest wins) and handed over with one loop callback
to the reader's sink. VP8 is decoded by FFmpeg's own decoder (:class:`Vp8Decoder`), which
gives the same pixels as the libvpx one aiortc uses for less CPU. Other tracks (the runtime's
inputs) keep aiortc's worker. When aiortc's worker has another shape, nothing is replaced and
:meth:`StampedQueue.put` still converts on the decoder thread.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any, NamedTuple

import av
import numpy as np
from aiortc import rtcrtpreceiver
from aiortc.codecs import get_decoder
from aiortc.codecs.base import Decoder
from aiortc.jitterbuffer import JitterFrame
from aiortc.mediastreams import VIDEO_TIME_BASE, MediaStreamTrack
from aiortc.rtcrtpparameters import RTCRtpCodecParameters

from .. import protocol as P
from ..media import Frame
from .rgb import RgbConverter

__all__ = [
    "Decoded",
    "StampedQueue",
    "Vp8Decoder",
    "decoder_worker",
    "install_decoder_worker",
    "install_stamps",
    "make_decoder",
]

logger = logging.getLogger(__name__)

Sink = Callable[[Any, "Decoded", int], None]
"""Called on the loop with (frame, its record, frames replaced unseen before it)."""


class Decoded(NamedTuple):
    """What the decoder thread knows about one decoded frame."""

    stamp: float  # time.monotonic() when the frame left the decoder
    rgb: Frame | None = None  # converted on the decoder thread (None: not converted there)
    convert_ms: float = 0.0
    error: Exception | None = None  # the conversion failed


class StampedQueue(asyncio.Queue):
    """A remote track's decoded-frame queue: stamps when each frame left the decoder and converts it there.

    Fed by :func:`decoder_worker` (:meth:`from_decoder`), the newest converted frame waits in a
    one-frame slot and reaches ``sink`` (set by the reader) through one loop callback; without
    a sink it is queued for ``recv()``. Fed by aiortc's own worker (:meth:`put`), at most
    ``MAX_AHEAD`` converted frames wait in the queue: behind a stalled SDK loop the decoder
    stops converting (the reader converts the one newest frame it keeps), so a backlog costs
    neither RGB memory nor conversions of frames that will be skipped. ``last`` is the
    :class:`Decoded` record of the frame most recently taken from the queue.
    """

    MAX_AHEAD = 2

    def __init__(self, convert: Callable[[Any], tuple[Frame, float]] | None = None) -> None:
        super().__init__()
        self.convert = convert
        self.sink: Sink | None = None
        self._records: deque[Decoded] = deque()
        self._handoff: Decoded | None = None
        self.last: Decoded | None = None
        self._primed = 0  # frame size the allocator was primed for
        self._converted = 0  # written by the decoder thread only
        self._taken = 0  # converted frames taken by the reader; written by the loop thread only
        self._slot_lock = threading.Lock()
        self._slot: tuple[Any, Decoded] | None = None  # guarded by _slot_lock
        self._replaced = 0  # slot frames replaced before the loop took them; guarded by _slot_lock
        self._drain_pending = False  # guarded by _slot_lock

    def _record(self, item: Any, bounded: bool) -> Decoded:
        """Stamp (and convert) one decoded frame, on the decoder thread."""
        record = Decoded(time.monotonic())
        if (
            item is None
            or self.convert is None
            or (bounded and self._converted - self._taken >= self.MAX_AHEAD)
        ):
            return record
        self._converted += 1
        try:
            rgb, ms = self.convert(item)
        except Exception as exc:  # counted by the reader, which skips the frame
            return Decoded(record.stamp, error=exc)
        if rgb.nbytes > self._primed:
            self._primed = prime_allocator(rgb.nbytes)
        return Decoded(record.stamp, rgb, ms)

    def from_decoder(self, item: Any, loop: asyncio.AbstractEventLoop) -> None:
        """Called by :func:`decoder_worker` with each decoded frame: convert now, hand over the newest."""
        record = self._record(item, bounded=False)
        with self._slot_lock:
            if self._slot is not None:
                self._replaced += 1
            self._slot = (item, record)
            if self._drain_pending:
                return
            self._drain_pending = True
        loop.call_soon_threadsafe(self._drain)

    def _drain(self) -> None:
        """On the loop: give the slot's frame to the sink (or the queue when no reader took the sink yet)."""
        with self._slot_lock:
            taken, self._slot, self._drain_pending = self._slot, None, False
            replaced, self._replaced = self._replaced, 0
        if taken is None:
            return
        item, record = taken
        if self.sink is None:
            self._queue_with(item, record)
            return
        self.last = record
        self.sink(item, record, replaced)

    def put(self, item: Any) -> Coroutine[Any, Any, None]:
        """Called on aiortc's decoder thread: stamp (and convert) now, queue on the loop."""
        return self._put_record(item, self._record(item, bounded=True))

    async def _put_record(self, item: Any, record: Decoded) -> None:
        self._queue_with(item, record)

    def _queue_with(self, item: Any, record: Decoded) -> None:
        """Queue a frame for ``recv()`` with its record (on the loop)."""
        self._handoff = record
        self.put_nowait(item)  # unbounded: never waits; _put takes the handoff synchronously

    def _put(self, item: Any) -> None:
        super()._put(item)
        record, self._handoff = self._handoff, None
        self._records.append(record if record is not None else Decoded(time.monotonic()))

    def _get(self) -> Any:
        item = super()._get()
        self.last = self._records.popleft() if self._records else None
        if self.last is not None and (self.last.rgb is not None or self.last.error is not None):
            self._taken += 1
        return item


def prime_allocator(nbytes: int) -> int:
    """Free one frame-sized block so glibc's malloc serves frame-sized blocks from its heap from now on.

    glibc maps each block above its mmap threshold (128 KiB at start) separately and unmaps it
    on free, so every new frame would be fresh, page-faulting memory; freeing one mmapped block
    raises the threshold to that size (what a client that frees each frame at once gets after
    one frame). Frames kept by ``reactor.frames`` then reuse freed heap blocks once the ring is
    full instead of faulting in ~1 page per 4 KiB of every frame (about 1.3 ms per 720p frame
    on the benchmark machine). Harmless elsewhere.
    """
    block = np.empty(nbytes + 65536, np.uint8)  # a little larger: AVFrame buffers carry padding
    del block
    return nbytes


class Vp8Decoder(Decoder):
    """VP8 by FFmpeg's native decoder, single-threaded: bit-exact with libvpx (aiortc's choice) and cheaper here.

    Side by side on the benchmark VM (``bench/paired_receive.py``) it cut the client's CPU per
    640x384 frame by ~6 %; one thread because frame threads would add a frame of latency.
    """

    def __init__(self) -> None:
        self.codec = av.CodecContext.create("vp8", "r")
        self.codec.thread_count = 1

    def decode(self, encoded_frame: JitterFrame) -> list[av.frame.Frame]:
        """The frames decoded from one whole encoded frame (none while waiting for a key frame)."""
        packet = av.Packet(encoded_frame.data)
        packet.pts = encoded_frame.timestamp
        packet.time_base = VIDEO_TIME_BASE
        return list(self.codec.decode(packet))


def make_decoder(codec: RTCRtpCodecParameters) -> Decoder:
    """The decoder for a negotiated codec: ours for VP8 (when this FFmpeg has it), else aiortc's."""
    if codec.mimeType.lower() == P.MIME_VP8:
        try:
            return Vp8Decoder()
        except ValueError:  # av.codec.codec.UnknownCodecError: an FFmpeg built without its VP8 decoder
            pass
    return get_decoder(codec)


_AIORTC_WORKER = rtcrtpreceiver.decoder_worker
_WORKER_PARAMETERS = ["loop", "input_q", "output_q", "decode_error"]


def decoder_worker(
    loop: asyncio.AbstractEventLoop, input_q: Any, output_q: asyncio.Queue, decode_error: threading.Event
) -> None:
    """aiortc's decoder thread body; for a :class:`StampedQueue`, ours: decode, convert, one loop callback per frame."""
    if not isinstance(output_q, StampedQueue):
        _AIORTC_WORKER(loop, input_q, output_q, decode_error)
        return
    codec_name = None
    decoder = None
    try:
        while (task := input_q.get()) is not None:
            codec, encoded_frame = task
            if codec.name != codec_name or decoder is None:
                decoder, codec_name = make_decoder(codec), codec.name
            try:
                frames = decoder.decode(encoded_frame)
            except av.FFmpegError as exc:  # keep the decoder's state; the receiver asks for a key frame
                logger.warning("failed to decode a %s frame: %s", codec.name, exc)
                decode_error.set()
                continue
            for frame in frames:
                output_q.from_decoder(frame, loop)
    finally:
        try:  # end of track (after any frame still being handed over: the loop runs callbacks in order)
            loop.call_soon_threadsafe(output_q.put_nowait, None)
        except RuntimeError:  # the loop is already closed: nobody is left to tell
            pass


def install_decoder_worker() -> bool:
    """Make aiortc start :func:`decoder_worker` for new receivers (once); False if its worker has another shape."""
    current = rtcrtpreceiver.decoder_worker
    if current is decoder_worker:
        return True
    if current is not _AIORTC_WORKER or list(inspect.signature(current).parameters) != _WORKER_PARAMETERS:
        return False
    rtcrtpreceiver.decoder_worker = decoder_worker
    return True


def install_stamps(track: MediaStreamTrack, receiver: Any) -> bool:
    """Give a fresh aiortc remote track a converting :class:`StampedQueue` (before its decoder thread starts)."""
    queue = getattr(track, "_queue", None)
    if (
        type(queue) is asyncio.Queue
        and queue.empty()
        and getattr(receiver, "_RTCRtpReceiver__decoder_thread", "missing") is None
    ):
        install_decoder_worker()
        track._queue = StampedQueue(convert=RgbConverter())  # type: ignore[attr-defined]
        return True
    return False

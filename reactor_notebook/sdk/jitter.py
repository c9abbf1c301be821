"""Marker-bit early frame release for aiortc's video receiver.

Stock aiortc (``aiortc.jitterbuffer.JitterBuffer``) hands a video frame to the decoder only
when a packet of the *next* frame arrives, so every frame waits one frame interval (~42 ms
at 24 fps) for no reason. :class:`MarkerJitterBuffer` additionally releases a frame the
moment its marker-bit packet is in and the frame is complete: every sequence number from
the frame's first packet (the buffer origin, known to start a frame) to the marker packet
is present with the same timestamp. Incomplete frames keep the stock behaviour (released,
possibly corrupt, when the next frame's packets arrive, which triggers a PLI on decode
errors as before).

``add()`` can return one frame only, yet one packet may finish several frames (the stock cut
of frame N and a single-packet frame N+1 complete on arrival, or a late packet completing
frames whose markers came earlier). The extra ones are kept as *pending* and handed to the
decoder right after the returned one by :class:`DecoderInputQueue`, the receiver's decoder input
queue wrapped at install time; without it every single-packet frame after a stock release
would wait again, and early release would never resume.

It is installed per receiver by :func:`install_early_release` (the SDK calls it for each
video transceiver it creates), only on aiortc versions whose internals were verified;
otherwise the SDK logs once and keeps the stock buffer.
"""

from __future__ import annotations

import logging
import queue
import time
from typing import Any

import aiortc
from aiortc.jitterbuffer import MAX_MISORDER, JitterBuffer, JitterFrame
from aiortc.rtp import RtpPacket
from aiortc.utils import uint16_add

logger = logging.getLogger(__name__)

VERIFIED_VERSIONS = ("1.16.",)
_RECEIVER_ATTR = "_RTCRtpReceiver__jitter_buffer"
_QUEUE_ATTR = "_RTCRtpReceiver__decoder_queue"
_MAPPER_ATTR = "_RTCRtpReceiver__timestamp_mapper"
VIDEO_CAPACITY = 512  # what aiortc's receiver uses for video
_warned = False


class MarkerJitterBuffer(JitterBuffer):
    """A video JitterBuffer that also releases a complete frame as soon as its marker packet arrives."""

    def __init__(self, capacity: int = VIDEO_CAPACITY, prefetch: int = 0, is_video: bool = True) -> None:
        super().__init__(capacity=capacity, prefetch=prefetch, is_video=is_video)
        self._frame_start_known = False  # True when the origin is known to be a frame's first packet
        self.early_frames = 0  # frames released on their marker packet
        self.stock_frames = 0  # frames released the stock way (next frame's packet)
        self.chained = False  # a DecoderInputQueue delivers pending frames (set by install_early_release)
        self._pending: list[JitterFrame] = []
        self._max_seq: int | None = None

    def take_pending(self) -> list[JitterFrame]:
        """Extra frames completed by the last packet, to decode right after the returned one."""
        frames, self._pending = self._pending, []
        return frames

    def _collect_pending(self) -> None:
        """After a release, queue every following frame that is already complete (chained mode only)."""
        if not self.chained or self._prefetch != 0:
            return
        while (extra := self._release_if_complete()) is not None:
            self._pending.append(extra)
            self.early_frames += 1

    def add(self, packet: RtpPacket) -> tuple[bool, JitterFrame | None]:
        """Stock ``add`` plus the early release; never returns a frame twice."""
        newest = True
        if self._origin is not None:
            delta = uint16_add(packet.sequence_number, -self._origin)
            misorder = uint16_add(self._origin, -packet.sequence_number)
            if misorder < delta:
                if misorder < MAX_MISORDER:
                    return False, None  # late/duplicate packet of a released frame: stock drops it
                self._frame_start_known = False  # stock resets the buffer on a big jump
            elif delta >= self.capacity:
                self._frame_start_known = False  # stock drops old frames to make room
            elif self._max_seq is not None and uint16_add(self._max_seq, -packet.sequence_number) < 0x8000:
                newest = False  # fills a hole: may complete a frame whose marker came earlier
        if newest:
            self._max_seq = packet.sequence_number
        pli_flag, frame = super().add(packet)
        if frame is not None:
            # The stock path cut at a timestamp change: the origin now is the next frame's first packet.
            self.stock_frames += 1
            self._frame_start_known = True
            self._collect_pending()
            return pli_flag, frame
        if (packet.marker or not newest) and self._frame_start_known and self._prefetch == 0:
            frame = self._release_if_complete()
            if frame is not None:
                self.early_frames += 1
                self._collect_pending()
        return pli_flag, frame

    def _release_if_complete(self) -> JitterFrame | None:
        """Release the frame at the origin if its packets run contiguously up to a marker packet."""
        if self._origin is None:
            return None
        packets: list[RtpPacket] = []
        timestamp = None
        for i in range(self.capacity):
            pkt = self._packets[(self._origin + i) % self.capacity]
            if pkt is None or (timestamp is not None and pkt.timestamp != timestamp):
                return None  # a hole, or the next frame began without a marker: stock rules apply
            timestamp = pkt.timestamp
            packets.append(pkt)
            if pkt.marker:
                frame = JitterFrame(data=b"".join(p._data for p in packets), timestamp=timestamp)  # type: ignore[attr-defined]
                self.remove(len(packets))
                return frame  # the origin now is the next frame's first packet
        return None


class DecoderInputQueue(queue.Queue):
    """The receiver's decoder input queue: forwards the jitter buffer's pending frames, timestamps releases.

    ``released_at(ts)`` gives when the encoded frame with (mapped) RTP timestamp ``ts`` was
    handed to the decoder, so the reader can time decoding: aiortc's decoders stamp each
    decoded frame's ``pts`` with that timestamp.
    """

    KEEP = 128

    def __init__(self, buffer: MarkerJitterBuffer | None, mapper: Any) -> None:
        super().__init__()
        self._buffer = buffer
        self._mapper = mapper
        self._released: dict[int, float] = {}

    def _stamp(self, timestamp: int) -> None:
        self._released[timestamp] = time.monotonic()
        if len(self._released) > self.KEEP:
            del self._released[next(iter(self._released))]

    def released_at(self, timestamp: int | None) -> float | None:
        """When the frame with RTP ``timestamp`` went to the decoder (monotonic s); None if unknown."""
        return None if timestamp is None else self._released.get(timestamp)

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        """aiortc's hand-off to the decoder: stamp the release, then forward the jitter buffer's frames."""
        super().put(item, block, timeout)
        if item is None:
            return
        self._stamp(item[1].timestamp)
        if self._buffer is None:
            return
        codec = item[0]  # the receiver pairs each frame with the codec of the packet that completed it
        for extra in self._buffer.take_pending():
            extra.timestamp = self._mapper.map(extra.timestamp)
            super().put((codec, extra), block, timeout)
            self._stamp(extra.timestamp)


def _hookable(receiver: Any) -> bool:
    """The receiver has the verified internals and has not started (no packets, no decoder thread)."""
    current = getattr(receiver, _RECEIVER_ATTR, None)
    old_queue = getattr(receiver, _QUEUE_ATTR, None)
    return (
        early_release_supported()
        and isinstance(current, JitterBuffer)
        and current._origin is None
        and isinstance(old_queue, queue.Queue)
        and old_queue.empty()
        and hasattr(getattr(receiver, _MAPPER_ATTR, None), "map")
        and getattr(receiver, "_RTCRtpReceiver__decoder_thread", 1) is None
    )


def install_decode_timing(receiver: Any) -> DecoderInputQueue | None:
    """Make sure the receiver's decoder input queue timestamps releases (for ``decode_ms``)."""
    q = getattr(receiver, _QUEUE_ATTR, None)
    if isinstance(q, DecoderInputQueue):
        return q
    if not _hookable(receiver) or type(q) is not queue.Queue:
        return None
    q = DecoderInputQueue(None, getattr(receiver, _MAPPER_ATTR))
    setattr(receiver, _QUEUE_ATTR, q)
    return q


def decoder_queue(receiver: Any) -> DecoderInputQueue | None:
    """The receiver's timing decoder queue if one was installed, else None (this installs nothing)."""
    q = getattr(receiver, _QUEUE_ATTR, None)
    return q if isinstance(q, DecoderInputQueue) else None


def early_release_supported() -> bool:
    """True on aiortc versions whose receiver internals this module was verified against."""
    return aiortc.__version__.startswith(VERIFIED_VERSIONS)


def install_early_release(receiver: Any) -> bool:
    """Swap a fresh video receiver's jitter buffer for :class:`MarkerJitterBuffer`; True if done.

    Must run before the receiver gets packets (right after ``addTransceiver``). Falls back
    to the stock buffer, logging once, on unverified aiortc versions or unexpected internals.
    """
    global _warned
    current = getattr(receiver, _RECEIVER_ATTR, None)
    if isinstance(current, MarkerJitterBuffer):
        return True
    ok = (
        _hookable(receiver)
        and type(current) is JitterBuffer
        and type(getattr(receiver, _QUEUE_ATTR, None)) is queue.Queue
        and current.capacity == VIDEO_CAPACITY
        and current._is_video
    )
    if not ok:
        if not _warned and not early_release_supported():
            _warned = True
            logger.info(
                "marker-bit early frame release not enabled (aiortc %s is not a verified version); "
                "using aiortc's stock jitter buffer (+1 frame interval of latency)",
                aiortc.__version__,
            )
        return False
    assert current is not None  # checked by ``ok`` above
    buffer = MarkerJitterBuffer(capacity=current.capacity)
    buffer.chained = True
    setattr(receiver, _RECEIVER_ATTR, buffer)
    setattr(receiver, _QUEUE_ATTR, DecoderInputQueue(buffer, getattr(receiver, _MAPPER_ATTR)))
    return True

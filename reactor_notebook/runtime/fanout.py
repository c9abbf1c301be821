"""One encode per output and codec, fanned out to every connection of a session.

Without this, each connection's sender encoded the same rendered frame again: a second viewer (the
notebook's direct browser view beside the kernel's own connection) doubled the runtime's encode
cost. A :class:`SharedEncoder` encodes each frame once (in a worker thread) and hands the access
unit to every :class:`EncodedTrack` that negotiated the same codec; each track yields it to its
sender as a pre-encoded packet, which aiortc only packetizes (``RTCRtpSender`` "pack" path).

A coded stream is a chain (each frame refers to the previous one), so a connection must receive
every unit from a key frame on: a track that joins, resumes or falls behind drops units until the
next key frame and asks the encoder for one; a receiver's PLI asks for one too.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

import av
import numpy as np
from aiortc import RTCRtpSender
from aiortc.codecs.h264 import H264Encoder
from aiortc.codecs.vpx import Vp8Encoder
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import VideoFrame

from .. import protocol
from ..media import VIDEO_TIME_BASE, PtsClock
from .encoding import TUNED_ENCODERS, EncoderSettings, TunedEncoder

log = logging.getLogger(__name__)

QUEUE_LIMIT = 4  # units a track may hold for its sender; beyond that it re-joins at the next key frame
REPEAT_AFTER = 1.5  # periods without a new frame before the last one is sent again (keeps decoders warm)


@dataclass(frozen=True)
class EncodedUnit:
    """One encoded frame: H.264 Annex B access unit or whole VP8 frame, as every connection gets it."""

    data: bytes
    keyframe: bool
    time: float  # monotonic time its source frame was taken for encoding


class SharedEncoder:
    """Encodes one output of a session once per frame for every connection using ``mime``."""

    def __init__(self, name: str, mime: str, settings: EncoderSettings, fps: float) -> None:
        self.name = name
        self.mime = mime
        self.encoder: TunedEncoder = TUNED_ENCODERS[mime](settings)
        self.period = 1.0 / max(fps, 1.0)
        self.tracks: set[EncodedTrack] = set()
        self.frames_encoded = 0
        self.keyframes = 0
        self.errors = 0
        self._rates: dict[EncodedTrack, int] = {}
        self._latest: np.ndarray | None = None
        self._fresh = asyncio.Event()
        self._want_key = True
        self._clock = PtsClock()  # the encoder's own timeline (each connection re-stamps its packets)
        self._task: asyncio.Task[None] | None = None

    def push(self, yuv: np.ndarray) -> None:
        """A newly rendered I420 frame (event-loop thread); an older one not yet encoded is replaced."""
        self._latest = yuv
        self._fresh.set()

    def add(self, track: EncodedTrack) -> None:
        """Feed ``track`` from the next key frame on (one is requested now)."""
        self.tracks.add(track)
        self.request_keyframe()
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name=f"reactor-encode-{self.name}")

    def remove(self, track: EncodedTrack) -> None:
        """Stop feeding ``track``; after the last one leaves, the encode task ends on its own."""
        self.tracks.discard(track)
        self._rates.pop(track, None)
        if not self.tracks:
            self._fresh.set()  # wake the task so it sees nobody is left

    async def aclose(self) -> None:
        """Stop encoding for good (the session ends) and wait for an encode in flight to finish."""
        self.tracks.clear()
        self._rates.clear()
        self._fresh.set()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)

    def request_keyframe(self) -> None:
        """Make the next encoded frame a key frame (a connection joined, resumed, lagged or sent PLI)."""
        self._want_key = True

    def request_bitrate(self, track: EncodedTrack, bitrate: int) -> None:
        """A receiver's estimate (REMB); the shared stream follows the slowest connection."""
        self._rates[track] = int(bitrate)
        self.encoder.target_bitrate = min(self._rates.values())

    async def _run(self) -> None:
        try:
            await self._encode_while_watched()
        finally:
            # never cancelled mid-encode, so the codec can be released here, on the loop thread,
            # rather than whenever the last reference goes (a freed-in-flight codec kept memory)
            self.encoder.codec = None
            self._task = None

    async def _encode_while_watched(self) -> None:
        loop = asyncio.get_running_loop()
        while self.tracks:
            if self._latest is None:
                await self._fresh.wait()
            else:
                try:
                    await asyncio.wait_for(self._fresh.wait(), self.period * REPEAT_AFTER)
                except asyncio.TimeoutError:
                    pass  # nothing new: encode the last frame again
            self._fresh.clear()
            if not self.tracks:
                return
            yuv, keyframe = self._latest, self._want_key
            self._want_key = False
            assert yuv is not None
            now = time.monotonic()
            try:
                data, is_key = await loop.run_in_executor(None, self._encode, yuv, now, keyframe)
            except Exception as exc:  # a frame the codec refuses must not end the stream for everyone
                self.errors += 1
                if self.errors == 1 or self.errors % 100 == 0:
                    log.error("encoding output %r failed (%d times): %s: %s", self.name, self.errors, type(exc).__name__, exc)
                data, is_key = b"", False
            if not data:
                self._want_key = self._want_key or keyframe  # a requested key frame is still owed
                continue
            self.frames_encoded += 1
            self.keyframes += is_key
            unit = EncodedUnit(data, is_key, now)
            for track in list(self.tracks):
                track.offer(unit)

    def _encode(self, yuv: np.ndarray, now: float, keyframe: bool) -> tuple[bytes, bool]:
        frame = VideoFrame.from_ndarray(yuv, format="yuv420p")
        frame.pts = self._clock.stamp(now)
        frame.time_base = VIDEO_TIME_BASE
        return self.encoder.encode_unit(frame, keyframe)


class EncodedTrack(MediaStreamTrack):
    """One connection's view of a :class:`SharedEncoder`: yields its units as packets, in order."""

    kind = "video"

    def __init__(self, name: str, mime: str) -> None:
        super().__init__()
        self.name = name
        self.mime = mime
        self.source: SharedEncoder | None = None  # set when the session attaches the track
        self.paused = False
        self.frames_sent = 0
        self.units_dropped = 0
        self._queue: deque[EncodedUnit] = deque()
        self._ready = asyncio.Event()
        self._need_key = True
        self._clock = PtsClock()

    def offer(self, unit: EncodedUnit) -> None:
        """The shared encoder's next unit (event-loop thread); kept only if the chain is unbroken."""
        if self.paused:
            return
        if self._need_key and not unit.keyframe:
            self.units_dropped += 1
            return
        if len(self._queue) >= QUEUE_LIMIT and not unit.keyframe:
            # the sender fell behind: drop the backlog and re-join at the next key frame
            self.units_dropped += len(self._queue) + 1
            self._queue.clear()
            self._rejoin()
            return
        if unit.keyframe:
            self._queue.clear()  # a key frame makes anything older useless
        self._need_key = False
        self._queue.append(unit)
        self._ready.set()

    def request_keyframe(self) -> None:
        """The receiver asked for a key frame (PLI/FIR) or the output resumed: re-join at the next one."""
        self._rejoin()

    def _rejoin(self) -> None:
        self._need_key = True
        if self.source is not None:
            self.source.request_keyframe()

    def pause(self) -> None:
        """Stop sending (units are dropped, not queued) until :meth:`resume`."""
        self.paused = True
        self._queue.clear()

    def resume(self) -> None:
        """Send again, from the next key frame."""
        self.paused = False
        self._rejoin()

    def stop(self) -> None:
        """End the track and wake a waiting :meth:`recv` so it raises instead of hanging."""
        super().stop()
        self._ready.set()

    async def recv(self) -> av.Packet:
        """aiortc's pull: the next unit as a packet stamped on this connection's clock."""
        while True:
            if self.readyState != "live":
                raise MediaStreamError
            if self._queue:
                return self._packet(self._queue.popleft())
            self._ready.clear()
            await self._ready.wait()

    def _packet(self, unit: EncodedUnit) -> av.Packet:
        packet = av.Packet(unit.data)
        packet.pts = self._clock.stamp(unit.time)
        packet.time_base = VIDEO_TIME_BASE
        self.frames_sent += 1
        return packet


class SenderPacker:
    """A sender's encoder slot for a shared stream: packetizes units, forwards PLI and REMB."""

    def __init__(self, track: EncodedTrack) -> None:
        self.track = track
        self._packer: H264Encoder | Vp8Encoder = H264Encoder() if track.mime == protocol.MIME_H264 else Vp8Encoder()

    def pack(self, packet: av.Packet) -> tuple[list[bytes], int]:
        """RTP payloads and timestamp of one unit (aiortc calls this for non-frame track data)."""
        return self._packer.pack(packet)

    def encode(self, frame: Any, force_keyframe: bool = False) -> tuple[list[bytes], int]:
        """Never used: an :class:`EncodedTrack` yields packets, not frames."""
        raise TypeError("a shared-stream sender packs encoded units; it has no raw frames to encode")

    @property
    def target_bitrate(self) -> int:
        """The shared encoder's governed rate."""
        source = self.track.source
        return source.encoder.target_bitrate if source is not None else 0

    @target_bitrate.setter
    def target_bitrate(self, bitrate: int) -> None:
        """aiortc's REMB estimate for this connection, passed to the shared encoder."""
        if self.track.source is not None:
            self.track.source.request_bitrate(self.track, bitrate)


def shareable(mime: str) -> bool:
    """Whether a negotiated video codec can be served from a shared encoder."""
    return mime.lower() in TUNED_ENCODERS


def install_packer(sender: RTCRtpSender, track: EncodedTrack) -> bool:
    """Make ``sender`` pack ``track``'s units and route its key-frame requests to the track.

    False (nothing changed) when aiortc's internals differ from what this relies on; the caller
    then uses a per-connection encoder instead.
    """
    attr = "_RTCRtpSender__encoder"
    if not hasattr(sender, attr) or not callable(getattr(sender, "_send_keyframe", None)):
        log.warning("cannot share the encoder: unsupported aiortc version; encoding per connection")
        return False
    setattr(sender, attr, SenderPacker(track))
    sender._send_keyframe = track.request_keyframe  # type: ignore[method-assign]  # PLI/FIR → shared encoder
    return True


class EncoderPool:
    """A session's shared encoders, one per (output, codec), created on first use and stopped on last."""

    def __init__(self, settings: EncoderSettings, fps: float) -> None:
        self.settings = settings
        self.fps = fps
        self.encoders: dict[tuple[str, str], SharedEncoder] = {}

    def attach(self, track: EncodedTrack) -> tuple[SharedEncoder, bool]:
        """Join ``track`` to its encoder; True in the pair when the encoder is new (subscribe it)."""
        key = (track.name, track.mime)
        encoder = self.encoders.get(key)
        created = encoder is None
        if encoder is None:
            encoder = self.encoders[key] = SharedEncoder(track.name, track.mime, self.settings, self.fps)
        track.source = encoder
        encoder.add(track)
        return encoder, created

    def detach(self, track: EncodedTrack) -> SharedEncoder | None:
        """Remove ``track``; returns its encoder when that was the last track (unsubscribe it)."""
        key = (track.name, track.mime)
        encoder = self.encoders.get(key)
        if encoder is None:
            return None
        encoder.remove(track)
        if encoder.tracks:
            return None
        del self.encoders[key]
        return encoder

    async def aclose(self) -> None:
        """Stop every shared encoder (the session's worker closes) and wait for their tasks."""
        encoders = list(self.encoders.values())
        self.encoders.clear()
        await asyncio.gather(*(e.aclose() for e in encoders))


__all__ = [
    "EncodedTrack",
    "EncodedUnit",
    "EncoderPool",
    "SenderPacker",
    "SharedEncoder",
    "install_packer",
    "shareable",
]

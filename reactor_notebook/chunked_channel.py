"""An aiortc data channel that speaks the reactor chunk framing (``protocol/chunking.py``).

Used by the runtime and the SDK alike on connections that negotiated chunking: it looks like
the aiortc :class:`RTCDataChannel` it wraps (label, readyState, ``on("message")``, ``send``), but
``send`` cuts every message into frames and ``"message"`` fires once per reassembled message.
A frame that breaks the framing drops that message, is logged and counted (``errors``), and
the channel keeps going.
"""

from __future__ import annotations

import logging
from typing import Any

from aiortc import RTCDataChannel
from pyee.asyncio import AsyncIOEventEmitter

from .protocol.chunking import FRAME_SIZE, MAX_MESSAGE_SIZE, ChunkingError, Reassembler, frames

log = logging.getLogger(__name__)

_FORWARDED = ("open", "close", "bufferedamountlow", "error")


class ChunkedChannel(AsyncIOEventEmitter):
    """Wraps one ordered, reliable aiortc channel of a chunked connection."""

    def __init__(self, inner: RTCDataChannel, max_message_size: int | None = MAX_MESSAGE_SIZE) -> None:
        super().__init__()
        self.inner = inner
        self.max_message_size = max_message_size  # None: plain pass-through until activate()
        self._in = Reassembler(max_message_size or MAX_MESSAGE_SIZE)
        inner.on("message", self._on_frame)
        for event in _FORWARDED:
            inner.on(event, lambda *args, _e=event: self.emit(_e, *args))

    def __getattr__(self, name: str) -> Any:  # label, readyState, id, ordered, close, ...
        return getattr(self.inner, name)

    def __repr__(self) -> str:
        return f"ChunkedChannel({self.inner.label!r}, {self.inner.readyState})"

    @property
    def chunked(self) -> bool:
        """Whether messages are framed (False: a pass-through, the peer did not negotiate chunking)."""
        return self.max_message_size is not None

    def activate(self, peer_limit: int | None) -> None:
        """Start framing once the answer shows the peer's limit (None: stay a pass-through)."""
        if peer_limit is not None:
            self.max_message_size = min(peer_limit, MAX_MESSAGE_SIZE)
            self._in = Reassembler(self.max_message_size)

    @property
    def errors(self) -> int:
        """Frames refused since the channel opened (each dropped one message)."""
        return self._in.errors

    def send(self, data: str | bytes | bytearray | memoryview) -> None:
        """Send one message as frames (text is sent as its UTF-8 bytes: chunked frames are binary)."""
        if self.max_message_size is None:
            self.inner.send(data if isinstance(data, (str, bytes)) else bytes(data))
            return
        payload = data.encode() if isinstance(data, str) else data
        if len(payload) > self.max_message_size:
            raise ValueError(
                f"message of {len(payload)} bytes exceeds the chunked channel's {self.max_message_size}-byte limit"
            )
        for frame in frames(payload, FRAME_SIZE):
            self.inner.send(frame)

    def _on_frame(self, frame: str | bytes) -> None:
        if self.max_message_size is None:
            self.emit("message", frame)
            return
        try:
            message = self._in.feed(frame)
        except ChunkingError as exc:
            log.info("channel %r: dropping a garbled chunked message: %s", self.inner.label, exc)
            return
        if message is not None:
            self.emit("message", message)


def wrap(channel: RTCDataChannel, peer_limit: int | None) -> RTCDataChannel | ChunkedChannel:
    """``channel`` chunked when the connection negotiated chunking (``peer_limit``) and it is ordered+reliable."""
    reliable = channel.maxRetransmits is None and channel.maxPacketLifeTime is None
    if peer_limit is None or not channel.ordered or not reliable:
        return channel
    return ChunkedChannel(channel, min(peer_limit, MAX_MESSAGE_SIZE))


def offering(channel: RTCDataChannel, chunking: bool) -> RTCDataChannel | ChunkedChannel:
    """A client's new channel: a pass-through :class:`ChunkedChannel` when it offers chunking."""
    return ChunkedChannel(channel, None) if chunking else channel


def activate(channels: tuple[Any, ...], answer_sdp: str) -> None:
    """After the answer: frame the offering channels if the peer declared chunking too."""
    from .protocol.chunking import declared_limit

    limit = declared_limit(answer_sdp)
    for channel in channels:
        if isinstance(channel, ChunkedChannel):
            channel.activate(limit)

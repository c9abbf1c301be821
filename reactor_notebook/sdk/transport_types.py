"""Plain types of the WebRTC transport: its callbacks to the session, handshake timings, channel type."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from aiortc import RTCDataChannel
from aiortc.mediastreams import MediaStreamTrack

from ..chunked_channel import ChunkedChannel
from .reader import Frame, FrameTiming

DataChannel = RTCDataChannel | ChunkedChannel  # a chunked connection wraps its channels


@dataclass
class TransportCallbacks:
    """How the transport reports to its session (all called on the SDK loop)."""

    on_ready: Callable[[], None]
    on_lost: Callable[[bool], None]  # failed: True for ICE/DTLS failure, False for a clean close
    on_message: Callable[[str], None]
    on_track: Callable[[str, MediaStreamTrack], None]
    on_frame: Callable[[Frame, str, FrameTiming], None]
    on_link_lost: Callable[[str], None] | None = None  # no packet for link_timeout s (reason text)


@dataclass
class Timings:
    """Handshake timings in ms (``connection_timings`` in stats)."""

    sdp_polling_ms: float = 0.0
    sdp_polling_attempts: int = 0
    ice_negotiation_ms: float = 0.0
    data_channel_ms: float = 0.0
    extra: dict[str, float] = field(default_factory=dict)

"""Public SDK types: statuses, state, errors, events, capabilities and callbacks (as the official clients name them)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Literal, TypedDict

import numpy as np
from numpy.typing import NDArray

TrackKind = Literal["audio", "video"]
TrackDirection = Literal["recvonly", "sendonly"]
ErrorComponent = Literal["api", "gpu"]


class ReactorStatus(str, Enum):
    """Connection status: DISCONNECTED → CONNECTING → WAITING → READY."""

    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"
    WAITING = "waiting"
    READY = "ready"

    def __str__(self) -> str:
        return self.value


@dataclass
class ReactorError:
    """Information about an error the SDK reported (also the payload of the ``error`` event)."""

    code: str
    message: str
    timestamp: float = field(default_factory=time.time)
    recoverable: bool = True
    component: ErrorComponent = "api"
    retry_after: float | None = None

    def __str__(self) -> str:
        return f"[{self.component}:{self.code}] {self.message}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (timeline entries, widget state)."""
        return {
            "code": self.code,
            "message": self.message,
            "timestamp": self.timestamp,
            "recoverable": self.recoverable,
            "component": self.component,
            "retry_after": self.retry_after,
        }


@dataclass
class ReactorState:
    """Full connection state: status plus the most recent error."""

    status: ReactorStatus
    last_error: ReactorError | None = None


ReactorEvent = Literal[
    "status_changed",
    "session_id_changed",
    "message",
    "runtime_message",
    "track_received",
    "error",
    "session_expiration_changed",
    "capabilities_received",
    "stats_update",
    "command_rejected",  # the model refused a command (a Rejection: command, code, field, message)
    "state",  # the model's state message, as a messages.ModelState
    "model_error",  # a refusal message from the model, as a messages.ModelError
]

REACTOR_EVENTS: tuple[str, ...] = ReactorEvent.__args__  # type: ignore[attr-defined]


class TrackCapability(TypedDict):
    """One media track of the model, direction from the client's view."""

    name: str
    kind: TrackKind
    direction: TrackDirection


class _CommandCapabilityRequired(TypedDict):
    name: str
    description: str


class CommandCapability(_CommandCapabilityRequired, total=False):
    """A command in legacy (format A) capabilities: flat parameter map in ``schema``."""

    schema: dict[str, Any]


class _CapabilitiesRequired(TypedDict):
    protocol_version: str
    tracks: list[TrackCapability]


class Capabilities(_CapabilitiesRequired, total=False):
    """Model capabilities from the session descriptor or ``modelCapabilities``."""

    commands: list[CommandCapability]
    emission_fps: float | None


@dataclass(frozen=True)
class FileRef:
    """An uploaded file (``Reactor.upload_file``); pass it as a command argument value."""

    upload_id: str
    name: str
    mime_type: str
    size: int

    def to_wire(self) -> dict[str, Any]:
        """The ``uploads`` entry / ``fileUploaded`` body (``docs/protocol.md`` "Uploads")."""
        return {
            "upload_id": self.upload_id,
            "name": self.name,
            "mime_type": self.mime_type,
            "size": self.size,
        }


FrameCallback = Callable[[NDArray[np.uint8]], None]
EventHandler = Callable[..., Any]


class ConnectionTimings(TypedDict, total=False):
    """Breakdown of the last connect/reconnect handshake, in milliseconds."""

    session_creation_ms: float
    transport_connecting_ms: float
    sdp_polling_ms: float
    sdp_polling_attempts: int
    ice_negotiation_ms: float
    data_channel_ms: float
    total_ms: float


class ConnectionStats(TypedDict, total=False):
    """``get_stats()`` / ``stats_update`` payload (JS ConnectionStats in snake_case, plus our counters)."""

    timestamp: float  # Unix ms, like the JS SDK
    rtt: float | None  # ms
    frames_per_second: float | None
    jitter: float | None  # seconds
    packet_loss_ratio: float | None
    candidate_type: str | None
    available_outgoing_bitrate: float | None  # bits/s
    connection_timings: ConnectionTimings | None
    frame_age_ms: float | None  # decoded → delivered to reactor.frames (queueing + RGB conversion)
    decode_ms: float | None  # released by the jitter buffer → decoded (aiortc decoder thread)
    convert_ms: float | None  # YUV → RGB conversion of the last frame
    frames_received: int
    frames_dropped: int
    callback_frames_dropped: int
    packets_received: int | None
    packets_lost: int | None

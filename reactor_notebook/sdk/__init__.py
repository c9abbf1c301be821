"""Reactor client SDK on aiortc (reactor-docs.md "Python SDK"), notebook-grade.

``Reactor`` runs all its asyncio work on its own loop thread, so it streams while cells
block; every coroutine can be awaited from any loop and has a blocking ``*_sync`` twin.
"""

from __future__ import annotations

from .errors import (
    CALLBACK_ERROR,
    CONNECTION_FAILED,
    GPU_CONNECTION_ERROR,
    MESSAGE_SEND_FAILED,
    RECONNECTION_FAILED,
    TRACK_PUBLISH_FAILED,
    ApiError,
    ConflictError,
    ControlRequestError,
    MessageSendError,
    NotReadyError,
    ReactorException,
    TrackPublishError,
    VersionMismatchError,
)
from .session import Reactor
from .types import (
    Capabilities,
    CommandCapability,
    ConnectionStats,
    ConnectionTimings,
    FileRef,
    FrameCallback,
    ReactorError,
    ReactorEvent,
    ReactorState,
    ReactorStatus,
    TrackCapability,
    TrackDirection,
    TrackKind,
)

__all__ = [
    "CALLBACK_ERROR",
    "CONNECTION_FAILED",
    "GPU_CONNECTION_ERROR",
    "MESSAGE_SEND_FAILED",
    "RECONNECTION_FAILED",
    "TRACK_PUBLISH_FAILED",
    "ApiError",
    "Capabilities",
    "CommandCapability",
    "ConflictError",
    "ConnectionStats",
    "ConnectionTimings",
    "ControlRequestError",
    "FileRef",
    "FrameCallback",
    "MessageSendError",
    "NotReadyError",
    "Reactor",
    "ReactorError",
    "ReactorEvent",
    "ReactorException",
    "ReactorState",
    "ReactorStatus",
    "TrackCapability",
    "TrackDirection",
    "TrackKind",
    "TrackPublishError",
    "VersionMismatchError",
]

"""Reactor client SDK on aiortc (the official Python client's API), notebook-grade.

``Reactor`` runs all its asyncio work on its own loop thread, so it streams while cells
block; every coroutine can be awaited from any loop and has a blocking ``*_sync`` twin::

    r = Reactor("helios", local=True)          # or Reactor("helios", api_key=...)
    await r.connect()                            # returns at READY, raises on failure
    await r.send_command("set_prompt", {"prompt": "a foggy harbour"})   # validated first
    frame = r.frames.latest()                    # (H, W, 3) RGB uint8, every frame decoded once
    r.get_stats()["frame_age_ms"]
    await r.disconnect()
"""

from __future__ import annotations

from .channels_v1 import V1RequestError, V1TimeoutError
from .clips import Clip, ClipFailedError
from .errors import (
    CALLBACK_ERROR,
    CONNECTION_FAILED,
    GPU_CONNECTION_ERROR,
    MESSAGE_SEND_FAILED,
    RECONNECTION_FAILED,
    TRACK_PUBLISH_FAILED,
    ApiError,
    CommandRejectedError,
    CommandTimeoutError,
    ConflictError,
    ControlRequestError,
    MessageSendError,
    NotReadyError,
    ReactorException,
    TrackPublishError,
    VersionMismatchError,
)
from .joining import ModelMismatchError, SessionSharedError, SharedSessionWarning
from .messages import ModelError, ModelState
from .replies import CommandReply, Rejection
from .session import Reactor
from .steps import NotSteppedError, StepRefusedError, StepResult
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
    "Clip",
    "ClipFailedError",
    "CommandCapability",
    "CommandRejectedError",
    "CommandReply",
    "CommandTimeoutError",
    "ConflictError",
    "ConnectionStats",
    "ConnectionTimings",
    "ControlRequestError",
    "FileRef",
    "FrameCallback",
    "MessageSendError",
    "ModelError",
    "ModelMismatchError",
    "ModelState",
    "NotReadyError",
    "NotSteppedError",
    "Reactor",
    "ReactorError",
    "ReactorEvent",
    "ReactorException",
    "ReactorState",
    "ReactorStatus",
    "Rejection",
    "SessionSharedError",
    "SharedSessionWarning",
    "StepRefusedError",
    "StepResult",
    "TrackCapability",
    "TrackDirection",
    "TrackKind",
    "TrackPublishError",
    "V1RequestError",
    "V1TimeoutError",
    "VersionMismatchError",
]

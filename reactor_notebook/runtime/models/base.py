"""The model plug-in interface of the embedded runtime.

A model declares its tracks and commands, renders one frame per output track per tick,
handles validated commands and emits application messages. The runtime owns transport,
pacing and validation; it calls every model method from one worker thread per session,
so a model needs no locking of its own. Messages go out through :meth:`Model.emit`,
which is thread-safe.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
from numpy.typing import NDArray

from ...schema import CommandSpec, CommandValidationError

Frame = NDArray[np.uint8]
Emit = Callable[[dict[str, Any]], None]

__all__ = ["CommandValidationError", "Frame", "Model", "TrackSpec", "Upload"]


@dataclass(frozen=True)
class TrackSpec:
    """A model track in the model's view: ``out`` is sent to clients, ``in`` received from them."""

    name: str
    kind: Literal["video", "audio"] = "video"
    direction: Literal["out", "in"] = "out"

    def capability(self) -> dict[str, str]:
        """The client-view capability entry (``recvonly`` for outputs, ``sendonly`` for inputs)."""
        return {"name": self.name, "kind": self.kind, "direction": "recvonly" if self.direction == "out" else "sendonly"}


@dataclass(frozen=True)
class Upload:
    """A completed, announced upload referenced by a command (protocol.md §2.7)."""

    upload_id: str
    name: str
    mime_type: str
    data: bytes


class Model(ABC):
    """Base class of runtime models. Subclasses set the class attributes and implement the hooks."""

    name: ClassVar[str]
    version: ClassVar[str] = "sim-1"
    description: ClassVar[str] = ""
    default_fps: ClassVar[float] = 24.0
    # How rejected commands are reported (protocol.md §6.4/§6.5): "typed" = command_error,
    # "legacy" = {"type":"event","data":{"event":"error",...}}, "both" = legacy then typed.
    error_style: ClassVar[Literal["typed", "legacy", "both"]] = "typed"

    def __init__(self, *, fps: float | None = None, **options: Any) -> None:
        self.fps = float(fps or self.default_fps)
        self.options = options
        self._emit: Emit | None = None

    # --- declarations -------------------------------------------------------------------
    @property
    @abstractmethod
    def tracks(self) -> list[TrackSpec]:
        """Output and input tracks, in the order clients create transceivers."""

    @abstractmethod
    def commands(self) -> list[CommandSpec]:
        """Commands with their parameter schema (validated by the runtime before dispatch)."""

    def message_schemas(self) -> dict[str, dict[str, Any]]:
        """JSON schemas of outbound messages, for the OpenAPI ``webhooks`` (optional)."""
        return {}

    # --- wiring ----------------------------------------------------------------------------
    def bind(self, emit: Emit | None) -> None:
        """Called by the runtime with a thread-safe broadcast function (None to unbind)."""
        self._emit = emit

    def emit(self, message: dict[str, Any]) -> None:
        """Broadcast an application message ``{"type": ..., "data": ...}`` to every client."""
        if self._emit is not None:
            self._emit(message)

    def error_messages(self, error: CommandValidationError) -> list[dict[str, Any]]:
        """The messages that report a rejected command, per :attr:`error_style` (may be overridden)."""
        fields = error.to_dict()
        style = getattr(self, "error_style", "typed")
        out: list[dict[str, Any]] = []
        if style in ("legacy", "both"):
            out.append({"type": "event", "data": {"event": "error", **fields}})
        if style in ("typed", "both"):
            out.append({"type": "command_error", "data": fields})
        return out

    # --- lifecycle hooks ---------------------------------------------------------------------
    def on_session_start(self) -> None:  # noqa: B027 (optional hook)
        """A session got its first peer (protocol.md §2.5 *connected* hook)."""

    def on_session_end(self) -> None:  # noqa: B027 (optional hook)
        """The session closed; discard per-session state."""

    def greeting(self) -> list[dict[str, Any]]:
        """Messages sent to one connection when its ``data`` channel opens (e.g. ``state``)."""
        return []

    # --- work ----------------------------------------------------------------------------
    @abstractmethod
    def handle_command(self, command: str, args: dict[str, Any], uploads: dict[str, Upload]) -> dict[str, Any] | None:
        """Apply a schema-valid command; raise CommandValidationError for semantic rejections.

        May return a reply message ``{"type", "data"}``: a wire-v1 client gets it as the answer to
        that command (None = a bare acknowledgement). Broadcasts still go through :meth:`emit`.
        """

    @abstractmethod
    def render(self) -> dict[str, Frame]:
        """Produce the next frame of every output track: (H, W, 3) RGB uint8, called at ``fps``."""

    def on_input_frame(self, track: str, frame: Frame) -> None:  # noqa: B027 (optional hook)
        """A frame arrived on an input track (published by a client)."""

    def on_input_changed(self, track: str, published: bool) -> None:  # noqa: B027 (optional hook)
        """A client started or stopped publishing an input track."""

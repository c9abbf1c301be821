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

from ...media import Frame
from ...schema import CommandSpec, CommandValidationError

Emit = Callable[[dict[str, Any]], None]
ErrorStyle = Literal["typed", "legacy", "both"]

__all__ = ["CommandValidationError", "ErrorStyle", "Frame", "Model", "TrackSpec", "Upload", "rejection_messages"]


def rejection_messages(error: CommandValidationError, style: str) -> list[dict[str, Any]]:
    """The messages reporting a rejected command: ``"typed"`` a ``command_error``, ``"legacy"`` an
    ``event`` named ``error``, ``"both"`` legacy then typed (the two families models speak)."""
    fields = error.to_dict()
    out: list[dict[str, Any]] = []
    if style in ("legacy", "both"):
        out.append({"type": "event", "data": {"event": "error", **fields}})
    if style in ("typed", "both"):
        out.append({"type": "command_error", "data": dict(fields)})
    return out


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
    """A completed, announced upload referenced by a command (its bytes and what the client said of it)."""

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
    # Frames of every output track one step of a stepped session produces (runtime/stepping.py).
    frames_per_step: int = 1
    # How rejected commands are reported (rejection_messages): "typed" = command_error,
    # "legacy" = {"type":"event","data":{"event":"error",...}}, "both" = legacy then typed.
    error_style: ClassVar[ErrorStyle] = "typed"

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
        return rejection_messages(error, getattr(self, "error_style", "typed"))

    # --- lifecycle hooks ---------------------------------------------------------------------
    def on_session_start(self) -> None:  # noqa: B027 (optional hook)
        """A session got its first peer (it is connected)."""

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

    def step_frames(self) -> dict[str, list[Frame]]:
        """One step of a stepped session: :attr:`frames_per_step` frames of every output track."""
        out: dict[str, list[Frame]] = {}
        for _ in range(self.frames_per_step):
            for name, frame in self.render().items():
                out.setdefault(name, []).append(frame.copy())
        return out

    def input_shape(self, track: str) -> tuple[int, int] | None:
        """(height, width) an input track's frames must have in a step request, or None for any."""
        return None

    def on_input_frame(self, track: str, frame: Frame) -> None:  # noqa: B027 (optional hook)
        """A frame arrived on an input track (published by a client)."""

    def on_input_changed(self, track: str, published: bool) -> None:  # noqa: B027 (optional hook)
        """A client started or stopped publishing an input track."""

"""Fakes for widget unit tests: a Reactor exposing the SDK contract, and a manual clock."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from reactor_notebook.frames import FrameBuffer
from reactor_notebook.schema import CommandSpec, ParamSpec, validate_command
from reactor_notebook.sdk.messages import model_error_of, model_state_of

SECRET = "rk_live_SUPERSECRET_123456"


class Clock:
    """A monotonic clock the test advances by hand."""

    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, dt: float) -> None:
        self.t += dt


def helios_like_commands() -> list[CommandSpec]:
    return [
        CommandSpec(
            "set_prompt",
            "Set the prompt",
            (ParamSpec("prompt", "string", min_length=1, max_length=20, format="multiline"),),
        ),
        CommandSpec(
            "schedule_prompt",
            "Schedule a prompt",
            (
                ParamSpec("prompt", "string", min_length=1, max_length=20, format="multiline"),
                ParamSpec("chunk", "integer", minimum=0, maximum=1000),
            ),
        ),
        CommandSpec(
            "set_image",
            "",
            (
                ParamSpec("image_b64", "string", required=False, min_length=1, format="image-base64"),
                ParamSpec("transition", "string", required=False, default="cut", enum=("cut", "blend")),
            ),
        ),
        CommandSpec(
            "set_image_strength", "", (ParamSpec("image_strength", "number", minimum=0.0, maximum=1.0),)
        ),
        CommandSpec("set_seed", "", (ParamSpec("seed", "integer"),)),
        CommandSpec("flag", "", (ParamSpec("on", "boolean"), ParamSpec("extra", "json", required=False))),
        CommandSpec("start"),
        CommandSpec("pause"),
    ]


class FakeReactor:
    """The parts of reactor_notebook.sdk.Reactor the widget uses, with recorded calls."""

    def __init__(self, commands: list[CommandSpec] | None = None, status: str = "ready") -> None:
        self.model_name = "helios"
        self.api_key = SECRET
        self.frames = FrameBuffer(max_frames=8)
        self.commands = commands if commands is not None else helios_like_commands()
        self.model_state: dict[str, Any] | None = {"running": False, "paused": False, "scheduled_prompts": {}}
        self._status = status
        self._handlers: dict[str, list[Any]] = defaultdict(list)
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.fail_send: Exception | None = None
        self.reconnects = 0
        self.disconnects = 0
        self.published: list[tuple[str, Any]] = []

    # contract
    def get_status(self) -> str:
        return self._status

    def get_session_id(self) -> str | None:
        return "local" if self._status != "disconnected" else None

    def get_last_error(self) -> Any:
        return None

    def get_capabilities(self) -> dict[str, Any]:
        return {
            "protocol_version": "1.1",
            "tracks": [
                {"name": "main_video", "kind": "video", "direction": "recvonly"},
                {"name": "webcam", "kind": "video", "direction": "sendonly"},
            ],
            "commands": [],
            "emission_fps": 24,
            "token": SECRET,  # must not leak into the widget
        }

    def get_stats(self) -> dict[str, Any]:
        return {"fps": 24.0, "rtt": 3.0}

    def on(self, event: str, cb: Any) -> None:
        self._handlers[event].append(cb)

    def off(self, event: str, cb: Any) -> None:
        self._handlers[event].remove(cb)

    def emit(self, event: str, *args: Any) -> None:
        for cb in list(self._handlers[event]):
            cb(*args)

    def deliver(self, message: Any) -> None:
        """An application message arrives: ``message``, then the typed ``state`` / ``model_error``
        events, parsed by the SDK's own functions in the order sdk/routing.py fires them."""
        self.emit("message", message)
        state = model_state_of(message)
        if state is not None:
            self.emit("state", state)
        error = model_error_of(message)
        if error is not None:
            self.emit("model_error", error)

    def send_command_sync(self, command: str, data: dict[str, Any]) -> None:
        if self._status != "ready":
            raise RuntimeError(f"cannot send {command!r}: status is {self._status}, not ready")
        validate_command(self.commands, command, data)
        if self.fail_send is not None:
            raise self.fail_send
        self.sent.append((command, data))

    def reconnect_sync(self) -> None:
        self.reconnects += 1
        self._status = "ready"
        self.emit("status_changed", "ready")

    def connect_sync(self) -> None:
        self.reconnect_sync()

    def disconnect_sync(self, recoverable: bool = False) -> None:
        self.disconnects += 1
        self._status = "disconnected"

    def publish_track_sync(self, name: str, track: Any) -> None:
        self.published.append((name, track))

    def unpublish_track_sync(self, name: str) -> None:
        self.published = [p for p in self.published if p[0] != name]

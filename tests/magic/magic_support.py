"""A fake Reactor session at the SDK boundary, for parsing/dispatch tests of the %reactor magic."""

from __future__ import annotations

import enum
import threading
from typing import Any

import numpy as np

from reactor_notebook.framecode import draw_index
from reactor_notebook.frames import FrameBuffer
from reactor_notebook.schema import CommandSpec, ParamSpec


class Status(enum.Enum):
    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"
    WAITING = "waiting"
    READY = "ready"


def _prompt(required: bool = True) -> ParamSpec:
    return ParamSpec("prompt", "string", required=required, min_length=1, max_length=2000, format="multiline")


HELIOS_COMMANDS = [
    CommandSpec("set_prompt", "Set the prompt", (_prompt(),)),
    CommandSpec(
        "schedule_prompt",
        "Schedule a prompt",
        (_prompt(), ParamSpec("chunk", "integer", minimum=0, maximum=1_000_000)),
    ),
    CommandSpec(
        "set_image",
        "Set a reference image",
        (
            ParamSpec("image_b64", "string", required=False, format="image-base64"),
            ParamSpec("transition", "string", required=False, default="cut", enum=("cut", "blend")),
        ),
    ),
    CommandSpec("clear_image", "Remove the image"),
    CommandSpec("set_seed", "Set the seed", (ParamSpec("seed", "integer", minimum=-1, maximum=4294967295),)),
    CommandSpec("start"),
    CommandSpec("pause"),
    CommandSpec("resume"),
    CommandSpec("reset"),
    CommandSpec(
        "set_color",
        "Solid colour",
        tuple(ParamSpec(c, "integer", minimum=0, maximum=255) for c in "rgb"),
    ),
]


class FakeReactor:
    """Records what the magic asks of a session; ``start`` makes a thread emit chunk states and frames."""

    instances: list[FakeReactor] = []

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs
        self.status = Status.DISCONNECTED
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.calls: list[str] = []
        self.frames = FrameBuffer(max_frames=50)
        self.commands = list(HELIOS_COMMANDS)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        FakeReactor.instances.append(self)

    def get_status(self) -> Status:
        return self.status

    def get_session_id(self) -> str | None:
        return "sess-1" if self.status is Status.READY else None

    def get_last_error(self) -> None:
        return None

    def get_stats(self) -> dict[str, Any]:
        return {"timestamp": 1.7e12, "frames_per_second": 24.0, "rtt": 1.5}

    def connect_sync(self) -> None:
        self.calls.append("connect")
        self.status = Status.READY
        self.frames.set_state({"running": False, "paused": False, "current_frame": 0, "current_chunk": 0})

    def disconnect_sync(self, recoverable: bool = False) -> None:
        self.calls.append(f"disconnect(recoverable={recoverable})")
        self.status = Status.DISCONNECTED
        self.stop_stream()

    def reconnect_sync(self) -> None:
        self.calls.append("reconnect")
        self.status = Status.READY

    def send_command_sync(self, command: str, data: dict[str, Any]) -> None:
        if self.status is not Status.READY:
            raise RuntimeError(f"{command}: not connected")
        self.sent.append((command, data))
        if command == "start":
            self.start_stream()

    # a tiny stream: 33 frames per chunk at a fast pace, a state per chunk like Helios
    def start_stream(self, fps: float = 400.0) -> None:
        self._stop.clear()

        def run() -> None:
            frame = 0
            while not self._stop.is_set():
                if frame % 33 == 0:
                    self.frames.set_state(
                        {
                            "running": True,
                            "paused": False,
                            "current_frame": frame,
                            "current_chunk": frame // 33,
                        }
                    )
                img = np.zeros((48, 256, 3), np.uint8)
                draw_index(img, frame)
                self.frames.push(img, frame_index=frame)
                frame += 1
                self._stop.wait(1.0 / fps)  # the source's pace, not synchronisation

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def stop_stream(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

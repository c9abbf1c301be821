"""A small model for runtime tests: records hooks and threads, takes an upload, can misbehave."""

from __future__ import annotations

import threading
from typing import Any, ClassVar

import numpy as np

from reactor_notebook.framecode import draw_index
from reactor_notebook.runtime.models.base import CommandValidationError, Frame, Model, TrackSpec, Upload
from reactor_notebook.schema import CommandSpec, ParamSpec


class ProbeModel(Model):
    """Records every hook call and the thread it ran on."""

    name: ClassVar[str] = "probe"
    default_fps: ClassVar[float] = 30.0

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.calls: list[str] = []
        self.threads: set[int] = set()
        self.index = 0
        self.files: list[Upload] = []

    def _note(self, what: str) -> None:
        self.calls.append(what)
        self.threads.add(threading.get_ident())

    @property
    def tracks(self) -> list[TrackSpec]:
        return [TrackSpec("main_video")]

    def commands(self) -> list[CommandSpec]:
        return [
            CommandSpec("load", "Load a file", (ParamSpec("file", "upload", is_upload=True),)),
            CommandSpec("shout", "Emit a huge message", ()),
            CommandSpec("refuse", "Always rejected by the model", (ParamSpec("why", "string", required=False, default="no"),)),
            CommandSpec("crash", "Raises", ()),
        ]

    def on_session_start(self) -> None:
        self._note("start")

    def on_session_end(self) -> None:
        self._note("end")

    def greeting(self) -> list[dict[str, Any]]:
        self._note("greeting")
        return [{"type": "hello", "data": {"calls": len(self.calls)}}]

    def handle_command(self, command: str, args: dict[str, Any], uploads: dict[str, Upload]) -> None:
        self._note(f"command:{command}")
        if command == "load":
            self.files.append(uploads["file"])
            self.emit({"type": "loaded", "data": {"name": uploads["file"].name, "size": len(uploads["file"].data)}})
        elif command == "shout":
            self.emit({"type": "shout", "data": "x" * 300_000})
        elif command == "refuse":
            raise CommandValidationError("refuse", "invalid_state", f"refused because {args['why']}", "why")
        elif command == "crash":
            raise RuntimeError("boom")

    def render(self) -> dict[str, Frame]:
        self.threads.add(threading.get_ident())
        frame = np.zeros((64, 256, 3), dtype=np.uint8)
        draw_index(frame, self.index)
        self.index += 1
        return {"main_video": frame}


class LegacyProbe(ProbeModel):
    """Reports rejections in the legacy Helios event family."""

    error_style: ClassVar[Any] = "legacy"


class FlakyProbe(ProbeModel):
    """Render fails (or returns garbage) while ``broken`` is set by the ``toggle`` command."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.broken = False
        self.garbage = False

    def commands(self) -> list[CommandSpec]:
        return [*super().commands(), CommandSpec("toggle", "Break or heal rendering", (ParamSpec("garbage", "boolean", required=False, default=False),))]

    def handle_command(self, command: str, args: dict[str, Any], uploads: dict[str, Upload]) -> None:
        if command == "toggle":
            self.broken = not self.broken
            self.garbage = bool(args.get("garbage"))
            self.emit({"type": "toggled", "data": {"broken": self.broken}})
        else:
            super().handle_command(command, args, uploads)

    def render(self) -> dict[str, Frame]:
        if self.broken:
            if self.garbage:
                return {"main_video": np.zeros((4, 4), dtype=np.float32)}
            raise RuntimeError("render exploded")
        return super().render()

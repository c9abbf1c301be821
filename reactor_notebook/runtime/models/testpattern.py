"""A cheap test-pattern model: moving bars, a colour patch set by command, an input counter.

Used by tests, benchmarks and interop runs: every frame carries its index (framecode), the
``set_color`` command changes a large patch so pixels prove commands arrive, and frames on the
``webcam`` input are counted and reported as ``input_stats`` messages.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from ...framecode import BLOCK, draw_index
from ...schema import CommandSpec, ParamSpec
from .base import Frame, Model, TrackSpec, Upload

INPUT_REPORT_EVERY = 10
MAX_STEP_FRAMES = 240


def _channel(name: str) -> ParamSpec:
    return ParamSpec(name, "integer", required=True, minimum=0, maximum=255, description=f"{name.upper()} 0-255")


def _step_frames(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_STEP_FRAMES:
        raise ValueError(f"step_frames must be an integer 1-{MAX_STEP_FRAMES}, got {value!r}")
    return value


class TestPattern(Model):
    """Moving stripes plus a solid patch in the colour last set by ``set_color``.

    A step of a stepped session is ``step_frames`` frames (default 4), rendered as the stream would.
    """

    __test__ = False  # not a pytest test class
    name: ClassVar[str] = "testpattern"
    version: ClassVar[str] = "1.0"
    description: ClassVar[str] = "Moving test pattern with frame index code and a webcam input counter"
    default_fps: ClassVar[float] = 24.0

    def __init__(
        self,
        *,
        fps: float | None = None,
        width: int = 640,
        height: int = 384,
        step_frames: int = 4,
        **options: Any,
    ) -> None:
        super().__init__(fps=fps, **options)
        self.frames_per_step = _step_frames(step_frames)
        if width < 256 or height < 32 or width % 2 or height % 2:
            raise ValueError(f"testpattern: width/height must be even and at least 256x32, got {width}x{height}")
        self.width = int(width)
        self.height = int(height)
        self.color = (255, 0, 0)
        self.frame_index = 0
        self.input_frames: dict[str, int] = {}
        self.last_input_shape: tuple[int, ...] | None = None
        x = np.arange(self.width, dtype=np.int32)
        self._ramp = x  # horizontal coordinate used for the moving stripes
        self._base = np.zeros((self.height, self.width, 3), dtype=np.uint8)

    @property
    def tracks(self) -> list[TrackSpec]:
        """Output ``main_video`` and a counted input ``webcam``, so tests exercise both directions."""
        return [TrackSpec("main_video", "video", "out"), TrackSpec("webcam", "video", "in")]

    def commands(self) -> list[CommandSpec]:
        """Only ``set_color``: a visible change in the pixels proves a command reached the model."""
        return [
            CommandSpec(
                "set_color",
                "Set the colour of the centre patch",
                (_channel("r"), _channel("g"), _channel("b")),
                reply="color_set",
            )
        ]

    def message_schemas(self) -> dict[str, dict[str, Any]]:
        """Schemas of the ``color_set`` reply and the ``input_stats`` report."""
        rgb = {"type": "object", "properties": {c: {"type": "integer"} for c in "rgb"}}
        stats = {"type": "object", "properties": {"track": {"type": "string"}, "frames": {"type": "integer"}}}
        return {"color_set": rgb, "input_stats": stats}

    def on_session_end(self) -> None:
        """Back to the red patch and zero input counts, so the next session starts like the first."""
        self.color = (255, 0, 0)
        self.input_frames.clear()

    def handle_command(self, command: str, args: dict[str, Any], uploads: dict[str, Upload]) -> dict[str, Any] | None:
        """Apply ``set_color`` and broadcast ``color_set`` (also the reply); other commands get no answer."""
        if command == "set_color":
            self.color = (int(args["r"]), int(args["g"]), int(args["b"]))
            r, g, b = self.color
            reply = {"type": "color_set", "data": {"r": r, "g": g, "b": b}}
            self.emit(reply)
            return reply
        return None

    def render(self) -> dict[str, Frame]:
        """Stripes shifted by the frame index, the colour patch, and the index drawn as a framecode.
        Drawn into one reused buffer and returned as a copy, so callers may keep the frame."""
        frame = self._base
        phase = (self.frame_index * 8) % 64
        stripes = (((self._ramp + phase) // 32) % 2 * 96 + 32).astype(np.uint8)  # (W,)
        frame[:, :, 0] = stripes[None, :]
        frame[:, :, 1] = stripes[None, :] // 2
        frame[:, :, 2] = 64
        h, w = self.height, self.width
        frame[h // 4 : 3 * h // 4, w // 4 : 3 * w // 4, :] = np.array(self.color, dtype=np.uint8)
        frame[: BLOCK + 4, : 16 * BLOCK + 4, :] = 128  # quiet margin around the index code
        draw_index(frame, self.frame_index)
        self.frame_index += 1
        return {"main_video": frame.copy()}

    def on_input_frame(self, track: str, frame: Frame) -> None:
        """Count the input frame; report ``input_stats`` on the first and every tenth one."""
        n = self.input_frames.get(track, 0) + 1
        self.input_frames[track] = n
        self.last_input_shape = tuple(frame.shape)
        if n == 1 or n % INPUT_REPORT_EVERY == 0:
            self.emit({"type": "input_stats", "data": {"track": track, "frames": n}})

    def on_input_changed(self, track: str, published: bool) -> None:
        """Broadcast ``input_changed`` so clients see when a publisher comes or goes."""
        self.emit({"type": "input_changed", "data": {"track": track, "published": published}})

"""A tiny ``ReactorApp`` of reactor-runtime 3.10.0's own kind, for the SDK ↔ RT310 interop tests.

Runs inside the RT310 venv (Python 3.12, no reactor_notebook), so the frame-index code is drawn by
a local copy of ``reactor_notebook.framecode.draw_index``: 16 black/white 16x16 blocks, top-left,
most significant bit first. Output ``main_video`` is a solid colour at 320x240, 30 fps; command
``set_color`` {r, g, b: integer 0-255, all required} changes it and replies with ``color_set``
(the handler's returned message: the runtime sends it to the caller, correlated on wire v1).
``set_color`` with r == g == b == 13 is refused with ``CommandError("unlucky", …)``, so tests can
see a model rejection carrying the model's own code and message.
"""

from typing import Any

import numpy as np
from reactor_runtime import CommandError, ModelMessage, Output, ReactorApp, Video, event
from reactor_runtime.interface import InputField

WIDTH, HEIGHT = 320, 240
DEFAULT_COLOR = (0, 0, 200)
CODE_BITS, CODE_BLOCK = 16, 16


def draw_index(frame: np.ndarray, index: int) -> None:
    """Draw ``index % 2**16`` as the project's frame-index code into ``frame`` (H, W, 3) in place."""
    bits = ((int(index) & 0xFFFF) >> np.arange(CODE_BITS - 1, -1, -1)) & 1
    row = np.repeat(bits.astype(np.uint8) * 255, CODE_BLOCK)
    frame[:CODE_BLOCK, : CODE_BITS * CODE_BLOCK, :] = row[None, :, None]


class ToyOutput(Output):
    """The one output track (the name is what the schema lists)."""

    main_video: Video


class ColorSet(ModelMessage):
    """The reply to an accepted ``set_color``."""

    r: int
    g: int
    b: int


class ToyApp(ReactorApp):
    """Solid colour frames stamped with a running index; one command with a reply."""

    fps = 30

    def __init__(self) -> None:
        super().__init__()
        self.color: tuple[int, int, int] = DEFAULT_COLOR
        self.index = 0

    def generate(self, input: Any, /) -> ToyOutput:
        """One frame of the current colour with its index code."""
        frame = np.empty((HEIGHT, WIDTH, 3), dtype=np.uint8)
        frame[:] = self.color
        draw_index(frame, self.index)
        self.index += 1
        return ToyOutput(main_video=frame)

    @event(name="set_color", description="Set the background colour")
    def set_color(
        self,
        r: int = InputField(ge=0, le=255, description="red 0-255"),
        g: int = InputField(ge=0, le=255, description="green 0-255"),
        b: int = InputField(ge=0, le=255, description="blue 0-255"),
    ) -> ColorSet:
        """Change the colour of the next frames and reply with ``color_set``."""
        if r == g == b == 13:
            raise CommandError("unlucky", "set_color: 13/13/13 is refused by the toy model")
        self.color = (int(r), int(g), int(b))
        return ColorSet(r=int(r), g=int(g), b=int(b))

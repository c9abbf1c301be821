"""A tiny model of reactor-runtime 2.0.0's own kind, for the SDK ↔ RT20 interop test.

Runs inside the RT20 venv (numpy < 2, no reactor_notebook), so the frame-index code is drawn by a
local copy of ``reactor_notebook.framecode.draw_index``: 16 black/white 16x16 blocks, top-left,
most significant bit first. Output ``main_video`` is a solid colour at 320x240, 30 fps; command
``set_color`` {r, g, b: integer 0-255, all required} changes it and answers with a ``color_set``
message. The colour goes back to the default when the session ends. ``$RT20_TOY_LOAD_DELAY``
(seconds) stretches ``load()`` to mimic a real model's loading window (RT20 state ``CREATED``).
"""

import os
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from reactor_runtime.interface import (
    InputField,
    ModelMessage,
    Output,
    ReactorModel,
    Video,
    disconnected,
    event,
)

WIDTH, HEIGHT = 320, 240
DEFAULT_COLOR = (0, 0, 200)
CODE_BITS, CODE_BLOCK = 16, 16


def draw_index(frame: np.ndarray, index: int) -> None:
    """Draw ``index % 2**16`` as the project's frame-index code into ``frame`` (H, W, 3) in place."""
    bits = ((int(index) & 0xFFFF) >> np.arange(CODE_BITS - 1, -1, -1)) & 1
    row = np.repeat(bits.astype(np.uint8) * 255, CODE_BLOCK)
    frame[:CODE_BLOCK, : CODE_BITS * CODE_BLOCK, :] = row[None, :, None]


@dataclass
class ToyOutput(Output):
    """The one output track (the name is what the capabilities list)."""

    main_video: Video


@dataclass
class ColorSet(ModelMessage):
    """Sent after every accepted ``set_color``."""

    r: int
    g: int
    b: int


class ToyModel(ReactorModel):
    """Solid colour frames stamped with a running index; one command."""

    fps = 30

    def load(self, config: dict[str, Any]) -> None:
        """Nothing to load: a toy (optionally slow, to widen RT20's CREATED window)."""
        time.sleep(float(os.environ.get("RT20_TOY_LOAD_DELAY") or 0))
        self.color = DEFAULT_COLOR
        self.index = 0

    async def run(self) -> None:
        """Emit frames while a client is connected (``emit`` blocks at the emission rate)."""
        while True:
            await self.connected.wait()
            while self.connected.is_set():
                frame = np.empty((HEIGHT, WIDTH, 3), dtype=np.uint8)
                frame[:] = self.color
                draw_index(frame, self.index)
                self.index += 1
                await self.emit(ToyOutput(main_video=frame))

    @event(name="set_color", description="Set the background colour")
    async def set_color(
        self,
        r: int = InputField(ge=0, le=255, description="red 0-255"),
        g: int = InputField(ge=0, le=255, description="green 0-255"),
        b: int = InputField(ge=0, le=255, description="blue 0-255"),
    ) -> None:
        """Change the colour of the next frames and confirm with ``color_set``."""
        self.color = (r, g, b)
        await self.send(ColorSet(r=r, g=g, b=b))

    @disconnected
    def reset(self) -> None:
        """A new session starts from the default colour."""
        self.color = DEFAULT_COLOR

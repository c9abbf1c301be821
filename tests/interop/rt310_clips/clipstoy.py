"""A ``ReactorApp`` of reactor-runtime 3.10.0's kind whose frames carry the frame-index code (clip tests).

Runs in the RT310 venv (no reactor_notebook there), so the code is drawn here: 16 black/white
16x16 blocks, top-left, most significant bit first (``reactor_notebook.framecode``'s layout).
"""

from typing import Any

import numpy as np
from reactor_runtime import Output, ReactorApp, Video


class ClipsOutput(Output):
    """The one output track."""

    main_video: Video


class ClipsToy(ReactorApp):
    """Grey 320x240 frames at 30 fps, each stamped with its running index."""

    fps = 30

    def __init__(self) -> None:
        super().__init__()
        self.index = 0

    def generate(self, input: Any, /) -> ClipsOutput:
        """The next frame: mid grey with the index code."""
        frame = np.full((240, 320, 3), 96, dtype=np.uint8)
        bits = ((self.index & 0xFFFF) >> np.arange(15, -1, -1)) & 1
        frame[:16, :256] = np.repeat(bits.astype(np.uint8) * 255, 16)[None, :, None]
        self.index += 1
        return ClipsOutput(main_video=frame)

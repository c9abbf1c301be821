"""Frame-buffer test support: numbered frames and a thread that pushes them like the SDK does."""

from __future__ import annotations

import threading
import time

import numpy as np

from reactor_notebook.framecode import draw_index
from reactor_notebook.frames import FrameBuffer


def numbered(i: int, h: int = 64, w: int = 320) -> np.ndarray:
    """A frame whose top-left code reads ``i`` and whose body colour varies with ``i``."""
    f = np.full((h, w, 3), (i * 7) % 200 + 20, np.uint8)
    draw_index(f, i)
    return f


class Feeder:
    """Pushes numbered frames into a buffer from its own thread at ``fps`` (the stream source)."""

    def __init__(self, buf: FrameBuffer, fps: float = 200.0, h: int = 64, w: int = 320) -> None:
        self.buf, self.fps, self.h, self.w = buf, fps, h, w
        self.count = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        period = 1.0 / self.fps
        nxt = time.monotonic()
        while not self._stop.is_set():
            self.buf.push(numbered(self.count, self.h, self.w))
            self.count += 1
            nxt += period
            self._stop.wait(max(0.0, nxt - time.monotonic()))  # pacing of the source, not test sync

    def start(self) -> Feeder:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

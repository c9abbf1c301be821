"""The frame-index code: a frame's global index drawn as 16 black/white 16x16-px blocks.

Models stamp every output frame with it (top-left corner, most significant bit first) so
tests and benchmarks can read order, loss and age from pixels even after lossy encoding.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

BITS = 16
BLOCK = 16
WIDTH = BITS * BLOCK


def draw_index(frame: NDArray[np.uint8], index: int, *, x: int = 0, y: int = 0) -> None:
    """Draw ``index % 2**16`` into ``frame`` (H, W, 3) in place."""
    value = int(index) & 0xFFFF
    bits = (value >> np.arange(BITS - 1, -1, -1)) & 1
    row = np.repeat(bits.astype(np.uint8) * 255, BLOCK)  # (WIDTH,)
    frame[y : y + BLOCK, x : x + WIDTH, :] = row[None, :, None]


def read_index(frame: NDArray[np.uint8], *, x: int = 0, y: int = 0) -> int:
    """Read the code back by sampling the centre of each block (robust to JPEG/H264 blur)."""
    cy = y + BLOCK // 2
    centres = x + BLOCK // 2 + BLOCK * np.arange(BITS)
    samples = frame[cy - 2 : cy + 3, :, :][:, centres, :].astype(np.float32).mean(axis=(0, 2))
    bits = (samples > 127).astype(np.int64)
    return int((bits << np.arange(BITS - 1, -1, -1)).sum())


def has_index_code(frame: NDArray[np.uint8], *, tolerance: int = 48) -> bool:
    """True when the top-left corner looks like an index code: every block centre near black or white grey.

    Cheap (16 pixel reads), for deciding whether a view should cover the code; a natural image
    passes only if its corner happens to be pure black/white there, and covering it then is harmless.
    """
    if frame.ndim != 3 or frame.shape[0] < BLOCK or frame.shape[1] < WIDTH:
        return False
    centres = BLOCK // 2 + BLOCK * np.arange(BITS)
    px = frame[BLOCK // 2, centres, :3].astype(np.int16)
    grey = (px.max(axis=1) - px.min(axis=1)) <= tolerance
    level = px.mean(axis=1)
    return bool(np.all(grey & ((level <= tolerance) | (level >= 255 - tolerance))))

"""Exact per-frame model metadata: which model frame each video frame is, its chunk and its prompt.

The model's ``state`` message arrives once per chunk (and after commands), so copying it onto
every frame makes ``current_frame`` stale within a chunk. Runtimes that stamp each frame with
its model frame index (the 16-block code of :mod:`reactor_notebook.framecode`: our runtime's
Helios and testpattern) let the SDK read the index from the pixels. The code is trusted once it
agrees with the model's own ``state`` (within a few frames after its ``current_frame``) or
behaves like a counter (several consecutive frames advancing by small steps), so a model whose
picture merely has a dark or bright corner is never misread; the 65536 wrap is unwrapped. The chunk and prompt of frame ``f`` come from ``state`` facts: each state says that
frame ``current_frame`` lies in chunk ``current_chunk`` whose latched prompt is
``current_prompt``; the frame belongs to the chunk of the latest fact at or before it.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..framecode import BITS, BLOCK

WRAP = 1 << BITS
IDLE_CODE = WRAP - 1  # the idle card (before start): not a generated frame
LOCK_STEPS = 4  # consecutive counter-like steps before the code is trusted
UNLOCK_JUMPS = 8  # consecutive wild jumps before it is distrusted again
MAX_STEP = 8  # frames a step may skip (drops) and still look like a counter
ANCHOR_WINDOW = 48  # a code this close after the latest state's current_frame is trusted at once


@dataclass(frozen=True)
class FrameFacts:
    """The model frame index, chunk and prompt of one video frame (None where unknown)."""

    frame: int | None
    chunk: int | None
    prompt: str | None
    exact: bool = False  # read from this frame's pixels (else copied from the latest state)


def scheduled_prompt(state: dict[str, Any] | None, chunk: int) -> str | None:
    """The prompt in effect at ``chunk`` per ``scheduled_prompts`` (the entry with the largest chunk <= it)."""
    table = (state or {}).get("scheduled_prompts")
    if not isinstance(table, dict):
        return None
    keys = [int(key) for key in table if str(key).isdigit() and int(key) <= chunk]
    value = table.get(str(max(keys))) if keys else None
    return value if isinstance(value, str) else None


_CODE_LEVELS = bytes(v for v in range(256) if v < 60 or v >= 196)  # a code block's pixels are near black or white
_SAMPLE_ROWS, _SAMPLE_COLUMNS = slice(BLOCK // 2 - 2, BLOCK // 2 + 3), slice(BLOCK // 2, BITS * BLOCK, BLOCK)
_BLOCK_SAMPLE = 5 * 3  # bytes per block: 5 rows x 1 column x 3 channels
_BRIGHT = _BLOCK_SAMPLE * 127  # a block's sample sums above this: its mean is above 127 (framecode.read_index)


def read_code(frame: np.ndarray) -> int | None:
    """The frame's index code, or None when its corner is no code (a picture, or too small).

    One 5-row sample of the 16 block centres serves both the check that the blocks are near
    black or white and the reading, which equals ``framecode.read_index``'s. This runs on the
    SDK loop for every received frame, whose pixels are cold in cache there: one numpy copy of
    the 240 sampled bytes, then bytes operations, costs a fraction of a chain of numpy calls.
    """
    if frame.ndim != 3 or frame.shape[0] < BLOCK or frame.shape[1] < BITS * BLOCK:
        return None
    sample = frame[_SAMPLE_ROWS, _SAMPLE_COLUMNS].transpose(1, 0, 2).tobytes()  # block by block
    if sample.translate(None, _CODE_LEVELS):  # some byte is neither near black nor near white
        return None
    code = 0
    for start in range(0, BITS * _BLOCK_SAMPLE, _BLOCK_SAMPLE):
        code = code << 1 | (sum(sample[start : start + _BLOCK_SAMPLE]) > _BRIGHT)
    return code


class FrameIndexer:
    """Per-session reader of model frame facts; feed it states and frames in arrival order."""

    def __init__(self) -> None:
        self._last_code: int | None = None
        self._good = 0
        self._bad = 0
        self._frame: int | None = None  # unwrapped index of the last generated frame
        self._anchors: list[int] = []  # current_frame of each state fact, sorted
        self._facts: list[tuple[int, str | None]] = []  # (chunk, prompt) per anchor

    @property
    def locked(self) -> bool:
        """True while the frame code is trusted."""
        return self._good >= LOCK_STEPS

    def on_state(self, state: dict[str, Any]) -> None:
        """Record what a ``state`` message says about its frame (a reset restarts the facts)."""
        f, k = state.get("current_frame"), state.get("current_chunk")
        if not isinstance(f, int) or isinstance(f, bool) or not isinstance(k, int) or isinstance(k, bool):
            return
        prompt = state.get("current_prompt")
        prompt = prompt if isinstance(prompt, str) else None
        if self._anchors and f < self._anchors[-1]:  # counters went back: reset
            self._anchors, self._facts = [], []
            self._frame = None
        i = bisect.bisect_right(self._anchors, f)
        if i and self._anchors[i - 1] == f:  # same frame: keep a known prompt over an unlatched None
            old_k, old_prompt = self._facts[i - 1]
            self._facts[i - 1] = (k, prompt if prompt is not None or old_k != k else old_prompt)
        else:
            self._anchors.insert(i, f)
            self._facts.insert(i, (k, prompt))

    def _observe(self, code: int | None) -> int | None:
        """Update the lock with one decoded code; the unwrapped frame index when trusted."""
        if code is None:
            self._last_code, self._good = None, 0
            return None
        last = self._last_code
        if code == IDLE_CODE and not (self.locked and last is not None and (code - last) % WRAP <= MAX_STEP):
            return None  # the idle card (frame 65535 of a running counter is not idle)
        self._last_code = code
        if last is not None:
            step = (code - last) % WRAP
            if 0 < step <= MAX_STEP:
                self._good, self._bad = self._good + 1, 0
            elif step:  # a discontinuity (reset, or not a counter at all): re-derive the index
                self._frame = None
                self._bad += 1
                if self._bad >= UNLOCK_JUMPS or not self.locked:
                    self._good = 0
            # step 0 (a held frame while paused, or a still picture) neither builds nor breaks trust
        if not self.locked and self._agrees_with_state(code):
            self._good = LOCK_STEPS  # the code says what the model's state says: trust it at once
        if not self.locked:
            return None
        if self._frame is None:  # the wrap nearest to the latest state's frame
            base = self._anchors[-1] if self._anchors else 0
            self._frame = code + ((base - code + WRAP // 2) // WRAP) * WRAP
        else:
            self._frame += (code - self._frame) % WRAP
        return self._frame

    def _agrees_with_state(self, code: int) -> bool:
        """The code is the frame the latest state reported, or a few frames after it."""
        if not self._anchors:
            return False
        return 0 <= (code - self._anchors[-1]) % WRAP <= ANCHOR_WINDOW

    def facts(self, frame: np.ndarray, state: dict[str, Any] | None) -> FrameFacts:
        """The facts of one arriving frame: exact when the code is trusted, else the latest state's."""
        code = read_code(frame)
        index = self._observe(code)
        if index is None and code == IDLE_CODE:
            return FrameFacts(None, None, None, True)  # the idle card: no generated frame
        if index is None:
            st = state or {}
            f = st.get("current_frame")
            chunk, prompt = st.get("current_chunk"), st.get("current_prompt")
            return FrameFacts(
                f if isinstance(f, int) and not isinstance(f, bool) else None,
                chunk if isinstance(chunk, int) and not isinstance(chunk, bool) else None,
                prompt if isinstance(prompt, str) else None,
            )
        i = bisect.bisect_right(self._anchors, index)
        chunk, prompt = self._facts[i - 1] if i else (None, None)
        if prompt is None and chunk is not None:
            prompt = scheduled_prompt(state, chunk)
        return FrameFacts(index, chunk, prompt, True)

"""Helpers for the Helios tests: image bytes, command runners, message pickers."""

from __future__ import annotations

import base64
import io
from typing import Any

import numpy as np
import pytest
from PIL import Image

from reactor_notebook.runtime.models.helios_sim import HeliosSim
from reactor_notebook.runtime.models.helios_spec import CHUNK_FRAMES
from reactor_notebook.schema import CommandValidationError

C = CHUNK_FRAMES


def image_bytes(
    width: int = 100, height: int = 60, colour: tuple[int, int, int] = (220, 30, 30), fmt: str = "PNG"
) -> bytes:
    """A solid-colour image encoded in ``fmt``."""
    buf = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buf, fmt)
    return buf.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def data_url(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{b64(data)}"


def rejected(sim: HeliosSim, command: str, args: dict[str, Any] | None = None, **kw: Any) -> CommandValidationError:
    """Apply a command that must be rejected; assert nothing changed; return the error."""
    before = sim.state()
    with pytest.raises(CommandValidationError) as info:
        sim.apply(command, args or {}, **kw)
    assert sim.state() == before, "a rejected command changed the state"
    return info.value


def events(messages: list[dict[str, Any]], name: str | None = None) -> list[dict[str, Any]]:
    """Legacy event payloads (optionally of one name)."""
    out = [m["data"] for m in messages if m.get("type") == "event"]
    return [e for e in out if name is None or e["event"] == name]


def states(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m["data"] for m in messages if m.get("type") == "state"]


def run(sim: HeliosSim, n: int) -> tuple[list[np.ndarray], list[dict[str, Any]]]:
    """Step ``n`` frames; return the frames and all messages."""
    frames, msgs = [], []
    for _ in range(n):
        f, m = sim.step()
        frames.append(f)
        msgs.extend(m)
    return frames, msgs


def started(seed: int = 7, prompts: dict[int, str] | None = None, **opts: Any) -> HeliosSim:
    """A sim with prompts scheduled and started."""
    sim = HeliosSim(seed=seed, **opts)
    for k, p in (prompts or {0: "A foggy harbour at dawn"}).items():
        sim.apply("schedule_prompt", {"prompt": p, "chunk": k})
    sim.apply("start")
    return sim


def diff(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute pixel difference outside the frame-code row and the caption strip."""
    return float(np.abs(a[20:-40].astype(np.int16) - b[20:-40].astype(np.int16)).mean())


class Replay:
    """Offline twin of a live session: each command applied at the frame count its ``state`` reported.

    Pixels are a pure function of seed, chunk, frame-in-chunk and latched conditioning, so the
    twin's frames equal the live model's source frames (before encoding) index by index.
    """

    def __init__(self, **options: Any) -> None:
        self.sim = HeliosSim(**options)
        self.pending: list[tuple[int, str, dict[str, Any]]] = []
        self.frames: dict[int, np.ndarray] = {}

    def record(self, frame: int, command: str, args: dict[str, Any] | None = None) -> None:
        """The live model accepted ``command`` when its ``current_frame`` was ``frame``."""
        self.pending.append((frame, command, dict(args or {})))

    def frame(self, index: int) -> np.ndarray:
        """The source pixels of global frame ``index``."""
        while index not in self.frames:
            while self.pending and self.pending[0][0] == self.sim.current_frame:
                _, command, args = self.pending.pop(0)
                self.sim.apply(command, args)
            if self.pending and self.pending[0][0] < self.sim.current_frame:
                raise AssertionError(f"replay passed frame {self.pending[0][0]} of {self.pending[0][1:]}")
            if not self.sim.running:
                raise AssertionError(f"replay cannot reach frame {index}: stopped at {self.sim.current_frame}")
            g = self.sim.current_frame
            self.frames[g], _ = self.sim.step()
        return self.frames[index]

"""Stepped generation in the SDK: ``await reactor.step(...)`` returns every track's frames as NumPy.

A :class:`~.session.Reactor` created with ``generation="stepped"`` starts its session stepped,
offers data-channel chunking (a step's frames far exceed one plain message) and speaks wire v1.
Each :meth:`StepsMixin.step` sends one ``request_step`` (state, commands, media) and returns a
:class:`StepResult`: ``frames[track]`` is an ``(N, H, W, 3)`` uint8 array, plus the step number
and the model's elapsed time. The frames are also pushed into ``reactor.frames`` (ring and
recorders) and the step lands in the timeline. A refused step raises :class:`StepRefusedError`
carrying the runtime's failure code, the request entry at fault and its reason.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..protocol import steps as wire
from .errors import NotSteppedError, ReactorException, StepRefusedError  # noqa: F401  (defined in errors, still importable here)
from .sync import sync_twin

if TYPE_CHECKING:
    from ..frames import FrameBuffer
    from .channels_v1 import V1Channels

__all__ = ["NotSteppedError", "StepRefusedError", "StepResult", "StepsMixin"]

GENERATIONS = ("streamed", "stepped")
STEP_TIMEOUT_S = 60.0




@dataclass(frozen=True)
class StepResult:
    """One step: its number in the session, ``(N, H, W, 3)`` uint8 frames per output track, timings."""

    step: int
    frames: dict[str, np.ndarray]
    elapsed: float  # seconds the model took for the step
    latency: float  # seconds from sending the request to having the arrays
    rate: dict[str, float] = field(default_factory=dict)  # frames per second each track plays at
    error: str | None = None  # a step that ran but that the model reported as failed

    def __repr__(self) -> str:
        tracks = ", ".join(f"{k}: {v.shape[0]} frames {v.shape[2]}x{v.shape[1]}" for k, v in self.frames.items())
        return f"StepResult(step={self.step}, {tracks or 'no frames'}, elapsed={self.elapsed:.3f}s)"

    def track(self, name: str) -> np.ndarray:
        """The frames of one track; KeyError names the tracks the step produced."""
        if name not in self.frames:
            raise KeyError(f"step {self.step} produced no frames on {name!r} (tracks: {', '.join(self.frames) or 'none'})")
        return self.frames[name]


def check_media(media: Mapping[str, Any] | None) -> dict[str, list[np.ndarray]]:
    """``{track: frames}`` as lists of (H, W, 3) uint8 arrays; ValueError names the track and shape."""
    out: dict[str, list[np.ndarray]] = {}
    if media is not None and not isinstance(media, Mapping):
        raise ValueError(f"media must map input track names to frames, got {type(media).__name__}")
    for track, frames in (media or {}).items():
        if isinstance(frames, np.ndarray):
            items = [frames] if frames.ndim == 3 else list(frames)  # one (H, W, 3) frame, or (N, H, W, 3)
        elif isinstance(frames, (list, tuple)):
            items = list(frames)
        else:
            raise ValueError(f"media[{track!r}]: give an (N, H, W, 3) array or a list of (H, W, 3) arrays")
        checked = []
        for i, frame in enumerate(items):
            a = np.asarray(frame)
            if a.dtype != np.uint8 or a.ndim != 3 or a.shape[2] != 3 or 0 in a.shape:
                raise ValueError(
                    f"media[{track!r}][{i}]: a frame is an (H, W, 3) uint8 RGB array, got {a.dtype} {list(a.shape)}"
                )
            checked.append(np.ascontiguousarray(a))
        out[str(track)] = checked
    return out


def check_commands(commands: Sequence[Any] | None) -> list[tuple[str, dict[str, Any]]]:
    """Commands as ``(name, data)``: ``"start"``, ``("set_color", {...})`` or ``{"command": ..., "data": ...}``."""
    out: list[tuple[str, dict[str, Any]]] = []
    name: Any
    data: dict[str, Any]
    for i, c in enumerate(commands or ()):
        if isinstance(c, str):
            name, data = c, {}
        elif isinstance(c, Mapping):
            name, data = c.get("command") or c.get("type"), c.get("data") or {}
        elif isinstance(c, (tuple, list)) and len(c) in (1, 2):
            name, data = c[0], (c[1] if len(c) == 2 else {}) or {}
        else:
            raise ValueError(f"commands[{i}]: give 'name', ('name', {{...}}) or {{'command': ..., 'data': ...}}, got {c!r}")
        if not isinstance(name, str) or not name or not isinstance(data, Mapping):
            raise ValueError(f"commands[{i}]: a command needs a non-empty name and a mapping of data, got {c!r}")
        out.append((name, dict(data)))
    return out


def _wire_value(value: Any) -> Any:
    """A value as it travels in a step: a ``FileRef`` (``upload_file``) becomes its inline reference."""
    to_wire = getattr(value, "to_wire", None)
    return to_wire() if callable(to_wire) else value


class StepsMixin:
    """``step`` / ``step_sync`` for :class:`~.session.Reactor` (the session supplies the fields below)."""

    generation: str
    step_timeout: float
    frames: FrameBuffer
    last_step: StepResult | None

    if TYPE_CHECKING:

        @property
        def v1(self) -> V1Channels | None:
            """The v1 request/response client of the current connection (None on wire v0)."""

        def _emit(self, event: str, *args: Any) -> None: ...

        _sdk: Any
        _session_response: dict[str, Any] | None

    def _init_steps(self, generation: str, step_timeout: float) -> None:
        """Validate and store the generation mode (``Reactor(..., generation=...)``)."""
        if generation not in wire.GENERATIONS:
            raise ValueError(f"generation must be 'streamed' or 'stepped', got {generation!r}")
        if isinstance(step_timeout, bool) or not isinstance(step_timeout, (int, float)) or not 0 < step_timeout < 3600:
            raise ValueError(f"step_timeout must be a number of seconds in (0, 3600), got {step_timeout!r}")
        self.generation = generation
        self.step_timeout = float(step_timeout)
        self.last_step = None

    def _step_wire(self, descriptor: dict[str, Any], preference: str) -> str:
        """The wire preference for this session: v1 when stepped (refused if the runtime did not step it)."""
        if self.generation != wire.STEPPED:
            return preference
        got = descriptor.get("generation")
        if got != wire.STEPPED:
            raise NotSteppedError(
                f"the runtime started a {got or 'streamed'} session although generation='stepped' was asked "
                f"(descriptor generation: {got!r}): this runtime or model does not support stepped generation"
            )
        return "v1"

    async def step(
        self,
        state: Mapping[str, Any] | None = None,
        commands: Sequence[Any] | None = None,
        media: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
    ) -> StepResult:
        """Run one step: ``state`` (each key as ``set_<key>``), then ``commands``, then ``media``; return its frames."""
        return await self._sdk.run(self._step(state, commands, media, timeout))

    step_sync = sync_twin(
        step,
        wait=lambda self, timeout: (timeout or self.step_timeout) + 5.0,
        doc="Blocking :meth:`step` for plain cells and magics.",
    )

    async def _step(
        self,
        state: Mapping[str, Any] | None,
        commands: Sequence[Any] | None,
        media: Mapping[str, Any] | None,
        timeout: float | None,
    ) -> StepResult:
        if self.generation != "stepped":
            raise NotSteppedError(
                "step() needs a stepped session: create the client with Reactor(..., generation='stepped')"
            )
        if state is not None and not isinstance(state, Mapping):
            raise ValueError(f"state must be a mapping of model state keys to values, got {type(state).__name__}")
        plain_state = {k: _wire_value(v) for k, v in (state or {}).items()}
        plain_commands = [(n, {k: _wire_value(v) for k, v in d.items()}) for n, d in check_commands(commands)]
        body = wire.encode_request(plain_state, plain_commands, check_media(media))
        channels = self.v1
        if channels is None:
            raise NotSteppedError("step() needs a connected stepped session: call connect() first")
        t0 = time.monotonic()
        reply = await channels.request_data({"request_step": body}, timeout or self.step_timeout)
        decoded = wire.decode_result(reply.get("step_result") or {})
        latency = time.monotonic() - t0
        if decoded.failure is not None:
            raise StepRefusedError(decoded.failure, decoded.error or "", decoded.entry, decoded.code)
        result = StepResult(decoded.step, decoded.frames, decoded.elapsed, latency, decoded.rates, decoded.error)
        self._record(result, dict(state or {}), commands)
        return result

    def _record(self, result: StepResult, state: dict[str, Any], commands: Sequence[Any] | None) -> None:
        """Frames into ``reactor.frames`` (read-only views), the step into the timeline, a ``step`` event."""
        for name, frames in result.frames.items():
            frames.flags.writeable = False
            for i in range(frames.shape[0]):
                self.frames.push(frames[i], track=name, frame_index=i, exact=True)
        self.frames.add_event(
            "step", f"step {result.step}",
            {"step": result.step, "state": state, "commands": [c for c, _ in check_commands(commands)],
             "frames": {k: int(v.shape[0]) for k, v in result.frames.items()},
             "elapsed": result.elapsed, "latency": result.latency},
        )
        self.last_step = result
        self._emit("step_result", result)


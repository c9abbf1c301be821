"""Stepped generation: one client request in, exactly one step of frames out.

A session started with ``generation: "stepped"`` does not stream. Each step request carries
``state`` (each key becomes the model's ``set_<key>`` command, in ascending key order),
``commands`` (in order) and ``media`` (frames per input track). :class:`Stepper` checks the
whole request first, on the event loop, so a refused request changes nothing; then, on the
session's model thread, it applies the calls, hands the media frames to the model, and takes
the model's step (:meth:`Model.step_frames`: Helios one 33-frame chunk, testpattern 4 frames).
The wire side (v1 ``request_step`` → ``step_result``, chunked) lives in ``runtime/step_channel.py``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..media import is_rgb_frame
from ..schema import CommandSpec, CommandValidationError, validate_command
from .models.base import Frame, Model, TrackSpec, Upload

__all__ = ["StepCall", "StepOutput", "StepRefused", "StepRequest", "Stepper"]

# Why a step did not run; the names of the reference's StepFailureCode values.
REFUSED = "REFUSED"
NOT_READY = "NOT_READY"
FAILED = "FAILED"
RESULT_TOO_LARGE = "RESULT_TOO_LARGE"
COMMAND_FAILED = "COMMAND_FAILED"
SESSION_ENDED = "SESSION_ENDED"


class StepRefused(Exception):
    """A step that did not run: ``failure`` (one of the codes above), the ``entry`` at fault, why."""

    def __init__(self, failure: str, message: str, entry: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.failure = failure
        self.message = message
        self.entry = entry
        self.code = code


@dataclass(frozen=True)
class StepCall:
    """One call a step makes before it generates: ``entry`` names it in the request (``state.prompt``)."""

    entry: str
    command: str
    args: dict[str, Any]
    uploads: dict[str, Any] = field(default_factory=dict)


@dataclass
class StepRequest:
    """A step request as the wire decoded it: state, commands and media by input track."""

    state: dict[str, Any] = field(default_factory=dict)
    commands: list[tuple[str, Any, dict[str, Any]]] = field(default_factory=list)  # (name, data, uploads)
    media: list[tuple[str, list[Any]]] = field(default_factory=list)  # (track, frames) in request order


@dataclass
class StepOutput:
    """What one step produced: its number in the session, (N, H, W, 3) frames per output track."""

    step: int
    tracks: dict[str, np.ndarray]
    elapsed: float
    rate: float


@dataclass
class _Prepared:
    calls: list[tuple[StepCall, dict[str, Any], dict[str, Upload]]]
    media: dict[str, list[Frame]]


class Stepper:
    """The steps of one session: checks requests on the loop, runs them on the model thread."""

    def __init__(self, model: Model, commands: Sequence[CommandSpec], tracks: Sequence[TrackSpec]) -> None:
        self.model = model
        self._commands = {c.name: c for c in commands}
        self._inputs = {t.name for t in tracks if t.direction == "in"}
        self.steps = 0
        self.order = asyncio.Lock()  # held by the wire side from a request's checks to its step

    # --- on the event loop ---------------------------------------------------------------------
    def prepare(self, request: StepRequest, resolve_uploads: Any = None) -> _Prepared:
        """Check the whole request; raise :class:`StepRefused` naming the entry at fault."""
        calls: list[tuple[StepCall, dict[str, Any], dict[str, Upload]]] = []
        for key in sorted(request.state):
            call = StepCall(f"state.{key}", f"set_{key}", {key: request.state[key]})
            if call.command not in self._commands:
                settable = sorted(n[4:] for n, c in self._commands.items() if n.startswith("set_") and c.param(n[4:]))
                raise StepRefused(
                    REFUSED,
                    f"state.{key} is refused: the model has no command 'set_{key}' "
                    f"(state keys the model takes: {', '.join(settable) or 'none'})",
                    call.entry,
                )
            calls.append(self._checked(self._inline_uploads(call), resolve_uploads))
        for i, (name, data, uploads) in enumerate(request.commands):
            call = StepCall(f"commands[{i}]", str(name), data, dict(uploads or {}))
            calls.append(self._checked(self._inline_uploads(call), resolve_uploads))
        return _Prepared(calls, self._checked_media(request.media))

    def _inline_uploads(self, call: StepCall) -> StepCall:
        """An upload-typed field given inline (``{"upload_id": ...}``, as a state value is) moves to uploads."""
        spec = self._commands.get(call.command)
        if spec is None or not isinstance(call.args, dict):
            return call
        inline = {
            k: v for k, v in call.args.items()
            if isinstance(v, dict) and "upload_id" in v and (p := spec.param(k)) is not None and p.is_upload
        }
        if not inline:
            return call
        args = {k: v for k, v in call.args.items() if k not in inline}
        return StepCall(call.entry, call.command, args, {**call.uploads, **inline})

    def _checked(self, call: StepCall, resolve_uploads: Any) -> tuple[StepCall, dict[str, Any], dict[str, Upload]]:
        try:
            args = validate_command(self._commands, call.command, call.args, fill_defaults=True, uploads=call.uploads)
            resolved = resolve_uploads(call.command, call.uploads) if (resolve_uploads and call.uploads) else {}
        except CommandValidationError as err:
            raise StepRefused(REFUSED, f"{call.entry} is refused: {err.message}", call.entry, err.reason) from None
        return call, args, resolved

    def _checked_media(self, media: list[tuple[str, list[Any]]]) -> dict[str, list[Frame]]:
        out: dict[str, list[Frame]] = {}
        for i, (track, frames) in enumerate(media):
            where = f"media_input[{i}]"
            if track not in self._inputs:
                inputs = ", ".join(sorted(self._inputs)) or "none"
                raise StepRefused(REFUSED, f"{where} names {track!r}, which is not an input track of the model "
                                  f"(input tracks: {inputs})", where)
            if track in out:
                raise StepRefused(REFUSED, f"{where} names {track!r} a second time", where)
            want = self.model.input_shape(track)
            checked: list[Frame] = []
            for j, frame in enumerate(frames):
                arr = np.asarray(frame)
                if not is_rgb_frame(arr) or 0 in arr.shape:
                    raise StepRefused(REFUSED, f"{where}.frames[{j}]: a video frame is (height, width, 3) uint8, "
                                      f"got {arr.dtype} {list(arr.shape)}", f"{where}.frames[{j}]")
                if want is not None and tuple(arr.shape[:2]) != tuple(want):
                    raise StepRefused(REFUSED, f"{where}.frames[{j}]: {track!r} takes {want[1]}x{want[0]} frames "
                                      f"(shape {[want[0], want[1], 3]}), got shape {list(arr.shape)}",
                                      f"{where}.frames[{j}]")
                checked.append(arr)
            out[track] = checked
        return out

    # --- on the model thread ---------------------------------------------------------------------
    def run(self, prepared: _Prepared) -> StepOutput:
        """Apply the calls, then the media, then take the model's step (call on the model thread)."""
        model = self.model
        for call, args, uploads in prepared.calls:
            try:
                model.handle_command(call.command, args, uploads)
            except CommandValidationError as err:
                raise StepRefused(COMMAND_FAILED, f"{call.entry} ({call.command}) failed: {err.message}",
                                  call.entry, err.reason) from None
            except Exception as exc:  # a model bug: the step does not run, the runtime keeps serving
                raise StepRefused(COMMAND_FAILED, f"{call.entry} ({call.command}) failed: {type(exc).__name__}: {exc}",
                                  call.entry, "model_error") from None
        for track, frames in prepared.media.items():
            for frame in frames:
                model.on_input_frame(track, frame)
        t0 = time.perf_counter()
        try:
            produced = model.step_frames()
        except Exception as exc:
            raise StepRefused(FAILED, f"the model failed the step: {type(exc).__name__}: {exc}") from None
        elapsed = time.perf_counter() - t0
        self.steps += 1
        tracks = {name: _stack(name, frames) for name, frames in produced.items()}
        return StepOutput(self.steps, tracks, elapsed, float(model.fps))


def _stack(track: str, frames: Sequence[Frame] | np.ndarray) -> np.ndarray:
    """One track's step frames as a contiguous (N, H, W, 3) uint8 array."""
    arr = np.asarray(frames)
    if arr.ndim == 3:
        arr = arr[None]
    if arr.ndim != 4 or arr.shape[3] != 3:
        raise StepRefused(FAILED, f"the model's step frames for {track!r} are not (N, H, W, 3): {list(arr.shape)}")
    return np.ascontiguousarray(arr, dtype=np.uint8)


def state_calls(state: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """How ``state`` becomes commands: ``(set_<key>, {key: value})`` in ascending key order."""
    return [(f"set_{k}", {k: state[k]}) for k in sorted(state)]

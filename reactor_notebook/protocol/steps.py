"""Stepped generation on wire v1: ``request_step`` and ``step_result`` as dicts of the v1 codec.

Shared by the SDK (builds requests, reads results) and the runtime (reads requests, builds
results and refusals). Frames travel RAW: ``Frame{encoding: raw, dtype: "uint8", shape:
[height, width, 3], data}`` row-major RGB, one ``TrackFrames{track, kind: video, frames, rate}``
per track. A step that did not run is a ``step_result`` with ``failure_code`` (``refused``,
``not_ready``, ``failed``, ``result_too_large``, ``command_failed``, ``session_ended``), the
reason in ``error`` and the request ``entry`` at fault (``state.prompt``, ``commands[0]``,
``media_input[0].frames[2]``). The wire facts: docs/steps.md.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

STEPPED = "stepped"
STREAMED = "streamed"
GENERATIONS = (STREAMED, STEPPED)
RAW = "raw"
VIDEO = "video"
DTYPE = "uint8"

__all__ = [
    "GENERATIONS",
    "STEPPED",
    "STREAMED",
    "DecodedResult",
    "StepWireError",
    "decode_request",
    "decode_result",
    "encode_request",
    "frame_of",
    "media_bytes",
    "refusal",
    "step_result",
]


class StepWireError(ValueError):
    """A step message whose frames or fields do not fit the wire rules (``entry`` names the part)."""

    def __init__(self, message: str, entry: str | None = None) -> None:
        super().__init__(message)
        self.entry = entry


def frame_of(array: np.ndarray) -> dict[str, Any]:
    """One (H, W, 3) uint8 RGB array as a RAW ``Frame`` dict."""
    a = np.ascontiguousarray(array, dtype=np.uint8)
    return {"encoding": RAW, "dtype": DTYPE, "shape": list(a.shape), "data": a.tobytes()}


def array_of(frame: Mapping[str, Any], where: str) -> np.ndarray:
    """A RAW ``Frame`` dict as an (H, W, 3) uint8 array (a read-only view of its bytes)."""
    encoding = frame.get("encoding", "unspecified")
    if encoding != RAW:
        raise StepWireError(f"{where}: frame encoding {encoding!r} is not supported (only raw)", where)
    dtype = frame.get("dtype")
    shape = [int(x) for x in frame.get("shape") or []]
    if dtype != DTYPE:
        raise StepWireError(f"{where}: a raw video frame is uint8, not {dtype!r}", where)
    if len(shape) != 3 or shape[2] != 3 or 0 in shape:
        raise StepWireError(f"{where}: a raw video frame is (height, width, 3), got shape {shape}", where)
    data = frame.get("data") or b""
    expected = math.prod(shape)
    if len(data) != expected:
        raise StepWireError(f"{where}: a raw frame of shape {shape} is {expected} bytes, got {len(data)}", where)
    return np.frombuffer(data, dtype=np.uint8).reshape(shape)


def encode_request(
    state: Mapping[str, Any],
    commands: list[tuple[str, dict[str, Any]]],
    media: Mapping[str, list[np.ndarray]],
) -> dict[str, Any]:
    """The ``request_step`` payload: state Struct, commands, RAW media per input track."""
    body: dict[str, Any] = {"state": dict(state), "commands": [{"type": n, "data": d} for n, d in commands]}
    if media:
        body["media_input"] = [
            {"track": track, "kind": VIDEO, "frames": [frame_of(f) for f in frames]} for track, frames in media.items()
        ]
    return body


def decode_request(body: Mapping[str, Any]) -> tuple[dict[str, Any], list[tuple[str, Any, dict[str, Any]]], list[tuple[str, list[np.ndarray]]]]:
    """A ``request_step`` payload → (state, [(command, data, uploads)], [(track, frames)])."""
    state = dict(body.get("state") or {})
    commands = [
        (str(c.get("type") or ""), c.get("data") or {}, dict(c.get("uploads") or {})) for c in body.get("commands") or []
    ]
    media = []
    for i, entry in enumerate(body.get("media_input") or []):
        where = f"media_input[{i}]"
        kind = entry.get("kind", "unspecified")
        if kind not in (VIDEO, "unspecified"):
            raise StepWireError(f"{where}: only video tracks take step frames, got kind {kind!r}", where)
        frames = [array_of(f, f"{where}.frames[{j}]") for j, f in enumerate(entry.get("frames") or [])]
        media.append((str(entry.get("track") or ""), frames))
    return state, commands, media


def step_result(step: int, tracks: Mapping[str, list[np.ndarray]], elapsed: float, rate: float) -> dict[str, Any]:
    """A successful ``step_result``: RAW frames of every output track."""
    return {
        "step": int(step),
        "elapsed_seconds": float(elapsed),
        "tracks": [
            {"track": name, "kind": VIDEO, "rate": float(rate), "frames": [frame_of(f) for f in frames]}
            for name, frames in tracks.items()
        ],
    }


def refusal(failure: str, error: str, entry: str | None = None, code: str | None = None) -> dict[str, Any]:
    """A ``step_result`` for a step that did not run: no number, ``failure_code`` and why."""
    out: dict[str, Any] = {"failure_code": failure.lower(), "error": error}
    if entry:
        out["entry"] = entry
    if code:
        out["code"] = code
    return out


def media_bytes(result: Mapping[str, Any]) -> int:
    """Bytes of frame data a ``step_result`` carries (what decides whether it fits a message)."""
    return sum(len(f.get("data") or b"") for t in result.get("tracks") or [] for f in t.get("frames") or [])


@dataclass
class DecodedResult:
    """A ``step_result`` read by a client: frames stacked per track, or the failure."""

    step: int = 0
    frames: dict[str, np.ndarray] = field(default_factory=dict)
    rates: dict[str, float] = field(default_factory=dict)
    elapsed: float = 0.0
    error: str | None = None
    failure: str | None = None
    entry: str | None = None
    code: str | None = None


def decode_result(result: Mapping[str, Any]) -> DecodedResult:
    """A ``step_result`` dict → (N, H, W, 3) uint8 arrays per track, or the failure it reports."""
    failure = str(result.get("failure_code") or "unspecified")
    out = DecodedResult(
        step=int(result.get("step") or 0),
        elapsed=float(result.get("elapsed_seconds") or 0.0),
        error=result.get("error") or None,
        entry=result.get("entry") or None,
        code=result.get("code") or None,
    )
    if failure != "unspecified":
        out.failure = failure.upper()
        return out
    for i, track in enumerate(result.get("tracks") or []):
        name = str(track.get("track") or f"track{i}")
        frames = [array_of(f, f"tracks[{i}].frames[{j}]") for j, f in enumerate(track.get("frames") or [])]
        if frames:
            shapes = {f.shape for f in frames}
            if len(shapes) != 1:
                raise StepWireError(f"tracks[{i}] ({name!r}): frames of different shapes {sorted(shapes)}")
            out.frames[name] = np.stack(frames)
        out.rates[name] = float(track.get("rate") or 0.0)
    return out

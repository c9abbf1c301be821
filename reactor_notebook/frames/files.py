"""Frame arrays to and from files: H.264 MP4 and GIF (PyAV, imported on use) and ``.npz`` with metadata.

Every function takes or returns ``(N, H, W, 3)`` uint8 RGB arrays; :class:`FrameBuffer`'s ``save_*``
methods call these with the frames it holds.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..profiles.helios import STATE_COLUMNS
from .meta import Frame, FrameMeta
from .timeline import TimelineEntry

DEFAULT_FPS = 24.0


def _as_video(frames: Frame | Sequence[Frame]) -> Frame:
    arr = np.asarray(frames) if not isinstance(frames, np.ndarray) else frames
    if arr.ndim == 3:
        arr = arr[None]
    if arr.ndim != 4 or arr.shape[-1] != 3:
        raise ValueError(f"expected frames shaped (N, H, W, 3), got {arr.shape}")
    if arr.dtype != np.uint8:
        raise ValueError(f"expected uint8 frames, got {arr.dtype}")
    if arr.shape[0] == 0:
        raise ValueError("no frames to save")
    return arr


def _fps_fraction(fps: float) -> Any:
    from fractions import Fraction

    if not (isinstance(fps, (int, float)) and math.isfinite(fps) and fps > 0):
        raise ValueError(f"fps must be a positive number, got {fps!r}")
    return Fraction(fps).limit_denominator(1001)


def save_mp4(
    frames: Frame | Sequence[Frame], path: str | os.PathLike[str], fps: float = DEFAULT_FPS, *, crf: int = 18
) -> str:
    """Encode ``(N, H, W, 3)`` uint8 frames to H.264 (yuv420p) MP4 with PyAV; odd sizes are padded."""
    import av

    from ..exporting import open_writer

    arr = _as_video(frames)
    n, h, w, _ = arr.shape
    ph, pw = h + (h & 1), w + (w & 1)
    path = os.fspath(path)
    with open_writer(path, "save_mp4") as container:
        stream = container.add_stream("libx264", rate=_fps_fraction(fps))
        stream.width, stream.height = pw, ph
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": str(crf), "preset": "veryfast"}
        buf = np.zeros((ph, pw, 3), np.uint8) if (ph, pw) != (h, w) else None
        for i in range(n):
            img = arr[i]
            if buf is not None:
                buf[:h, :w] = img
                img = buf
            for packet in stream.encode(
                av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")
            ):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def save_gif(frames: Frame | Sequence[Frame], path: str | os.PathLike[str], fps: float = DEFAULT_FPS) -> str:
    """Encode frames to an animated GIF with PyAV (palette per frame)."""
    import av

    from ..exporting import open_writer

    arr = _as_video(frames)
    path = os.fspath(path)
    with open_writer(path, "save_gif", format="gif") as container:
        stream = container.add_stream("gif", rate=_fps_fraction(fps))
        stream.width, stream.height = arr.shape[2], arr.shape[1]
        stream.pix_fmt = "rgb8"
        for img in arr:
            vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24").reformat(format="rgb8")
            for packet in stream.encode(vf):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def read_video(path: str | os.PathLike[str]) -> Frame:
    """Decode a video file (mp4, gif, ...) to ``(N, H, W, 3)`` uint8 RGB with PyAV."""
    import av

    with av.open(os.fspath(path)) as container:
        out = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    if not out:
        raise ValueError(f"{os.fspath(path)!r} holds no video frames")
    return np.stack(out)


def save_npz(
    frames: Frame | Sequence[Frame],
    path: str | os.PathLike[str],
    *,
    metas: Sequence[FrameMeta] | None = None,
    timeline: Sequence[TimelineEntry] | None = None,
    compressed: bool = False,
    state_columns: Sequence[str] = STATE_COLUMNS,
) -> str:
    """Save frames (+ per-frame metadata columns and the timeline as JSON) to ``.npz``."""
    arr = _as_video(frames)
    payload: dict[str, Any] = {"frames": arr}
    if metas is not None:
        if len(metas) != len(arr):
            raise ValueError(f"{len(metas)} metadata rows for {len(arr)} frames")
        rows = [m.as_row(state_columns) for m in metas]
        for key in rows[0] if rows else ():
            col = [r[key] for r in rows]
            if all(isinstance(v, (int, float, bool)) and not isinstance(v, bool) for v in col):
                payload[f"meta_{key}"] = np.asarray(col)
            else:
                payload[f"meta_{key}"] = np.asarray([json.dumps(v, default=str) for v in col])
    if timeline is not None:
        payload["timeline_json"] = np.asarray(json.dumps([e.as_row() for e in timeline], default=str))
    path = os.fspath(path)
    (np.savez_compressed if compressed else np.savez)(path, **payload)
    return path if path.endswith(".npz") else path + ".npz"


def load_npz(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a :func:`save_npz` file: ``frames`` array, ``meta`` dict of columns, ``timeline`` list."""
    with np.load(os.fspath(path), allow_pickle=False) as data:
        out: dict[str, Any] = {"frames": data["frames"], "meta": {}, "timeline": []}
        for key in data.files:
            if key.startswith("meta_"):
                col = data[key]
                if col.dtype.kind == "U":
                    out["meta"][key[5:]] = [json.loads(v) for v in col.tolist()]
                else:
                    out["meta"][key[5:]] = col
        if "timeline_json" in data.files:
            out["timeline"] = json.loads(str(data["timeline_json"]))
    return out

"""The rolling recording stays inside its window and byte budget, and what it keeps decodes in order."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from reactor_notebook.runtime.media import to_yuv420
from reactor_notebook.runtime.recording import SegmentPolicy, TrackRecording
from reactor_notebook.runtime.recording.segments import INIT_FILENAME, segment_name
from reactor_notebook.sdk.clips import decode_clip

FPS = 24.0
_NOISE = np.random.default_rng(0).integers(0, 256, (96, 160, 3), dtype=np.uint8)  # big segments


def _frame(index: int) -> np.ndarray:
    """Moving noise with ``index`` as 16 black/white 10-px blocks on top (160 px wide frames)."""
    frame = np.roll(_NOISE, 3 * index, axis=1)
    bits = (index >> np.arange(15, -1, -1)) & 1
    frame[:16] = np.repeat(bits.astype(np.uint8) * 255, 10)[None, :, None]
    return frame


def _read(frame: np.ndarray) -> int:
    bits = (frame[6:11, 5 + 10 * np.arange(16)].astype(np.float32).mean(axis=(0, 2)) > 127).astype(np.int64)
    return int((bits << np.arange(15, -1, -1)).sum())


def _feed(rec: TrackRecording, start: int, n: int, scale: int = 1) -> None:
    """Offer frames (``scale`` times bigger) as fast as the encoder takes them, so none is dropped."""
    for i in range(start, start + n):
        rec.offer(to_yuv420(np.repeat(np.repeat(_frame(i), scale, axis=0), scale, axis=1)))
        deadline = time.monotonic() + 10
        while rec.frames_written < i - 2:
            assert time.monotonic() < deadline, "the recorder stopped encoding"
            time.sleep(0.002)


def test_window_keeps_the_newest_segments_and_they_decode_in_order(tmp_path: Path) -> None:
    rec = TrackRecording("main", tmp_path / "main", FPS, SegmentPolicy(segment_s=1.0, window_s=3.0))
    _feed(rec, 0, 24 * 8 + 5)
    rec.stop()
    assert rec.available() == (6, 8) and rec.oldest == 6  # a 3 s window: 3 segments (the last one short)
    names = sorted(p.name for p in rec.directory.glob("*.m4s"))
    assert names == [segment_name(i) for i in range(6, 9)]
    data = (rec.directory / INIT_FILENAME).read_bytes() + b"".join(
        (rec.directory / segment_name(i)).read_bytes() for i in range(6, 9)
    )
    assert [_read(f) for f in decode_clip(data)] == list(range(24 * 6, 24 * 8 + 5))
    assert rec.duration(8) == 5 / FPS and rec.frames_dropped == 0


def test_byte_budget_bounds_the_disk(tmp_path: Path) -> None:
    budget = 400_000
    policy = SegmentPolicy(segment_s=1.0, window_s=600.0, max_bytes=budget)
    rec = TrackRecording("main", tmp_path / "main", FPS, policy)
    peak = 0
    for second in range(12):
        _feed(rec, 24 * second, 24)
        peak = max(peak, sum(p.stat().st_size for p in rec.directory.glob("chunk_*.m4s")))
    rec.stop()
    sizes = [p.stat().st_size for p in rec.directory.glob("chunk_*.m4s")]
    assert rec.oldest > 0, "the budget never forced a deletion: the frames compress too well"
    assert sum(sizes) <= budget
    assert peak <= budget + max(sizes) * 2  # closed segments within budget, plus the one being written


def test_a_change_of_frame_size_keeps_recording_at_the_first_size(tmp_path: Path) -> None:
    rec = TrackRecording("main", tmp_path / "main", FPS, SegmentPolicy(segment_s=1.0))
    _feed(rec, 0, 30)
    _feed(rec, 30, 30, scale=2)  # twice the size from here on, as after a super-resolution switch
    rec.stop()
    assert rec.failed is None and rec.frames_written == 60
    data = (rec.directory / INIT_FILENAME).read_bytes() + b"".join(
        (rec.directory / segment_name(i)).read_bytes() for i in range(3)
    )
    frames = decode_clip(data)
    assert frames.shape == (60, 96, 160, 3)
    assert [_read(f) for f in frames] == list(range(60))

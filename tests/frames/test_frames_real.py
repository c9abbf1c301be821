"""FrameBuffer fed by a real session (SDK over aiortc WebRTC from the embedded testpattern runtime)."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from reactor_notebook.framecode import read_index
from reactor_notebook.frames import FrameBuffer, load_npz, read_video
from reactor_notebook.runtime import LocalRuntime
from reactor_notebook.sdk import Reactor

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def reactor() -> Iterator[Reactor]:
    with LocalRuntime(model="testpattern", port=0) as rt:
        r = Reactor("testpattern", local=True, local_url=rt.url)
        r.frames.configure(max_frames=10)
        r.connect_sync()
        try:
            yield r
        finally:
            r.disconnect_sync()


def test_live_capture_bounds_and_exports(reactor: Reactor, tmp_path) -> None:
    arr, metas = reactor.frames.record(30, return_meta=True)  # three times the ring size
    idx = [read_index(f) for f in arr]
    # in order; the runtime repeats its last frame when the model lags on a loaded machine
    assert all(b >= a for a, b in itertools.pairwise(idx)), idx
    assert len(set(idx)) >= 15 and idx[-1] - idx[0] < 60, idx
    assert arr.shape[1:] == (384, 640, 3)
    assert len(reactor.frames) == 10 and reactor.frames.nbytes == 10 * 384 * 640 * 3
    assert reactor.frames.evicted >= 20
    img = reactor.frames.snapshot()
    assert img.size == (640, 384)
    back = read_video(reactor.frames.save_mp4(tmp_path / "ring.mp4"))
    assert len(back) == 10
    assert all(b >= a for a, b in itertools.pairwise([read_index(f) for f in back]))
    df = reactor.frames.to_dataframe(metas)
    assert df["seq"].tolist() == [m.seq for m in metas] and (df["width"] == 640).all()
    tl = reactor.frames.timeline()
    assert "ready" in tl.loc[tl["kind"] == "status", "name"].tolist()


async def test_async_capture_and_iteration_from_another_loop(reactor: Reactor) -> None:
    arr = await reactor.frames.arecord(12)
    idx = [read_index(f) for f in arr]
    assert all(b >= a for a, b in itertools.pairwise(idx)), idx
    seen = []
    async for frame, meta in reactor.frames:
        seen.append((read_index(frame), meta.seq))
        if len(seen) == 5:
            break
    assert all(b[1] > a[1] and b[0] >= a[0] for a, b in itertools.pairwise(seen)), seen
    assert seen[0][0] >= idx[-1]


def test_iter_live_estimated_fps_and_clear_on_a_live_stream(reactor: Reactor) -> None:
    fb = reactor.frames
    start, t0 = fb.seq, time.monotonic()
    seen = []
    for frame, meta in fb.iter_live(timeout=5):
        seen.append((meta.seq, read_index(frame)))
        if len(seen) == 8:
            break
    measured = (fb.seq - start) / (time.monotonic() - t0)  # this run's own rate: the reference
    assert [s for s, _ in seen] == sorted({s for s, _ in seen}) and seen[0][0] > start, seen
    assert all(b >= a for a, b in itertools.pairwise([i for _, i in seen])), seen
    fps = fb.estimated_fps()
    assert fps is not None and measured / 3 <= fps <= measured * 3, (fps, measured)
    fb.clear()
    assert len(fb) == 0 and fb.nbytes == 0 and fb.estimated_fps() is None
    with pytest.raises(ValueError, match="empty"):
        fb.to_array()
    seq = fb.seq
    assert fb.wait_next(seq, 5) is not None and fb.seq > seq  # the stream refills a cleared buffer


def test_to_array_last_and_track_select_frames(reactor: Reactor) -> None:
    fb = FrameBuffer(max_frames=20)
    for frame in reactor.frames.record(6):
        fb.push(frame, track="main_video")
    other = np.full((8, 256, 3), 7, np.uint8)
    fb.push(other, track="depth")
    main = [f for f, m in fb.frames() if m.track == "main_video"]
    assert np.array_equal(fb.to_array(track="main_video"), np.stack(main))
    assert np.array_equal(fb.to_array(last=2, track="main_video"), np.stack(main[-2:]))
    assert np.array_equal(fb.to_array(), other[None])  # default: the newest frame's track
    assert fb.to_array(last=4).shape == (1, 8, 256, 3)  # only that track's frames count
    with pytest.raises(ValueError, match="no frames of track 'nope'"):
        fb.to_array(track="nope")


def test_save_npz_compressed_and_save_mp4_crf(reactor: Reactor, tmp_path: Path) -> None:
    fb = FrameBuffer(max_frames=20)
    for frame in reactor.frames.record(10):
        fb.push(frame, track="main_video")
    plain = Path(fb.save_npz(tmp_path / "plain.npz"))
    packed = Path(fb.save_npz(tmp_path / "packed.npz", compressed=True))
    a, b = load_npz(plain), load_npz(packed)
    assert np.array_equal(a["frames"], b["frames"]) and a["frames"].shape == (10, 384, 640, 3)
    assert list(a["meta"]["seq"]) == list(b["meta"]["seq"]) == [m.seq for m in fb.metas()]
    assert packed.stat().st_size < plain.stat().st_size / 2  # the test pattern compresses well
    src = fb.to_array()
    fine = Path(fb.save_mp4(tmp_path / "fine.mp4", fps=24, crf=10))
    coarse = Path(fb.save_mp4(tmp_path / "coarse.mp4", fps=24, crf=45))
    fine_back, coarse_back = read_video(fine), read_video(coarse)
    assert len(fine_back) == len(coarse_back) == 10
    err = [float(np.abs(back.astype(int) - src.astype(int)).mean()) for back in (fine_back, coarse_back)]
    assert coarse.stat().st_size < fine.stat().st_size and err[1] > err[0], (err, fine.stat(), coarse.stat())
    assert [read_index(f) for f in fine_back] == [read_index(f) for f in src]  # crf 10 keeps the index code

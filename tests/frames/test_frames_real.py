"""FrameBuffer fed by a real session (SDK over aiortc WebRTC from the embedded testpattern runtime)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from reactor_notebook.framecode import read_index
from reactor_notebook.frames import read_video
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

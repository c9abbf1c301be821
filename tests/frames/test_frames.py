"""FrameBuffer: bounds (count and bytes), live capture, iteration, tables and exports."""

from __future__ import annotations

import asyncio
import gc
import itertools
import sys
import threading
import weakref

import numpy as np
import pytest
from frames_support import Feeder, numbered

from reactor_notebook import frames as frames_mod
from reactor_notebook.framecode import read_index
from reactor_notebook.frames import FrameBuffer, load_npz, read_video, save_gif, save_mp4


def indices(arr: np.ndarray) -> list[int]:
    return [read_index(f) for f in arr]


# --- bounds ------------------------------------------------------------------------------------
def test_count_bound_holds_for_long_streams() -> None:
    buf = FrameBuffer(max_frames=25, max_bytes=None)
    for i in range(2000):
        buf.push(numbered(i))
    assert len(buf) == 25
    assert buf.nbytes == 25 * numbered(0).nbytes
    assert buf.evicted == 2000 - 25
    assert buf.seq == 1999
    assert [read_index(f) for f, _ in buf.frames()] == list(range(1975, 2000))


def test_byte_bound_in_mb_and_evicted_frames_are_released() -> None:
    frame_bytes = numbered(0).nbytes  # 61440
    buf = FrameBuffer(max_frames=10_000, max_mb=0.5)
    allowed = (512 * 1024) // frame_bytes
    refs = []
    for i in range(500):
        f = numbered(i)
        refs.append(weakref.ref(f))
        buf.push(f)
        del f
        assert buf.nbytes <= 512 * 1024
    assert len(buf) == allowed
    gc.collect()
    alive = [i for i, r in enumerate(refs) if r() is not None]
    assert alive == list(range(500 - allowed, 500)), "evicted frames must not be kept alive anywhere"


def test_configure_shrinks_at_once_and_rejects_bad_sizes() -> None:
    buf = FrameBuffer(max_frames=100)
    for i in range(50):
        buf.push(numbered(i))
    buf.configure(max_frames=10)
    assert len(buf) == 10 and indices(buf.to_array()) == list(range(40, 50))
    buf.configure(max_mb=2 * numbered(0).nbytes / (1024 * 1024))
    assert len(buf) == 2
    assert buf.max_mb == pytest.approx(2 * numbered(0).nbytes / (1024 * 1024))
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="max_frames"):
            buf.configure(max_frames=bad)
    with pytest.raises(ValueError, match="max_mb"):
        buf.configure(max_mb=0)
    with pytest.raises(ValueError, match="not both"):
        buf.configure(max_mb=1, max_bytes=100)
    assert "FrameBuffer 2/10 frames" in repr(buf)


def test_a_single_oversized_frame_is_still_kept() -> None:
    buf = FrameBuffer(max_frames=5, max_bytes=10)
    buf.push(numbered(1))
    buf.push(numbered(2))
    assert len(buf) == 1 and read_index(buf.latest()) == 2


# --- snapshot / latest ------------------------------------------------------------------------
def test_snapshot_is_a_pil_copy_of_the_newest_frame() -> None:
    buf = FrameBuffer()
    with pytest.raises(TimeoutError, match="no frame arrived"):
        buf.snapshot(timeout=0.05)
    buf.push(numbered(7))
    buf.push(numbered(8))
    img = buf.snapshot()
    assert img.size == (320, 64) and img.mode == "RGB"
    assert read_index(np.asarray(img)) == 8
    copy = buf.latest()
    copy[:] = 0
    assert read_index(buf.latest()) == 8


# --- record ----------------------------------------------------------------------------------
def test_record_n_captures_every_live_frame_from_now_on(feeder: Feeder) -> None:
    feeder.start()
    assert feeder.buf.wait_next(-1, 5) is not None
    before = feeder.buf.seq
    arr, metas = feeder.buf.record(60, return_meta=True)  # twice the ring size: independent of it
    assert arr.shape == (60, 64, 320, 3) and arr.dtype == np.uint8
    idx = indices(arr)
    assert idx == list(range(idx[0], idx[0] + 60)), "record must keep every frame, in order"
    assert metas[0].seq > before
    assert [m.seq for m in metas] == list(range(metas[0].seq, metas[0].seq + 60))
    assert not feeder.buf._recorders


def test_record_seconds_returns_the_frames_of_the_window(feeder: Feeder) -> None:
    feeder.start()
    arr = feeder.buf.record(seconds=0.3)
    idx = indices(arr)
    assert len(idx) >= 1 and idx == list(range(idx[0], idx[0] + len(idx)))
    arr2 = feeder.buf.record(n=5, seconds=10)  # n reached first
    assert len(arr2) == 5


def test_record_raises_clear_errors_when_the_stream_stalls() -> None:
    buf = FrameBuffer()
    with pytest.raises(TimeoutError, match=r"no frame arrived within 0\.1 s"):
        buf.record(3, timeout=0.1)
    with pytest.raises(TimeoutError, match="recording window"):
        buf.record(seconds=0.05)
    with pytest.raises(ValueError, match="needs n"):
        buf.record()
    with pytest.raises(ValueError, match="n must be"):
        buf.record(0)
    with pytest.raises(ValueError, match="seconds must be"):
        buf.record(seconds=-1)


async def test_record_names_how_many_frames_came_when_the_stream_stalls() -> None:
    buf = FrameBuffer()
    task = asyncio.create_task(buf.arecord(5, timeout=0.3))
    await asyncio.sleep(0)  # the recorder registers synchronously before its first await
    for i in range(2):
        buf.push(numbered(i))
    with pytest.raises(TimeoutError, match="recorded only 2 of 5 frames"):
        await task


def test_record_from_the_pushing_thread_is_refused() -> None:
    buf = FrameBuffer()
    buf.push(numbered(0))
    with pytest.raises(RuntimeError, match="arecord"):
        buf.record(1, timeout=0.1)


async def test_record_stops_at_a_size_change_with_a_warning() -> None:
    buf = FrameBuffer()
    task = asyncio.create_task(buf.arecord(n=10, seconds=5))
    await asyncio.sleep(0)  # registered
    for i in range(3):
        buf.push(numbered(i))
    buf.push(numbered(3, h=32))
    with pytest.warns(RuntimeWarning, match="frame size changed"):
        arr = await task
    assert indices(arr) == [0, 1, 2]


async def test_record_memory_is_bounded_by_max_mb() -> None:
    buf = FrameBuffer()
    per_frame = numbered(0).nbytes
    task = asyncio.create_task(buf.arecord(n=100, max_mb=3.5 * per_frame / (1024 * 1024)))
    await asyncio.sleep(0)
    for i in range(10):
        buf.push(numbered(i))
    with pytest.warns(RuntimeWarning, match="memory limit"):
        arr = await task
    assert indices(arr) == [0, 1, 2]
    with pytest.raises(ValueError, match="max_mb"):
        await buf.arecord(1, max_mb=0)


async def test_arecord_from_an_event_loop(feeder: Feeder) -> None:
    feeder.start()
    arr = await feeder.buf.arecord(40)
    idx = indices(arr)
    assert idx == list(range(idx[0], idx[0] + 40))
    arr = await feeder.buf.arecord(seconds=0.2)
    assert len(arr) >= 1


async def test_arecord_cancel_detaches_the_recorder() -> None:
    buf = FrameBuffer()
    task = asyncio.create_task(buf.arecord(5, timeout=30))
    await asyncio.sleep(0)  # let it register
    assert len(buf._recorders) == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not buf._recorders


# --- live iteration ----------------------------------------------------------------------------
def test_iter_is_latest_wins_and_ends_on_timeout_or_close(feeder: Feeder) -> None:
    feeder.start()
    got = []
    for frame, meta in feeder.buf.iter(timeout=2):
        got.append((read_index(frame), meta.seq))
        feeder.buf.wait_next(meta.seq + 3, 2)  # be slower than the stream
        if len(got) == 5:
            break
    seqs = [s for _, s in got]
    assert all(b - a >= 4 for a, b in itertools.pairwise(seqs)), seqs
    assert all(i == s for i, s in got)  # the code drawn on the frame is the push order here
    feeder.stop()
    assert list(feeder.buf.iter(timeout=0.1)) == []

    buf = FrameBuffer()
    threading.Timer(0.05, buf.close).start()
    assert list(buf.iter(timeout=10)) == []


async def test_async_for_over_live_frames(feeder: Feeder) -> None:
    feeder.start()
    seen = []
    async for frame, meta in feeder.buf:
        seen.append(meta.seq)
        assert read_index(frame) == meta.seq
        if len(seen) == 4:
            break
    assert seen == sorted(set(seen))
    feeder.stop()
    assert [x async for x in feeder.buf.aiter(timeout=0.1)] == []


async def test_await_next_from_another_loop_thread_is_woken_by_push() -> None:
    buf = FrameBuffer()
    threading.Timer(0.05, lambda: buf.push(numbered(3))).start()
    item = await buf.await_next(-1, timeout=5)
    assert item is not None and read_index(item[0]) == 3
    assert await buf.await_next(item[1].seq, timeout=0.05) is None
    assert not buf._async_waiters


def test_wait_state_waits_for_the_predicate() -> None:
    buf = FrameBuffer()
    threading.Timer(0.05, lambda: buf.set_state({"current_chunk": 2, "current_frame": 66})).start()
    st = buf.wait_state(lambda s: s.get("current_chunk", 0) >= 2, timeout=5)
    assert st["current_frame"] == 66
    with pytest.raises(TimeoutError, match="current_chunk"):
        buf.wait_state(lambda s: s["current_chunk"] >= 9, timeout=0.05)


# --- tables ------------------------------------------------------------------------------------
def test_dataframe_and_timeline_share_seq_and_time() -> None:
    import pandas as pd

    buf = FrameBuffer()
    buf.push(numbered(0))
    buf.add_event("command", "set_prompt", {"prompt": "a"})
    buf.set_state(
        {"current_frame": 0, "current_chunk": 0, "current_prompt": "a", "running": True, "paused": False}
    )
    buf.push(numbered(1))
    buf.add_event("message", "event", {"event": "prompt_switched", "chunk": 1})
    buf.push(numbered(2))
    df = buf.to_dataframe()
    assert list(df["seq"]) == [0, 1, 2]
    assert list(df["current_prompt"])[1:] == ["a", "a"] and df["current_prompt"].isna()[0]
    assert {"time", "frame_index", "current_chunk", "width", "height", "datetime"} <= set(df.columns)
    tl = buf.timeline()
    assert list(tl["kind"]) == ["command", "state", "message"]
    assert list(tl["seq"]) == [0, 0, 1]
    assert tl["event"].tolist()[2] == "prompt_switched"
    joined = tl.merge(df[["seq", "current_prompt"]], on="seq", how="left")
    assert joined.loc[joined["kind"] == "message", "current_prompt"].item() == "a"
    assert (tl["epoch"].diff().dropna() >= 0).all()
    # times read as dates, not 1.796285e+09
    assert str(tl["time"].dtype) == "datetime64[ns, UTC]" and str(df["time"].dtype) == "datetime64[ns, UTC]"
    assert tl["time"].iloc[0] == pd.Timestamp(tl["epoch"].iloc[0], unit="s", tz="UTC")
    assert "+00:00" in repr(tl[["time"]])
    buf.add_event("message", "chunk_complete", {"chunk": 1, "frame": 65})  # typed Helios family
    buf.add_event("message", "event:image_set", {"event": "image_set", "width": 4})
    assert buf.timeline()["event"].tolist()[-2:] == ["chunk_complete", "image_set"]


def test_timeline_stores_long_strings_as_placeholders() -> None:
    buf = FrameBuffer(timeline_size=3)
    image = "A" * 1_000_000
    for _ in range(10):
        buf.add_event("command", "set_image", {"image_b64": image, "transition": "cut"})
    buf.add_event("message", "raw", image)
    entries = buf.timeline_entries()
    assert len(entries) == 3
    assert entries[0].data == {"image_b64": "<1000000 chars>", "transition": "cut"}
    assert entries[-1].data == "<1000000 chars>"
    small = {"prompt": "short"}
    buf.add_event("command", "set_prompt", small)
    assert buf.timeline_entries()[-1].data is small  # nothing copied when nothing is long


def test_tables_name_the_extra_when_pandas_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match=r"pip install reactor-notebook\[pandas\]"):
        FrameBuffer().to_dataframe()
    with pytest.raises(ImportError, match="pandas"):
        FrameBuffer().timeline()


# --- export ------------------------------------------------------------------------------------
def test_mp4_round_trip_keeps_every_frame_and_its_index(tmp_path) -> None:
    arr = np.stack([numbered(i, h=96, w=320) for i in range(48)])
    path = save_mp4(arr, tmp_path / "a.mp4", fps=24)
    back = read_video(path)
    assert back.shape == arr.shape
    assert indices(back) == list(range(48))
    assert np.abs(back.astype(int) - arr.astype(int)).mean() < 4


def test_mp4_pads_odd_sizes_and_validates_input(tmp_path) -> None:
    arr = np.stack([numbered(i, h=33, w=301) for i in range(5)])
    back = read_video(save_mp4(arr, tmp_path / "odd.mp4", fps=10))
    assert back.shape == (5, 34, 302, 3) and indices(back) == list(range(5))
    with pytest.raises(ValueError, match=r"\(N, H, W, 3\)"):
        save_mp4(np.zeros((4, 4)), tmp_path / "x.mp4")
    with pytest.raises(ValueError, match="uint8"):
        save_mp4(np.zeros((1, 4, 4, 3)), tmp_path / "x.mp4")
    with pytest.raises(ValueError, match="fps"):
        save_mp4(arr, tmp_path / "x.mp4", fps=0)


def test_buffer_exports_mp4_gif_npz(tmp_path) -> None:
    buf = FrameBuffer(max_frames=20)
    for i in range(30):
        buf.push(numbered(i))
    buf.add_event("command", "start", {})
    back = read_video(buf.save_mp4(tmp_path / "b.mp4"))
    assert indices(back) == list(range(10, 30))
    gif = read_video(buf.save_gif(tmp_path / "b.gif", fps=10))
    assert indices(gif) == list(range(10, 30))
    saved = load_npz(buf.save_npz(tmp_path / "b"))
    assert indices(saved["frames"]) == list(range(10, 30))
    assert list(saved["meta"]["seq"]) == list(range(10, 30))
    assert saved["meta"]["track"][0] == "main_video"
    assert saved["timeline"][0]["name"] == "start"
    with pytest.raises(ValueError, match="empty"):
        FrameBuffer().save_mp4(tmp_path / "c.mp4")


def test_save_gif_of_an_array(tmp_path) -> None:
    arr = np.stack([numbered(i) for i in range(4)])
    assert indices(read_video(save_gif(arr, tmp_path / "g.gif", fps=5))) == [0, 1, 2, 3]
    assert frames_mod.DEFAULT_FPS == 24.0


def test_the_model_profile_names_the_state_columns_and_the_frame_counters() -> None:
    """Helios (the default) fills frame/chunk/prompt from its state keys; another model gets no state columns."""
    helios = FrameBuffer()
    helios.set_state({"current_frame": 7, "current_chunk": 1, "current_prompt": "fox", "running": True})
    meta = helios.push(np.zeros((2, 2, 3), np.uint8))
    assert (meta.frame, meta.chunk, meta.prompt) == (7, 1, "fox")
    assert list(helios.to_dataframe().columns)[-6:-1] == ["current_frame", "current_chunk", "current_prompt", "running", "paused"]

    generic = FrameBuffer(profile="testpattern")
    assert generic.profile.name == "testpattern"
    generic.set_state({"current_frame": 7, "tick": 3})
    meta = generic.push(np.zeros((2, 2, 3), np.uint8))
    assert (meta.frame, meta.chunk, meta.prompt) == (None, None, None)
    df = generic.to_dataframe()
    assert "current_frame" not in df.columns and df["seq"].tolist() == [0]
    with pytest.raises(TimeoutError, match=r"'tick': 3"):
        generic.wait_state(lambda s: False, timeout=0.01)
    assert "tick=3" in generic._repr_html_() and "running=True" in helios._repr_html_()  # generic: the whole state
    assert generic.configure(profile="helios").profile.name == "helios"

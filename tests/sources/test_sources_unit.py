"""Video source tracks, read directly through recv(): content, order, pacing clock, end of stream."""

from __future__ import annotations

import asyncio
import itertools
import threading

import numpy as np
import pytest
from aiortc.mediastreams import MediaStreamError

from reactor_notebook.framecode import draw_index, read_index
from reactor_notebook.frames import FrameBuffer, save_mp4
from reactor_notebook.sources import ArrayTrack, FramesTrack, PushedFrameTrack, VideoFileTrack


def numbered(i: int, h: int = 48, w: int = 272) -> np.ndarray:
    f = np.full((h, w, 3), 90, np.uint8)
    draw_index(f, i)
    return f


async def take(track, n: int) -> list:
    return [await asyncio.wait_for(track.recv(), 5) for _ in range(n)]


async def test_array_track_from_a_generator_in_order_then_ends() -> None:
    track = ArrayTrack((numbered(i) for i in range(6)), fps=120)
    frames = await take(track, 6)
    assert [read_index(f.to_ndarray(format="rgb24")) for f in frames] == list(range(6))
    pts = [f.pts for f in frames]
    assert all(b > a for a, b in itertools.pairwise(pts))
    assert frames[0].time_base.denominator == 90000
    assert (frames[0].width, frames[0].height) == (272, 48)
    with pytest.raises(MediaStreamError):
        await track.recv()
    assert track.readyState == "ended" and track.frames_sent == 6


async def test_array_track_loops_a_recorded_array_and_accepts_async_sources() -> None:
    arr = np.stack([numbered(i) for i in range(3)])
    track = ArrayTrack(arr, fps=200, loop=True)
    got = [read_index(f.to_ndarray(format="rgb24")) for f in await take(track, 7)]
    assert got == [0, 1, 2, 0, 1, 2, 0]
    track.stop()

    async def agen():
        for i in range(3):
            yield numbered(10 + i)

    track = ArrayTrack(agen(), fps=200)
    assert [read_index(f.to_ndarray(format="rgb24")) for f in await take(track, 3)] == [10, 11, 12]
    with pytest.raises(ValueError, match="re-iterable"):
        ArrayTrack((x for x in []), loop=True)
    with pytest.raises(ValueError, match="fps"):
        ArrayTrack([], fps=0)


async def test_bad_frames_raise_a_clear_error() -> None:
    track = ArrayTrack([np.zeros((8, 8, 3), np.float32)], fps=30)
    with pytest.raises(ValueError, match="uint8"):
        await track.recv()
    track = ArrayTrack([np.zeros((8, 8, 5), np.uint8)], fps=30)
    with pytest.raises(ValueError, match=r"\(H, W, 3\)"):
        await track.recv()
    grey = ArrayTrack([np.full((8, 8), 7, np.uint8)], fps=30)
    assert (await grey.recv()).to_ndarray(format="rgb24")[0, 0].tolist() == [7, 7, 7]


async def test_a_slow_generator_does_not_block_the_event_loop() -> None:
    gate = threading.Event()

    def slow():
        assert gate.wait(5), "the loop was blocked: nobody opened the gate"
        yield numbered(1)

    track = ArrayTrack(slow(), fps=30)
    pending = asyncio.ensure_future(track.recv())
    await asyncio.sleep(0)  # recv is now waiting on the worker thread
    gate.set()  # only possible because the loop still runs
    frame = await asyncio.wait_for(pending, 5)
    assert read_index(frame.to_ndarray(format="rgb24")) == 1
    track.stop()


async def test_video_file_track_plays_a_file_and_loops(tmp_path) -> None:
    path = save_mp4(np.stack([numbered(i, 64, 272) for i in range(5)]), tmp_path / "clip.mp4", fps=12)
    track = VideoFileTrack(path)
    assert track.fps == pytest.approx(12)
    got = [read_index(f.to_ndarray(format="rgb24")) for f in await take(track, 5)]
    assert got == [0, 1, 2, 3, 4]
    with pytest.raises(MediaStreamError):
        await track.recv()
    looped = VideoFileTrack(path, fps=100, loop=True)
    assert [read_index(f.to_ndarray(format="rgb24")) for f in await take(looped, 7)] == [0, 1, 2, 3, 4, 0, 1]
    looped.stop()
    with pytest.raises(FileNotFoundError, match="no such video file"):
        VideoFileTrack(tmp_path / "missing.mp4")
    (tmp_path / "junk.mp4").write_bytes(b"not a video")
    with pytest.raises(ValueError, match="cannot open"):
        VideoFileTrack(tmp_path / "junk.mp4")


async def test_frames_track_relays_the_newest_frame_and_repeats_when_idle() -> None:
    buf = FrameBuffer()
    track = FramesTrack(buf, fps=100)
    threading.Timer(0.05, lambda: buf.push(numbered(4))).start()
    first = await asyncio.wait_for(track.recv(), 5)
    assert read_index(first.to_ndarray(format="rgb24")) == 4
    again = await track.recv()  # nothing new: the last frame is repeated to keep the rate
    assert read_index(again.to_ndarray(format="rgb24")) == 4 and again.pts > first.pts
    buf.push(numbered(5))
    buf.push(numbered(6))
    assert read_index((await track.recv()).to_ndarray(format="rgb24")) == 6  # latest wins
    with pytest.raises(TypeError, match="FrameBuffer"):
        FramesTrack([], fps=10)  # type: ignore[arg-type]
    idle = FramesTrack(FrameBuffer(), fps=10, first_frame_timeout=0.05)
    with pytest.raises(MediaStreamError):
        await idle.recv()


async def test_pushed_frame_track_sends_the_newest_push_repeated_and_black_before_the_first() -> None:
    track = PushedFrameTrack(fps=120, width=64, height=48)
    (first,) = await take(track, 1)
    assert (first.width, first.height) == (64, 48) and first.to_ndarray(format="rgb24").max() == 0
    pusher = threading.Thread(target=lambda: [track.push(numbered(i, 49, 273)) for i in (3, 4)])
    pusher.start()
    pusher.join()
    frames = await take(track, 2)  # the newest push (4), repeated; odd sizes cut to even for yuv420p
    assert [read_index(f.to_ndarray(format="rgb24")) for f in frames] == [4, 4]
    assert (frames[0].width, frames[0].height) == (272, 48)
    assert track.received == 2 and track.frames_sent == 3
    with pytest.raises(ValueError, match=r"expected an \(H, W, 3\) uint8 frame"):
        track.push(np.zeros((48, 64), np.uint8))
    track.stop()
    with pytest.raises(MediaStreamError):
        await track.recv()

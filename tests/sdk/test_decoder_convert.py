"""RGB conversion on aiortc's decoder thread (issue 9: no extra thread hop per frame).

Unit level: :class:`StampedQueue` converts in ``put`` on the thread that calls it (aiortc's
decoder thread does ``run_coroutine_threadsafe(queue.put(frame), loop)``), the reader uses that
array without a worker thread, and a frame that fails conversion is counted and skipped.
Real path: frames from the runtime are converted on the ``video-decoder`` thread.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import VideoFrame
from sdk_support import next_frames

from reactor_notebook import framecode
from reactor_notebook.sdk import Reactor
from reactor_notebook.sdk.reader import FrameReader, FrameTiming, StampedQueue, to_rgb


class DecoderFedTrack(MediaStreamTrack):
    """A remote-track stand-in whose frames are put by a separate 'decoder' thread, as aiortc does."""

    kind = "video"

    def __init__(self, queue: StampedQueue) -> None:
        super().__init__()
        self._queue = queue

    async def recv(self) -> Any:
        frame = await self._queue.get()
        if frame is None:
            raise MediaStreamError
        return frame


def yuv(index: int) -> VideoFrame:
    image = np.full((32, 320, 3), 90, dtype=np.uint8)
    framecode.draw_index(image, index)
    frame = VideoFrame.from_ndarray(image, format="rgb24").reformat(format="yuv420p")
    frame.pts = index
    return frame


class SignallingReader(FrameReader):
    """A FrameReader that signals each frame it finished with (delivered or counted as failed)."""

    def __init__(self, track: MediaStreamTrack, got: list[int | None]) -> None:
        self.processed = threading.Event()
        self.ended = asyncio.Event()
        super().__init__(track, "main_video", self._got, lambda _n: self.ended.set())
        self.got = got

    def _got(self, arr: np.ndarray, name: str, timing: FrameTiming) -> None:
        assert timing.convert_ms > 0 and timing.age_ms is not None and timing.age_ms >= 0
        self.got.append(framecode.read_index(arr))
        self.processed.set()

    def _convert_failed(self, exc: BaseException) -> None:
        super()._convert_failed(exc)
        self.processed.set()


async def decode_one_by_one(queue: StampedQueue, reader: SignallingReader, n: int) -> None:
    """Put frames 0..n-1 then the end sentinel from another thread, as aiortc's decoder_worker does."""
    loop = asyncio.get_running_loop()

    def decoder() -> None:
        for i in range(n):  # one at a time, so the reader never skips one as stale
            asyncio.run_coroutine_threadsafe(queue.put(yuv(i)), loop).result(5)
            assert reader.processed.wait(5), f"frame {i} not processed"
            reader.processed.clear()
        asyncio.run_coroutine_threadsafe(queue.put(None), loop).result(5)

    await asyncio.to_thread(decoder)
    await asyncio.wait_for(reader.ended.wait(), 5)


async def test_decoder_thread_converts_and_reader_uses_it_without_a_worker() -> None:
    threads: list[int] = []

    def convert(frame: Any) -> tuple[np.ndarray, float]:
        threads.append(threading.get_ident())
        return to_rgb(frame)

    queue = StampedQueue(convert=convert)
    reader = SignallingReader(DecoderFedTrack(queue), [])
    reader.start()
    await decode_one_by_one(queue, reader, 5)
    assert reader.got == [0, 1, 2, 3, 4]
    assert len(threads) == 5 and threading.get_ident() not in threads  # converted where decoded
    assert reader._executor is None  # never needed a worker thread
    assert reader.stats.frames_received == 5 and reader.stats.frames_dropped == 0


async def test_conversion_error_on_decoder_thread_is_counted_and_stream_goes_on() -> None:
    calls = 0

    def flaky(frame: Any) -> tuple[np.ndarray, float]:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise ValueError("corrupt frame")
        return to_rgb(frame)

    queue = StampedQueue(convert=flaky)
    reader = SignallingReader(DecoderFedTrack(queue), [])
    reader.start()
    await decode_one_by_one(queue, reader, 3)
    assert reader.got == [0, 2]
    assert reader.stats.convert_errors == 1 and reader.stats.frames_received == 2


async def test_real_stream_frames_are_converted_on_the_decoder_thread(runtime: Any) -> None:
    r = Reactor("testpattern", local=True, local_url=runtime.url)
    await r.connect()
    try:
        frames = await next_frames(r, 5)
        # distinct frames of the stream (the runtime repeats its last frame when the model is late, as under
        # load, so one repeat is legitimate video)
        assert len({framecode.read_index(f) for f, _ in frames}) >= 4
        transport = r._transport
        assert transport is not None
        queue = transport.remote_tracks["main_video"]._queue  # type: ignore[attr-defined]
        assert isinstance(queue, StampedQueue) and queue.last is not None and queue.last.rgb is not None
        reader = transport.readers["main_video"]
        assert reader._executor is None  # no worker thread: every frame came converted
        assert reader.stats.convert_errors == 0
    finally:
        await r.disconnect()


async def test_stalled_reader_bounds_conversions_ahead_and_keeps_latest_wins() -> None:
    """Behind a stalled loop only MAX_AHEAD frames are converted early; the newest kept frame still arrives."""
    converted: list[int] = []

    def convert(frame: Any) -> tuple[np.ndarray, float]:
        converted.append(frame.pts)
        return to_rgb(frame)

    queue = StampedQueue(convert=convert)
    loop = asyncio.get_running_loop()

    def decoder(indices: range) -> None:
        for i in indices:
            asyncio.run_coroutine_threadsafe(queue.put(yuv(i)), loop).result(5)

    await asyncio.to_thread(decoder, range(6))  # nobody reads yet: a backlog of six frames
    assert converted == [0, 1] and queue.qsize() == 6
    reader = SignallingReader(DecoderFedTrack(queue), [])
    reader.start()
    await asyncio.to_thread(reader.processed.wait, 5)
    reader.processed.clear()
    assert reader.got == [5] and reader.stats.frames_dropped == 5  # latest wins, converted by the reader
    await asyncio.to_thread(decoder, range(6, 7))  # backlog gone: conversion on the decoder thread again
    await asyncio.to_thread(reader.processed.wait, 5)
    assert reader.got == [5, 6] and converted == [0, 1, 6]
    await reader.stop()

"""RGB conversion on the decoder thread and the hand-over to the loop (issues 9 and 14).

Unit level: :class:`StampedQueue` converts in ``put`` on the thread that calls it (aiortc's own
decoder thread does ``run_coroutine_threadsafe(queue.put(frame), loop)``), the reader uses that
array without a worker thread, and a frame that fails conversion is counted and skipped. Our
:func:`decoder_worker` decodes real VP8, converts, and hands the newest frame to the reader's
sink with one loop callback (older ones replaced and counted), then ends the track.
Real path: frames from the runtime are converted on the ``video-decoder`` thread and reach the
reader through the sink.
"""

from __future__ import annotations

import asyncio
import fractions
import queue as thread_queue
import threading
from typing import Any

import numpy as np
from aiortc import rtcrtpreceiver
from aiortc.codecs.h264 import H264Decoder
from aiortc.codecs.vpx import Vp8Decoder as LibvpxDecoder
from aiortc.codecs.vpx import Vp8Encoder, vp8_depayload
from aiortc.jitterbuffer import JitterFrame
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from av import VideoFrame
from sdk_support import next_frames

from reactor_notebook import framecode
from reactor_notebook.sdk import Reactor, decoding
from reactor_notebook.sdk.decoding import (
    Decoded,
    StampedQueue,
    Vp8Decoder,
    decoder_worker,
    install_decoder_worker,
    make_decoder,
)
from reactor_notebook.sdk.reader import FrameReader, FrameTiming
from reactor_notebook.sdk.rgb import to_rgb


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
        # our decoder worker runs the track and hands frames to the reader's sink, not through the queue
        assert rtcrtpreceiver.decoder_worker is decoder_worker and queue.sink == reader._on_decoded
        threads: list[str] = []
        convert = queue.convert
        assert convert is not None

        def spy(frame: Any) -> tuple[np.ndarray, float]:
            threads.append(threading.current_thread().name)
            return convert(frame)

        queue.convert = spy
        before = reader.stats.frames_received
        await next_frames(r, 3)
        assert threads and set(threads) == {"video-decoder"}
        assert reader.stats.frames_received >= before + 3 and queue.qsize() == 0
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


def vp8_frames(indices: range) -> list[JitterFrame]:
    """Real VP8 frames (whole, as the jitter buffer hands them to the decoder) carrying their index code."""
    encoder = Vp8Encoder()
    rng = np.random.default_rng(3)
    texture = rng.integers(0, 256, (64, 320, 3), dtype=np.uint8)  # detail, so decoders have real work
    out = []
    for i in indices:
        image = np.roll(texture, 4 * i, axis=1)
        framecode.draw_index(image, i)
        frame = VideoFrame.from_ndarray(image, format="rgb24")
        frame.pts, frame.time_base = i * 3000, fractions.Fraction(1, 90000)
        payloads, timestamp = encoder.encode(frame, force_keyframe=i == indices[0])
        out.append(JitterFrame(b"".join(vp8_depayload(p) for p in payloads), timestamp))
    return out


async def test_decoder_worker_decodes_converts_and_hands_each_frame_to_the_sink_then_ends() -> None:
    vp8 = RTCRtpCodecParameters(mimeType="video/VP8", clockRate=90000, payloadType=96)
    handed: asyncio.Queue[tuple[int, int, str]] = asyncio.Queue()
    queue = StampedQueue(convert=decoding.RgbConverter())

    def sink(frame: Any, record: Decoded, replaced: int) -> None:
        assert record.rgb is not None and record.rgb.shape == (64, 320, 3) and record.convert_ms > 0
        handed.put_nowait((framecode.read_index(record.rgb), replaced, threading.current_thread().name))

    queue.sink = sink
    inputs: thread_queue.Queue[Any] = thread_queue.Queue()
    error = threading.Event()
    worker = threading.Thread(target=decoder_worker, args=(asyncio.get_running_loop(), inputs, queue, error))
    worker.start()
    got = []
    for f in vp8_frames(range(3)):  # one at a time: each is handed over before the next is decoded
        inputs.put((vp8, f))
        got.append(await asyncio.wait_for(handed.get(), 5))
    inputs.put((vp8, JitterFrame(b"\x00not vp8", 0)))  # corrupt: reported to the receiver, stream goes on
    inputs.put(None)
    await asyncio.to_thread(worker.join, 5)
    assert not worker.is_alive() and error.is_set() and handed.empty()
    me = threading.current_thread().name
    assert got == [(0, 0, me), (1, 0, me), (2, 0, me)]  # in order, on the loop, none replaced
    assert await asyncio.wait_for(queue.get(), 5) is None  # the end of the track, after every frame


async def test_slot_keeps_the_newest_frame_and_counts_the_ones_it_replaced() -> None:
    calls: list[tuple[int, int]] = []
    delivered = asyncio.Event()
    queue = StampedQueue(convert=to_rgb)

    def sink(frame: Any, record: Decoded, replaced: int) -> None:
        calls.append((frame.pts, replaced))
        delivered.set()

    queue.sink = sink
    loop = asyncio.get_running_loop()
    for i in range(3):  # the loop is busy here (this coroutine): three frames decoded before it takes one
        queue.from_decoder(yuv(i), loop)
    await asyncio.wait_for(delivered.wait(), 5)
    assert calls == [(2, 2)] and queue.last is not None and queue.last.rgb is not None


async def test_frames_before_a_reader_wait_in_the_queue_then_the_reader_takes_over() -> None:
    queue = StampedQueue(convert=to_rgb)
    loop = asyncio.get_running_loop()
    queue.from_decoder(yuv(7), loop)  # no sink yet: queued with its record for recv()
    await asyncio.sleep(0)
    assert queue.qsize() == 1
    reader = SignallingReader(DecoderFedTrack(queue), [])
    reader.start()
    await asyncio.to_thread(reader.processed.wait, 5)
    reader.processed.clear()
    queue.from_decoder(yuv(8), loop)  # now straight to the reader's sink
    await asyncio.to_thread(reader.processed.wait, 5)
    assert reader.got == [7, 8] and queue.qsize() == 0 and queue.sink == reader._on_decoded
    await reader.stop()
    assert queue.sink is None  # a stopped reader no longer receives frames


def test_install_decoder_worker_leaves_a_worker_of_another_shape(monkeypatch: Any) -> None:
    def other(loop: Any, input_q: Any, output_q: Any) -> None:  # an aiortc with another worker signature
        raise AssertionError("not called")

    monkeypatch.setattr(rtcrtpreceiver, "decoder_worker", other)
    assert install_decoder_worker() is False and rtcrtpreceiver.decoder_worker is other


def test_vp8_decoder_gives_the_pixels_of_aiortcs_libvpx_decoder() -> None:
    """FFmpeg's VP8 decoder (ours) and libvpx (aiortc's) decode the same stream to identical YUV planes."""
    vp8 = RTCRtpCodecParameters(mimeType="video/VP8", clockRate=90000, payloadType=96)
    h264 = RTCRtpCodecParameters(mimeType="video/H264", clockRate=90000, payloadType=97)
    ours = make_decoder(vp8)
    assert isinstance(ours, Vp8Decoder) and ours.codec.name == "vp8" and isinstance(make_decoder(h264), H264Decoder)
    theirs = LibvpxDecoder()
    compared = 0
    for encoded in vp8_frames(range(8)):
        mine, ref = ours.decode(encoded), theirs.decode(encoded)
        assert len(mine) == len(ref) == 1 and mine[0].pts == ref[0].pts == encoded.timestamp
        assert np.array_equal(mine[0].to_ndarray(format="yuv420p"), ref[0].to_ndarray(format="yuv420p"))
        compared += 1
    assert compared == 8

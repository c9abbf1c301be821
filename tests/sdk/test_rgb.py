"""RGB conversion with one reusable single-threaded scaler per track (reactor_notebook/sdk/rgb.py).

The converter must give exactly the pixels of PyAV's own ``to_ndarray(format="rgb24")``, and
must leave no per-frame reformatter on the decoded frame (whose teardown joined swscale's slice
threads on the SDK loop, once per frame).
"""

from __future__ import annotations

import os

import numpy as np
from av import VideoFrame

from reactor_notebook import framecode
from reactor_notebook.sdk.decoding import install_stamps
from reactor_notebook.sdk.rgb import RgbConverter, to_rgb


def yuv(index: int, width: int = 640, height: int = 384) -> VideoFrame:
    rng = np.random.default_rng(index)
    image = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    framecode.draw_index(image, index)
    return VideoFrame.from_ndarray(image, format="rgb24").reformat(format="yuv420p")


def test_converter_matches_pyav_pixels_and_reuses_one_scaler() -> None:
    converter = RgbConverter()
    scaler = converter._reformatter
    for i, size in enumerate([(640, 384), (640, 384), (320, 240), (1280, 720)]):
        frame = yuv(i, *size)
        expected = yuv(i, *size).to_ndarray(format="rgb24")
        arr, ms = converter(frame)
        assert arr.shape == (size[1], size[0], 3) and arr.dtype == np.uint8
        assert np.array_equal(arr, expected)
        assert framecode.read_index(arr) == i
        assert ms >= 0.0
        assert converter._reformatter is scaler
    assert converter.converted == 4


def threads() -> int:
    return len(os.listdir("/proc/self/task"))


def test_conversion_starts_no_threads() -> None:
    """PyAV's per-frame reformatter keeps its slice threads until the frame dies; ours starts none."""
    converter = RgbConverter()
    kept = [yuv(i) for i in range(3)]
    before = threads()
    for frame in kept:
        converter.to_array(frame)
    assert threads() == before
    stock = [yuv(i) for i in range(3)]
    for frame in stock:
        frame.to_ndarray(format="rgb24")  # the reference path (more threads on PyAV 17+, several cores)
    assert threads() >= before


def test_rgb_input_passes_through_and_to_rgb_still_works() -> None:
    image = np.zeros((16, 32, 3), np.uint8)
    image[:, :, 1] = 200
    arr, _ = to_rgb(VideoFrame.from_ndarray(image, format="rgb24"))
    assert np.array_equal(arr, image)


def test_decoded_frame_queue_gets_a_converter() -> None:
    class Track:
        def __init__(self) -> None:
            import asyncio

            self._queue: asyncio.Queue[object] = asyncio.Queue()

    class Receiver:
        _RTCRtpReceiver__decoder_thread = None

    track = Track()
    assert install_stamps(track, Receiver())  # type: ignore[arg-type]
    assert isinstance(track._queue.convert, RgbConverter)  # type: ignore[attr-defined]

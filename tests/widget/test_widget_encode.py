"""Encoder paths: simplejpeg preferred, Pillow fallback warned once, PNG stills lossless, decoding."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from reactor_notebook.framecode import draw_index, read_index
from reactor_notebook.widget import encode


def sample(h: int = 64, w: int = 320) -> np.ndarray:
    rng = np.random.default_rng(1)
    f = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
    draw_index(f, 4242)
    return f


@pytest.mark.skipif(encode._simplejpeg is None, reason="simplejpeg not installed")
def test_simplejpeg_is_preferred_and_round_trips() -> None:
    enc = encode.JpegEncoder()
    assert enc.backend == "simplejpeg"
    out = enc.encode(sample(), quality=80)
    assert out.mime == "image/jpeg" and out.data[:2] == b"\xff\xd8"
    assert read_index(encode.decode_image(out.data)) == 4242


def test_pillow_fallback_warns_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(encode, "_simplejpeg", None)
    monkeypatch.setattr(encode, "_warned", set())
    with pytest.warns(RuntimeWarning, match="simplejpeg is not installed"):
        enc = encode.JpegEncoder()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        enc2 = encode.JpegEncoder()  # second time: silent
    assert enc.backend == enc2.backend == "pillow"
    out = enc.encode(sample(), quality=80)
    assert read_index(encode.decode_image(out.data)) == 4242


def test_quality_changes_size() -> None:
    enc = encode.JpegEncoder()
    f = sample(256, 512)
    assert len(enc.encode(f, 30).data) < len(enc.encode(f, 90).data)


def test_png_is_lossless() -> None:
    f = sample()
    out = encode.encode_png(f)
    assert out.mime == "image/png"
    assert np.array_equal(encode.decode_image(out.data), f)


def test_downscale_halves_and_resizes() -> None:
    f = sample(64, 320)
    assert encode.downscale(f, 1.0) is f
    assert encode.downscale(f, 0.5).shape == (32, 160, 3)
    assert encode.downscale(f, 0.75).shape == (48, 240, 3)
    with pytest.raises(ValueError):
        encode.downscale(f, 0)


def test_bad_frames_and_bad_bytes_give_clear_errors() -> None:
    enc = encode.JpegEncoder()
    with pytest.raises(ValueError, match=r"\(H, W, 3\)"):
        enc.encode(np.zeros((4, 4, 5), np.uint8))
    with pytest.raises(ValueError, match="uint8"):
        enc.encode(np.zeros((4, 4, 3), np.float32))
    with pytest.raises(ValueError, match="cannot decode image"):
        encode.decode_image(b"not an image")
    with pytest.raises(ValueError, match="empty"):
        encode.decode_image(b"")
    gray = enc.encode(np.zeros((8, 8), np.uint8))  # grayscale is promoted, not rejected
    assert gray.width == 8

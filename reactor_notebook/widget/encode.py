"""Frame encoding for the live view: JPEG for the stream, PNG for stills, with graceful fallbacks.

simplejpeg (libjpeg-turbo, 4:2:0 chroma subsampling) is preferred because it is several
times faster than Pillow at the same quality; without it Pillow is used and a warning is
issued once. Downscaling happens before encoding so a browser that falls behind gets
fewer bytes, and decoding of the browser's webcam JPEGs lives here too.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..media import Frame
from ..media import as_rgb as _as_rgb

try:  # optional fast path
    import simplejpeg as _simplejpeg
except ImportError:  # pragma: no cover - depends on the environment
    _simplejpeg = None

_warned: set[str] = set()


def _warn_once(key: str, message: str) -> None:
    """Warn about a degraded encoder path only once per process."""
    if key not in _warned:
        _warned.add(key)
        warnings.warn(message, RuntimeWarning, stacklevel=3)


@dataclass(frozen=True)
class Encoded:
    """An encoded image ready to send: bytes, MIME type and the encoded size."""

    data: bytes
    mime: str
    width: int
    height: int


def downscale(frame: Frame, scale: float) -> Frame:
    """Shrink by ``scale`` (0 < scale <= 1): exact 1/n uses striding, other factors Pillow bilinear."""
    if scale >= 0.999:
        return frame
    if scale <= 0:
        raise ValueError(f"scale must be > 0, got {scale}")
    h, w = frame.shape[:2]
    inv = 1.0 / scale
    if abs(inv - round(inv)) < 1e-6:
        n = round(inv)
        return np.ascontiguousarray(frame[::n, ::n])
    from PIL import Image

    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    return np.asarray(Image.fromarray(frame).resize((nw, nh), Image.Resampling.BILINEAR))


class JpegEncoder:
    """JPEG encoder choosing simplejpeg when importable, else Pillow (warned once)."""

    def __init__(self, prefer_simplejpeg: bool = True) -> None:
        self.backend = "simplejpeg" if (prefer_simplejpeg and _simplejpeg is not None) else "pillow"
        if self.backend == "pillow" and prefer_simplejpeg:
            _warn_once(
                "simplejpeg",
                "simplejpeg is not installed; the widget encodes JPEG with Pillow, which is slower "
                "(pip install 'reactor-notebook[fast]')",
            )

    def encode(self, frame: Any, quality: int = 80) -> Encoded:
        """Encode an RGB frame as JPEG with 4:2:0 subsampling."""
        arr = _as_rgb(frame)
        q = int(min(100, max(1, quality)))
        h, w = arr.shape[:2]
        if self.backend == "simplejpeg":
            data = _simplejpeg.encode_jpeg(arr, quality=q, colorspace="RGB", colorsubsampling="420")
        else:
            from PIL import Image

            buf = io.BytesIO()
            Image.fromarray(arr).save(buf, format="JPEG", quality=q, subsampling=2)
            data = buf.getvalue()
        return Encoded(bytes(data), "image/jpeg", w, h)


def encode_png(frame: Any, compress_level: int = 1) -> Encoded:
    """Lossless PNG for stills (fast compression: stills are sent once, decoded once)."""
    from PIL import Image

    arr = _as_rgb(frame)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG", compress_level=compress_level)
    h, w = arr.shape[:2]
    return Encoded(buf.getvalue(), "image/png", w, h)


def decode_image(data: bytes) -> Frame:
    """Decode a JPEG/PNG/WebP byte string to an (H, W, 3) uint8 RGB array."""
    if not data:
        raise ValueError("empty image data")
    if _simplejpeg is not None and data[:2] == b"\xff\xd8":
        try:
            return _simplejpeg.decode_jpeg(data, colorspace="RGB")
        except ValueError:
            pass  # let Pillow try (and produce its own error)
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:
            return np.asarray(img.convert("RGB"))
    except UnidentifiedImageError as exc:
        raise ValueError(f"cannot decode image ({len(data)} bytes): {exc}") from None

"""Reference images for the simulated Helios: decoding, checking and resizing PNG/JPEG/WebP.

Decoding is a pure function of the bytes (the digest names the image), so conditioning on an
image stays bit-reproducible; rejections say what was wrong, for the command's error message.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
from PIL import Image

from ...media import Frame
from ...schema import CommandValidationError
from .helios_spec import BASE_HEIGHT, BASE_WIDTH

__all__ = [
    "MAX_IMAGE_SIDE",
    "ImageDecodeError",
    "RefImage",
    "check_image",
    "decode_image",
    "decode_image_b64",
    "upload_bytes",
]

MAX_IMAGE_SIDE = 4096
IMAGE_FORMATS = {"PNG": "PNG", "JPEG": "JPEG", "WEBP": "WebP"}


class ImageDecodeError(ValueError):
    """Image bytes that are not a usable PNG/JPEG/WebP within the size limit (reason ``invalid_value``)."""


class RefImage:
    """A decoded reference image, centre-cropped to 5:3, resized on demand per output size."""

    __slots__ = ("_cache", "cropped", "format", "height", "sha256", "width")

    def __init__(self, sha256: str, width: int, height: int, fmt: str, cropped: Image.Image) -> None:
        self.sha256 = sha256
        self.width = width
        self.height = height
        self.format = fmt
        self.cropped = cropped
        self._cache: dict[tuple[int, int], Frame] = {}

    def at(self, width: int, height: int) -> Frame:
        """The image resized to ``width`` x ``height`` as (H, W, 3) uint8 (cached, read-only)."""
        key = (width, height)
        arr = self._cache.get(key)
        if arr is None:
            resized = self.cropped.resize((width, height), Image.Resampling.LANCZOS)
            arr = np.asarray(resized, dtype=np.uint8).copy()
            arr.setflags(write=False)
            self._cache[key] = arr
        return arr

    def downscaled(self, width: int, height: int) -> bool:
        """True when the cropped source is larger than the output it is shown at."""
        return self.cropped.width > width or self.cropped.height > height

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RefImage) and other.sha256 == self.sha256

    def __hash__(self) -> int:
        return hash(self.sha256)

    def __repr__(self) -> str:
        return f"RefImage({self.format} {self.width}x{self.height}, sha256={self.sha256[:12]}…)"


def decode_image_b64(text: str) -> bytes:
    """Raw base64 or a ``data:`` URL → bytes; raise ImageDecodeError saying what was wrong."""
    payload = text.strip()
    if payload.startswith("data:"):
        head, sep, rest = payload.partition(",")
        if not sep:
            raise ImageDecodeError("data: URL has no ',' separating the header from the data")
        if ";base64" not in head:
            raise ImageDecodeError(f"data: URL {head[:40]!r} is not base64-encoded (expected ';base64')")
        payload = rest
    payload = "".join(payload.split())
    try:
        data = base64.b64decode(payload + "=" * (-len(payload) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ImageDecodeError(f"not valid base64 ({exc}); send raw base64 or a data: URL") from None
    if not data:
        raise ImageDecodeError("base64 decodes to 0 bytes")
    return data


def decode_image(data: bytes) -> RefImage:
    """Decode PNG/JPEG/WebP bytes (≤ 4096 px per side, checked before decoding pixels)."""
    digest = hashlib.sha256(data).hexdigest()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            fmt = img.format or "unknown"
            if fmt not in IMAGE_FORMATS:
                raise ImageDecodeError(
                    f"image format {fmt} is not supported; allowed formats: PNG, JPEG, WebP"
                )
            w, h = img.size
            if w > MAX_IMAGE_SIDE or h > MAX_IMAGE_SIDE:
                raise ImageDecodeError(f"image is {w}x{h} px; the maximum is {MAX_IMAGE_SIDE} px per side")
            if w < 1 or h < 1:
                raise ImageDecodeError(f"image is {w}x{h} px; it must be at least 1x1")
            img.load()
            rgb = img.convert("RGB")
    except ImageDecodeError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageDecodeError(f"image rejected as a decompression bomb ({exc})") from None
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise ImageDecodeError(
            f"could not decode {len(data)} bytes as a PNG, JPEG or WebP image ({type(exc).__name__}: {exc})"
        ) from None
    return RefImage(digest, w, h, IMAGE_FORMATS[fmt], _crop_5_3(rgb))


def _crop_5_3(img: Image.Image) -> Image.Image:
    """Centre-crop to the 5:3 output aspect; keep at most the 4x output size to bound memory."""
    w, h = img.size
    if w * 3 > h * 5:
        cw, ch = max(1, round(h * 5 / 3)), h
    else:
        cw, ch = w, max(1, round(w * 3 / 5))
    left, top = (w - cw) // 2, (h - ch) // 2
    out = img.crop((left, top, left + cw, top + ch))
    cap_w, cap_h = BASE_WIDTH * 4, BASE_HEIGHT * 4
    if cw > cap_w:
        out = out.resize((cap_w, cap_h), Image.Resampling.LANCZOS)
    return out


# ---------------------------------------------------------------------------------------------
# The image fields of a command
# ---------------------------------------------------------------------------------------------
def upload_bytes(upload: Any) -> bytes:
    """The bytes of an upload (an :class:`~.base.Upload` or raw bytes)."""
    data = getattr(upload, "data", upload)
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    raise TypeError(f"upload must be bytes or have .data bytes, got {type(upload).__name__}")


def check_image(command: str, data: Mapping[str, Any], uploads: Mapping[str, Any]) -> RefImage:
    """The decoded reference image of ``image_b64`` or the ``image`` upload, or a rejection naming the field."""
    if "image_b64" in data:
        fld = "image_b64"
        try:
            raw = decode_image_b64(data["image_b64"])
        except ImageDecodeError as exc:
            raise CommandValidationError(command, "invalid_value", str(exc), fld) from None
    else:
        fld = "image"
        if "image" not in uploads:
            ref = data.get("image")
            raise CommandValidationError(
                command,
                "unknown_upload",
                f"upload reference {str(ref)[:80]} is not a completed, announced upload of this session "
                "(upload the file first, then reference it)",
                fld,
            )
        raw = upload_bytes(uploads["image"])
    try:
        return decode_image(raw)
    except ImageDecodeError as exc:
        raise CommandValidationError(command, "invalid_value", str(exc), fld) from None

"""Image sources for image commands: a file path, an http(s) URL or a ``data:`` URL → base64.

Front ends (the ``%reactor`` magic, the widget) reach the network only through the SDK, so
downloading an image for ``set_image`` happens here.
"""

from __future__ import annotations

import base64
import os
import urllib.error
import urllib.request

MAX_IMAGE_BYTES = 20 * 1024 * 1024


class ImageSourceError(ValueError):
    """An image that cannot be read, downloaded or recognised; the message says why and what to do."""


def load_image_b64(source: str, *, timeout: float = 15.0, max_bytes: int = MAX_IMAGE_BYTES) -> str:
    """A file path, an http(s) URL or a ``data:`` URL → base64 of a PNG, JPEG or WebP (data URLs pass through)."""
    if source.startswith("data:"):
        return source
    if source.startswith(("http://", "https://")):
        raw = _download(source, timeout, max_bytes)
    else:
        with open(check_image_path(source, max_bytes), "rb") as fh:
            raw = fh.read()
    if len(raw) > max_bytes:
        raise ImageSourceError(f"{source} is larger than {max_bytes // (1024 * 1024)} MB")
    if not (raw.startswith((b"\x89PNG", b"\xff\xd8")) or (raw[:4] == b"RIFF" and raw[8:12] == b"WEBP")):
        raise ImageSourceError(f"{source} is not a PNG, JPEG or WebP image")
    return base64.b64encode(raw).decode("ascii")


def _download(url: str, timeout: float, max_bytes: int) -> bytes:
    req = urllib.request.Request(url, headers={"User-Agent": "reactor-notebook"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return bytes(resp.read(max_bytes + 1))
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ImageSourceError(
            f"could not download {url}: {reason}. "
            "If this machine is offline, download the image elsewhere and pass its file path."
        ) from None


def check_image_path(source: str, max_bytes: int = MAX_IMAGE_BYTES) -> str:
    """The expanded path of an image file, or an :class:`ImageSourceError` saying why it cannot be one."""
    path = os.path.expanduser(source)
    if os.path.isdir(path):
        raise ImageSourceError(f"{source} is a directory; give the path of a PNG, JPEG or WebP file in it")
    if not os.path.exists(path):
        parent = os.path.dirname(os.path.abspath(path))
        where = "" if os.path.isdir(parent) else f" (the directory {parent} does not exist either)"
        raise ImageSourceError(f"no such file: {source}{where}")
    if not os.path.isfile(path):
        raise ImageSourceError(f"{source} is not a regular file")
    if not os.access(path, os.R_OK):
        raise ImageSourceError(f"{source} is not readable (permission denied)")
    if os.path.getsize(path) > max_bytes:
        raise ImageSourceError(f"{source} is larger than {max_bytes // (1024 * 1024)} MB")
    return path

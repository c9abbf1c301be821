"""Commands too big for one data-channel message: move base64 images to an upload + ``FileRef``.

A data-channel message holds at most 256 KiB, so a base64 image above roughly 190 KB of binary
cannot travel inline, although the runtime accepts far larger uploads. When the command offers
an upload parameter for the same value (Helios ``set_image``: ``image_b64`` or ``image``), the
image is uploaded and the command sends the reference instead. The magic and the widget forms
call :func:`fit_message` after validating, so their users never meet the limit.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from .. import protocol as P
from ..schema import CommandSpec

_DATA_URL = re.compile(r"^data:([\w.+-]+/[\w.+-]+)?(;[^,]*)?,", re.IGNORECASE)
_MAGIC_TYPES = ((b"\x89PNG", "image/png", "png"), (b"\xff\xd8", "image/jpeg", "jpg"), (b"RIFF", "image/webp", "webp"))


def message_size(command: str, data: dict[str, Any]) -> int:
    """Bytes of the enveloped command on the wire (FileRefs count as their references)."""
    plain = {k: (v.to_wire() if hasattr(v, "to_wire") else v) for k, v in data.items()}
    return len(P.encode_envelope(P.SCOPE_APPLICATION, command, plain).encode("utf-8"))


def upload_alternative(spec: CommandSpec | None, field: str) -> str | None:
    """The upload parameter that can carry ``field``'s value (``image_b64`` → ``image``), if any."""
    if spec is None:
        return None
    uploads = [p.name for p in spec.params if p.is_upload or p.type == "upload"]
    for group in spec.one_of:
        if field in group:
            return next((name for name in group if name in uploads), None)
    stem = field[: -len("_b64")] if field.endswith("_b64") else None
    if stem in uploads:
        return stem
    return uploads[0] if len(uploads) == 1 else None


def decode_image(value: str) -> tuple[bytes, str, str]:
    """Raw bytes, MIME type and file extension of a base64 image (raw base64 or ``data:`` URL)."""
    match = _DATA_URL.match(value)
    payload = value[match.end() :] if match else value
    try:
        raw = base64.b64decode(payload, validate=False)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"not valid base64: {exc}") from None
    for magic, mime, ext in _MAGIC_TYPES:
        if raw.startswith(magic):
            return raw, mime, ext
    mime = (match.group(1) if match and match.group(1) else "application/octet-stream").lower()
    return raw, mime, mime.rsplit("/", 1)[-1]


def fit_message(reactor: Any, spec: CommandSpec | None, command: str, data: dict[str, Any]) -> dict[str, Any]:
    """``data`` unchanged if it fits one message, else with large base64 strings moved to uploads.

    Raises ``ValueError`` naming the command and field when it is too big and the command has no
    upload parameter to carry it.
    """
    if message_size(command, data) <= P.MAX_MESSAGE_SIZE:
        return data
    out = dict(data)
    for field in sorted(
        (k for k, v in data.items() if isinstance(v, str)), key=lambda k: len(data[k]), reverse=True
    ):
        alt = upload_alternative(spec, field)
        if alt is None or alt in out:
            continue
        raw, mime, ext = decode_image(out.pop(field))
        out[alt] = reactor.upload_file_sync(raw, name=f"{field}.{ext}", mime_type=mime)
        if message_size(command, out) <= P.MAX_MESSAGE_SIZE:
            return out
    biggest = max(data, key=lambda k: len(str(data[k])))
    raise ValueError(
        f"{command}: field {biggest!r}: the command is {message_size(command, data)} bytes, over the "
        f"{P.MAX_MESSAGE_SIZE}-byte data-channel limit, and it has no upload parameter to carry it"
    )

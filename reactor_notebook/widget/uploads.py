"""Upload-typed form fields: files the browser sends as binary buffers, uploaded through the SDK.

A form submission may carry ``"uploads": {field: {"buffer": i, "name", "mime_type"}}`` with
the file bytes in buffer ``i``. Each one goes through the session's own upload path
(``upload_file_sync``, the same route a user's ``reactor.upload_file`` takes), and the
returned FileRef becomes the field's argument. The widget never reaches the network itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..schema import CommandSpec, CommandValidationError

MAX_UPLOAD_BYTES = 64 * 1024 * 1024  # what a browser form may hand over in one comm message

Upload = Callable[..., Any]  # upload_file_sync(data, *, name=..., mime_type=...) -> FileRef


def resolve_uploads(
    commands: Sequence[CommandSpec], msg: dict[str, Any], buffers: Sequence[Any], upload: Upload
) -> dict[str, Any]:
    """Return the submission's args with each upload field replaced by its FileRef (raises CommandValidationError)."""
    name = str(msg.get("name"))
    args = dict(msg.get("args") or {}) if isinstance(msg.get("args"), dict) else msg.get("args")
    uploads = msg.get("uploads")
    if not uploads:
        return args if isinstance(args, dict) else {}
    spec = next((c for c in commands if c.name == name), None)
    if not isinstance(uploads, dict) or spec is None or not isinstance(args, dict):
        raise CommandValidationError(
            name, "bad_request", "uploads need a known command and an object of fields"
        )
    for field, meta in uploads.items():
        p = spec.param(str(field))
        if p is None or not p.is_upload:
            raise CommandValidationError(
                name, "unexpected_field", "this field does not take an upload", str(field)
            )
        index = meta.get("buffer") if isinstance(meta, dict) else None
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(buffers):
            raise CommandValidationError(
                name, "bad_request", f"no file data for buffer {index!r}", str(field)
            )
        data = bytes(buffers[index])
        if not data:
            raise CommandValidationError(name, "invalid_value", "the file is empty", str(field))
        if len(data) > MAX_UPLOAD_BYTES:
            raise CommandValidationError(
                name,
                "out_of_range",
                f"file of {len(data)} bytes exceeds {MAX_UPLOAD_BYTES} bytes",
                str(field),
            )
        file_name = str(meta.get("name") or field)
        mime = (
            meta.get("mime_type")
            if isinstance(meta.get("mime_type"), str) and meta.get("mime_type")
            else None
        )
        try:
            args[str(field)] = upload(data, name=file_name, mime_type=mime)
        except Exception as exc:
            raise CommandValidationError(
                name, "upload_failed", f"upload of {file_name!r} failed: {exc}", str(field)
            ) from exc
    return args

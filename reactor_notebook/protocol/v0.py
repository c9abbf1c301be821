"""Wire v0: the JSON envelopes of the ``data`` and ``control`` data channels (docs/protocol.md §4).

Spoken by reactor-sdk 0.8.0, js-sdk 2.9.0 and our own SDK; a runtime picks v0 or v1 per connection
with :func:`reactor_notebook.protocol.v1.sniff`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

Scope = Literal["application", "runtime"]

__all__ = [
    "Envelope",
    "EnvelopeError",
    "Scope",
    "control_notification",
    "control_request",
    "control_response",
    "decode_envelope",
    "encode_envelope",
]


def encode_envelope(scope: Scope, type_: str, data: Any = None, uploads: dict[str, Any] | None = None) -> str:
    """Serialise a ``data``-channel message: ``{"scope", "data": {"type", "data"[, "uploads"]}}``."""
    inner: dict[str, Any] = {"type": type_, "data": {} if data is None else data}
    if uploads:
        inner["uploads"] = uploads
    return json.dumps({"scope": scope, "data": inner}, separators=(",", ":"), allow_nan=False)


@dataclass(frozen=True)
class Envelope:
    """A parsed ``data``-channel message; ``scope`` is None for un-enveloped payloads."""

    scope: str | None
    type: str | None
    data: Any
    uploads: dict[str, Any] | None
    inner: Any


class EnvelopeError(ValueError):
    """A data-channel message that is not valid JSON or not a well-formed envelope."""


def decode_envelope(raw: str | bytes) -> Envelope:
    """Parse one data-channel message; raise :class:`EnvelopeError` with a specific reason."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise EnvelopeError(f"message is not UTF-8: {exc}") from None
    try:
        obj = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise EnvelopeError(f"message is not valid JSON: {exc}") from None
    if not isinstance(obj, dict) or "scope" not in obj:
        return Envelope(None, None, obj, None, obj)
    scope = obj.get("scope")
    inner = obj.get("data")
    if scope not in ("application", "runtime"):
        raise EnvelopeError(f"unknown scope {scope!r} (expected 'application' or 'runtime')")
    if not isinstance(inner, dict):
        raise EnvelopeError(f"envelope 'data' must be an object, got {type(inner).__name__}")
    type_ = inner.get("type")
    if not isinstance(type_, str) or not type_:
        raise EnvelopeError("envelope 'data.type' must be a non-empty string")
    uploads = inner.get("uploads")
    if uploads is not None and not isinstance(uploads, dict):
        raise EnvelopeError("envelope 'data.uploads' must be an object")
    return Envelope(scope, type_, inner.get("data", {}), uploads, inner)


# --- control channel (§4.3) -----------------------------------------------------------------
def control_request(method: str, request_id: str, data: dict[str, Any]) -> str:
    """A control-channel request awaiting a response with the same ``request_id``."""
    return json.dumps({"type": "request", "method": method, "request_id": request_id, "data": data})


def control_response(
    method: str, request_id: str, data: dict[str, Any] | None = None, error: dict[str, str] | None = None
) -> str:
    """A control-channel response; ``error`` is ``{"code", "message"}`` when refused."""
    msg: dict[str, Any] = {"type": "response", "method": method, "request_id": request_id}
    if error is not None:
        msg["error"] = error
    else:
        msg["data"] = data or {}
    return json.dumps(msg)


def control_notification(event: str, name: str) -> str:
    """A fire-and-forget control notification (``pause_track``, ``resume_track``, ``unpublish_track``)."""
    return json.dumps({"type": "notification", "event": event, "data": {"name": name}})

"""Wire v0: the JSON envelopes of the ``data`` and ``control`` data channels (``docs/protocol.md``).

Spoken by reactor-sdk 0.8.0, js-sdk 2.9.0 and our own SDK; a runtime picks v0 or v1 per connection
with :func:`reactor_notebook.protocol.v1.sniff`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from . import names as N

Scope = Literal["application", "runtime"]

__all__ = [
    "ControlMessage",
    "Envelope",
    "EnvelopeError",
    "Scope",
    "control_notification",
    "control_request",
    "control_response",
    "decode_control",
    "decode_envelope",
    "encode_envelope",
    "encode_message",
]


def encode_envelope(scope: Scope, type_: str, data: Any = None, uploads: dict[str, Any] | None = None) -> str:
    """Serialise a ``data``-channel message: ``{"scope", "data": {"type", "data"[, "uploads"]}}``."""
    inner: dict[str, Any] = {"type": type_, "data": {} if data is None else data}
    if uploads:
        inner["uploads"] = uploads
    return encode_message(scope, inner)


def encode_message(scope: str, message: dict[str, Any]) -> str:
    """Serialise an already-built inner message (``{"type", "data", ...}``) under ``scope``."""
    return json.dumps({"scope": scope, "data": message}, separators=(",", ":"), allow_nan=False)


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
    if scope not in N.SCOPES:
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


# --- control channel (docs/protocol.md "Control channel") -------------------------------------
def control_request(method: str, request_id: str, data: dict[str, Any]) -> str:
    """A control-channel request awaiting a response with the same ``request_id``."""
    return json.dumps({"type": N.KIND_REQUEST, "method": method, "request_id": request_id, "data": data})


def control_response(
    method: str, request_id: str, data: dict[str, Any] | None = None, error: dict[str, str] | None = None
) -> str:
    """A control-channel response; ``error`` is ``{"code", "message"}`` when refused."""
    msg: dict[str, Any] = {"type": N.KIND_RESPONSE, "method": method, "request_id": request_id}
    if error is not None:
        msg["error"] = error
    else:
        msg["data"] = data or {}
    return json.dumps(msg)


def control_notification(event: str, name: str) -> str:
    """A fire-and-forget control notification (``pause_track``, ``resume_track``, ``unpublish_track``)."""
    return json.dumps({"type": N.KIND_NOTIFICATION, "event": event, "data": {"name": name}})


@dataclass(frozen=True)
class ControlMessage:
    """A parsed control-channel message: its kind, and the method (requests, responses) or event.

    ``name`` is the track name carried by every track method; ``error`` is ``(code, message)``
    for a refused response.
    """

    kind: str | None
    method: str | None
    request_id: str | None
    data: dict[str, Any]
    error: tuple[str, str] | None = None

    @property
    def name(self) -> Any:
        """The track name every track method carries in ``data``."""
        return self.data.get("name")


def decode_control(raw: str | bytes) -> ControlMessage | None:
    """Parse one control-channel frame; None when it is not a JSON object."""
    try:
        obj = json.loads(raw)
    except (ValueError, TypeError, UnicodeDecodeError, RecursionError):
        return None
    if not isinstance(obj, dict):
        return None
    kind = obj.get("type")
    method = obj.get("event") if kind == N.KIND_NOTIFICATION else obj.get("method")
    data = obj.get("data")
    err = obj.get("error")
    error = None
    if err:
        code = str(err.get("code", "UNKNOWN")) if isinstance(err, dict) else "UNKNOWN"
        error = (code, str(err.get("message", "")) if isinstance(err, dict) else str(err))
    rid = obj.get("request_id")
    return ControlMessage(
        kind if isinstance(kind, str) else None,
        None if method is None else str(method),
        None if rid is None else str(rid),
        data if isinstance(data, dict) else {},
        error,
    )

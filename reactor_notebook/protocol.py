"""Wire-protocol constants and message shapes shared by the SDK and the runtime.

Everything that both halves put on the wire lives here once (see ``shared/protocol.md``):
header names and versions, timing budgets, session ids, and the JSON envelopes of the
``data`` and ``control`` data channels.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

# --- HTTP headers and versions (protocol.md §2.1) ---------------------------------------
API_VERSION = 1
WEBRTC_VERSION = "1.0"
HEADER_API_KEY = "Reactor-API-Key"
HEADER_API_VERSION = "Reactor-API-Version"
HEADER_API_ACCEPT_VERSION = "Reactor-API-Accept-Version"
HEADER_WEBRTC_VERSION = "Reactor-WebRTC-Version"

DEFAULT_API_URL = "https://api.reactor.inc"
DEFAULT_LOCAL_URL = "http://localhost:8080"
LOCAL_URL_ENV = "REACTOR_LOCAL_URL"

# --- Sessions and connections (§2.4, §2.5) -------------------------------------------------
LOCAL_SESSION_ID = "local"
# Our runtime's local session descriptor reports how many clients are attached (others ignore it),
# so a second notebook learns it shares the session instead of silently driving the first one's model.
ATTACHED_CLIENTS_KEY = "attached_clients"
LOCAL_BEARER = "local"
FLAT_CONNECTION_ID = 1001
MIN_CONNECTION_ID = 1001
MAX_CONNECTION_ID = 9999
SESSION_STATES = ("CREATED", "PENDING", "SUSPENDED", "WAITING", "ACTIVE", "INACTIVE", "CLOSED")

# --- Timing budgets (§2.6, §4.2) -----------------------------------------------------------
PING_INTERVAL_S = 5.0
KEEPALIVE_CHECK_S = 2.0
KEEPALIVE_TIMEOUT_S = 20.0
ORPHAN_TIMEOUT_S = 30.0
CONTROL_REQUEST_TIMEOUT_S = 10.0
SESSION_POLL = (0.2, 10.0, 20)  # first sleep, cap, attempts
SDP_POLL = (0.2, 15.0, 6)
ICE_GATHER_TIMEOUT_S = 5.0
ANSWER_BUDGET_S = 3.0
MAX_MESSAGE_SIZE = 262144
TOKEN_LIFETIME_S = 3600

# --- Data channel labels ---------------------------------------------------------------
CHANNEL_CONTROL = "control"
CHANNEL_DATA = "data"

Scope = Literal["application", "runtime"]

# Error reasons a runtime reports for rejected commands (§6.5).
ERROR_REASONS = (
    "unknown_command",
    "missing_field",
    "unexpected_field",
    "wrong_type",
    "out_of_range",
    "not_in_enum",
    "invalid_value",
    "unknown_upload",
    "past_chunk",
    "invalid_state",
)


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


# --- Control channel (§4.3) ----------------------------------------------------------------
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


def check_version_header(value: str | None, supported_major: int) -> int | None:
    """Compare a version header with ours: None if acceptable, else the HTTP status (426 / 501)."""
    if value is None or value == "":
        return None
    try:
        major = int(str(value).strip().split(".")[0])
    except ValueError:
        return 400
    if major < supported_major:
        return 426
    if major > supported_major:
        return 501
    return None

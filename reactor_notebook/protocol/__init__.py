"""Wire-protocol constants and message shapes shared by the SDK and the runtime.

Everything that both halves put on the wire lives here once (described in ``docs/protocol.md``):
header names and versions, timing budgets and session ids here; routes, message types, control
methods, scopes, session states and codec names in :mod:`.names` (re-exported); the channel
codecs in :mod:`.v0` (JSON envelopes) and :mod:`.v1` (protobuf ``reactor_wire.v1``); the SDP
section splitter in :mod:`.sdp`.
"""

from __future__ import annotations

from typing import Literal

from . import v0
from .names import *  # noqa: F403 - the wire vocabulary, read as ``protocol.ROUTE_SESSIONS`` etc.
from .names import TRANSPORT_WEBRTC

# The JSON envelopes (wire v0), re-exported: existing code reads them from this package.
Envelope = v0.Envelope
EnvelopeError = v0.EnvelopeError
Scope = v0.Scope
ControlMessage = v0.ControlMessage
control_notification = v0.control_notification
control_request = v0.control_request
control_response = v0.control_response
decode_control = v0.decode_control
decode_envelope = v0.decode_envelope
encode_envelope = v0.encode_envelope
encode_message = v0.encode_message

# --- HTTP headers and versions (docs/protocol.md "HTTP API") ---------------------------------------
API_VERSION = 1
WEBRTC_VERSION = "1.0"
HEADER_API_KEY = "Reactor-API-Key"
HEADER_API_VERSION = "Reactor-API-Version"
HEADER_API_ACCEPT_VERSION = "Reactor-API-Accept-Version"
HEADER_WEBRTC_VERSION = "Reactor-WebRTC-Version"

DEFAULT_API_URL = "https://api.reactor.inc"
DEFAULT_LOCAL_URL = "http://localhost:8080"
LOCAL_URL_ENV = "REACTOR_LOCAL_URL"

# --- Sessions and connections (docs/protocol.md "Sessions") -------------------------------------------------
LOCAL_SESSION_ID = "local"
# Our runtime's local session descriptor reports how many clients are attached (others ignore it),
# so a second notebook learns it shares the session instead of silently driving the first one's model.
ATTACHED_CLIENTS_KEY = "attached_clients"
LOCAL_BEARER = "local"
FLAT_CONNECTION_ID = 1001
MIN_CONNECTION_ID = 1001
MAX_CONNECTION_ID = 9999
GENERATIONS = ("streamed", "stepped")  # how a session generates (``generation`` in its creating body)
WIRE_VERSIONS = ("v0", "v1")  # data-channel wires a runtime serves, picked per connection
TRANSPORTS = ({"protocol": TRANSPORT_WEBRTC, "version": WEBRTC_VERSION},)

# --- Timing budgets (docs/protocol.md "Timing") -----------------------------------------------------------
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
CHANNEL_CONTROL: Literal["control"] = "control"
CHANNEL_DATA: Literal["data"] = "data"

# Error reasons a runtime reports for rejected commands (docs/protocol.md "Commands").
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

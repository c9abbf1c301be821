"""The wire vocabulary: every route, header, message type, control method, scope, state and codec name.

The SDK and the runtime spell these only through this module (see ``docs/protocol.md``), so a
rename on the wire is a one-line change here. Routes are templates with ``{sid}``, ``{cid}``
and ``{uid}`` placeholders; :func:`route` fills them (URL-quoted) for a client.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import quote

# --- HTTP routes (docs/protocol.md "HTTP API") -------------------------------------------------
ROUTE_TOKENS = "/tokens"
ROUTE_SESSIONS = "/sessions"
ROUTE_SESSION = "/sessions/{sid}"
ROUTE_SESSION_INFO = "/sessions/{sid}/info"
ROUTE_SESSION_UPLOADS = "/sessions/{sid}/uploads"
ROUTE_UPLOAD = "/uploads/{uid}"
ROUTE_START_SESSION = "/start_session"  # local mode: one session per runtime
ROUTE_STOP_SESSION = "/stop_session"
ROUTE_LOCAL_SESSION = "/session"
ROUTE_SCHEMA = "/schema"
ROUTE_HEALTH = "/health"
ROUTE_TRANSPORT = "/sessions/{sid}/transport/webrtc"
ROUTE_ICE_SERVERS = ROUTE_TRANSPORT + "/ice_servers"
ROUTE_CONNECTIONS = ROUTE_TRANSPORT + "/connections"
ROUTE_CONNECTION_SDP = ROUTE_CONNECTIONS + "/{cid}/sdp_params"
ROUTE_FLAT_SDP = ROUTE_TRANSPORT + "/sdp_params"  # runtimes without connection routes
ROUTE_ICE_CANDIDATES = ROUTE_CONNECTIONS + "/{cid}/ice_candidates"


def route(template: str, **parts: object) -> str:
    """A route template with its placeholders filled, each URL-quoted: ``route(ROUTE_SESSION, sid="a b")``."""
    return template.format(**{k: quote(str(v), safe="") for k, v in parts.items()})


# --- Authorization --------------------------------------------------------------------------
HEADER_AUTHORIZATION = "Authorization"
BEARER = "Bearer"


def bearer(token: str) -> str:
    """The ``Authorization`` header value for ``token``."""
    return f"{BEARER} {token}"


# --- Data-channel scopes and message types (docs/protocol.md "Data channel, wire v0") ----------
SCOPE_APPLICATION: Literal["application"] = "application"
SCOPE_RUNTIME: Literal["runtime"] = "runtime"
SCOPES = (SCOPE_APPLICATION, SCOPE_RUNTIME)

# runtime scope
MSG_PING = "ping"
MSG_REQUEST_CAPABILITIES = "requestCapabilities"
MSG_MODEL_CAPABILITIES = "modelCapabilities"
MSG_REQUEST_SCHEMA = "requestSchema"
MSG_MODEL_SCHEMA = "modelSchema"
MSG_FILE_UPLOADED = "fileUploaded"
MSG_RUNTIME_ERROR = "error"
RUNTIME_REPLIES = {MSG_REQUEST_CAPABILITIES: MSG_MODEL_CAPABILITIES, MSG_REQUEST_SCHEMA: MSG_MODEL_SCHEMA}

# application scope (what models send back)
MSG_STATE = "state"
MSG_EVENT = "event"
MSG_COMMAND_ERROR = "command_error"
EVENT_ERROR = "error"  # legacy rejection: ``{"type": "event", "data": {"event": "error", ...}}``

# --- Control channel (docs/protocol.md "Control channel") ------------------------------------
KIND_REQUEST = "request"
KIND_RESPONSE = "response"
KIND_NOTIFICATION = "notification"
METHOD_PUBLISH_TRACK = "publish_track"
METHOD_UNPUBLISH_TRACK = "unpublish_track"
METHOD_PAUSE_TRACK = "pause_track"
METHOD_RESUME_TRACK = "resume_track"
TRACK_METHODS = (METHOD_PUBLISH_TRACK, METHOD_UNPUBLISH_TRACK, METHOD_PAUSE_TRACK, METHOD_RESUME_TRACK)
OUTPUT_METHODS = (METHOD_PAUSE_TRACK, METHOD_RESUME_TRACK)

# --- Session states (docs/protocol.md "Session states") ---------------------------------------
STATE_CREATED = "CREATED"
STATE_PENDING = "PENDING"
STATE_SUSPENDED = "SUSPENDED"
STATE_WAITING = "WAITING"
STATE_ACTIVE = "ACTIVE"
STATE_INACTIVE = "INACTIVE"
STATE_CLOSING = "CLOSING"
STATE_CLOSED = "CLOSED"
SESSION_STATES = (
    STATE_CREATED,
    STATE_PENDING,
    STATE_SUSPENDED,
    STATE_WAITING,
    STATE_ACTIVE,
    STATE_INACTIVE,
    STATE_CLOSING,
    STATE_CLOSED,
)
TRANSIENT_STATES = (STATE_CREATED, STATE_CLOSING)  # a local runtime between two sessions
ENDED_STATES = (STATE_CLOSED, STATE_INACTIVE)

# --- Codecs ------------------------------------------------------------------------------------
CODEC_H264 = "h264"
CODEC_VP8 = "vp8"
CODEC_AUTO = "auto"  # keep the offer's order
CODECS = (CODEC_AUTO, CODEC_H264, CODEC_VP8)
MIME_H264 = "video/h264"  # lower-case: compare with ``mimeType.lower()``
MIME_VP8 = "video/vp8"
MIME_RTX = "video/rtx"
TRANSPORT_WEBRTC = "webrtc"

# --- Wire v1 payload names that differ from v0's (docs/protocol-v1.md) ---------------------------
V1_REQUEST_SCHEMA = "request_schema"
V1_MODEL_SCHEMA = "model_schema"
V1_FILE_UPLOADED = "file_uploaded"
V1_CLIENT_STATS = "client_stats"
V1_COMMAND = "command"
V1_MODERATION = "moderation"
V1_SESSION_ENDED = "session_ended"

"""HTTP API of the runtime (``docs/protocol.md`` "HTTP API"): local, cloud-like coordinator and transport routes.

Middlewares add CORS to every answer (OPTIONS preflights get 204 + Private-Network), check
version headers (426/501 only for real version mismatches) and turn every error into a
``{"detail": ...}`` body.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from .. import protocol
from . import bodies
from .auth import Authenticator, AuthError
from .channels import Dispatcher
from .clip_routes import add_clip_routes
from .config import MAX_UPLOAD_BYTES
from .errors import RequestRefused
from .session import SessionError, SessionManager

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
MANAGER = web.AppKey("manager", SessionManager)
AUTH = web.AppKey("auth", Authenticator)
MAX_TOKEN_LIFETIME_S = bodies.MAX_TOKEN_LIFETIME_S


def _detail(status: int, detail: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"detail": detail}, status=status, headers=headers)


def _cors_headers(request: web.Request) -> dict[str, str]:
    origin = request.headers.get("Origin")
    headers = {
        "Access-Control-Allow-Origin": origin or "*",
        "Access-Control-Expose-Headers": "Retry-After, Reactor-API-Version",
        "Vary": "Origin",
    }
    if origin:
        headers["Access-Control-Allow-Credentials"] = "true"
    return headers


@web.middleware
async def cors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Allow every origin, method and header; answer preflights with 204."""
    if request.method == "OPTIONS":
        headers = _cors_headers(request)
        headers["Access-Control-Allow-Methods"] = request.headers.get(
            "Access-Control-Request-Method", "GET, POST, PUT, DELETE, OPTIONS"
        )
        headers["Access-Control-Allow-Headers"] = request.headers.get("Access-Control-Request-Headers", "*")
        headers["Access-Control-Max-Age"] = "600"
        if request.headers.get("Access-Control-Request-Private-Network", "").lower() == "true":
            headers["Access-Control-Allow-Private-Network"] = "true"
        return web.Response(status=204, headers=headers)
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        if exc.status == 404:
            detail = f"Not found: {request.method} {request.path}"
        elif exc.status == 405:
            detail = f"Method {request.method} is not allowed on {request.path}"
        else:
            detail = exc.reason or exc.text or "error"
        headers = {k: v for k, v in exc.headers.items() if k.lower() in ("allow", "retry-after")}
        response = _detail(exc.status, detail, headers)
    except RequestRefused as exc:
        response = _detail(exc.status, exc.detail)
    except AuthError as exc:
        response = _detail(401, str(exc))
    except Exception as exc:  # a bug must still answer with a JSON detail, never a bare 500 page
        log.exception("unhandled error on %s %s", request.method, request.path)
        response = _detail(500, f"Internal error while handling {request.method} {request.path}: {type(exc).__name__}")
    for key, value in _cors_headers(request).items():
        response.headers.setdefault(key, value)
    return response


@web.middleware
async def version_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """426 for a too-old, 501 for a too-new ``Reactor-API-Version`` / ``Reactor-WebRTC-Version``."""
    for header, major in (
        (protocol.HEADER_API_VERSION, protocol.API_VERSION),
        (protocol.HEADER_WEBRTC_VERSION, int(protocol.WEBRTC_VERSION.split(".")[0])),
    ):
        value = request.headers.get(header)
        status = protocol.check_version_header(value, major)
        if status == 426:
            return _detail(426, f"{header} {value} is too old: this runtime speaks {header} {major}")
        if status == 501:
            return _detail(501, f"{header} {value} is newer than this runtime supports ({major})")
        if status is not None:
            return _detail(400, f"Malformed {header} header: {value!r}")
    return await handler(request)


async def _json_body(request: web.Request, *, status: int = 400) -> Any:
    raw = await request.read()
    if not raw.strip():
        return None
    try:
        return json.loads(raw, parse_constant=_reject_constant)
    except RecursionError:
        raise SessionError(status, "Request body is nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise SessionError(status, f"Request body is not valid JSON: {exc}") from None


def _reject_constant(name: str) -> Any:
    """NaN and Infinity are not JSON: refuse them instead of letting them reach handlers."""
    raise ValueError(f"{name} is not allowed in JSON")


def _manager(request: web.Request) -> SessionManager:
    return request.app[MANAGER]


def _auth_cloud(request: web.Request, sid: str | None = None) -> None:
    """Cloud routes need a live bearer token; session ``local`` never checks auth."""
    if sid == protocol.LOCAL_SESSION_ID:
        return
    request.app[AUTH].check_bearer(request.headers.get(protocol.HEADER_AUTHORIZATION), sid)


def _cid(request: web.Request) -> int:
    raw = request.match_info.get("cid") or request.query.get("connection_id")
    if raw is None:
        return protocol.FLAT_CONNECTION_ID
    try:
        return int(raw)
    except ValueError:
        raise SessionError(404, f"Connection id must be an integer, got {raw!r}") from None


# --- local routes -----------------------------------------------------------------------------------
async def start_session(request: web.Request) -> web.Response:
    """``POST /start_session``: start (or return) the one local session and answer its descriptor.
    A repeated start is idempotent, so a reconnecting client gets the running session back."""
    route = "POST /start_session"
    body = bodies.optional_object(await _json_body(request), route)
    m = _manager(request)
    generation = _generation(body)
    s = m.start_local(bodies.session_extra(body, route))
    s.generation = s.generation or generation  # idempotent start keeps the first session's mode
    return web.json_response(m.descriptor(s))


def _generation(body: dict[str, Any]) -> str:
    """``generation`` of a session-creating body ("streamed" when absent); 422 names a bad value."""
    value = body.get("generation", protocol.GENERATIONS[0])
    if value not in protocol.GENERATIONS:
        raise SessionError(422, f"'generation' must be one of {list(protocol.GENERATIONS)}, got {value!r}")
    return str(value)


async def stop_session(request: web.Request) -> web.Response:
    """``POST /stop_session``: close the local session if one runs; answers ``null`` either way."""
    bodies.optional_object(await _json_body(request), "POST /stop_session")
    m = _manager(request)
    s = m.get(protocol.LOCAL_SESSION_ID)
    if s is not None:
        await m.close_session(s, "POST /stop_session")
    return web.json_response(None)


async def get_session(request: web.Request) -> web.Response:
    """``GET /session``: the local session's descriptor, or 404 when none was started."""
    m = _manager(request)
    s = m.get(protocol.LOCAL_SESSION_ID)
    if s is None:
        return _detail(404, "No session: POST /start_session first")
    return web.json_response(m.descriptor(s))


async def get_schema(request: web.Request) -> web.Response:
    """``GET /schema``: the hosted model's OpenAPI schema (commands, messages) for client validation."""
    return web.json_response(_manager(request).info.schema)


async def health(request: web.Request) -> web.Response:
    """``GET /health``: liveness probe naming the hosted model and its machine state."""
    m = _manager(request)
    return web.json_response({"status": "healthy", "model": m.model.name, "state": m.machine_state()})


# --- cloud-like coordinator ----------------------------------------------------------------------------
async def tokens(request: web.Request) -> web.Response:
    """``POST /tokens``: trade the API key for a short-lived JWT that the cloud routes accept."""
    auth = request.app[AUTH]
    auth.check_api_key(request.headers.get(protocol.HEADER_API_KEY))
    expires_after, sid = bodies.token_request(await _json_body(request))
    jwt, exp = auth.mint(expires_after, sid)
    return web.json_response({"jwt": jwt, "expires_at": int(exp)})


async def create_session(request: web.Request) -> web.Response:
    """``POST /sessions``: create a cloud-style session for the hosted model (201 + initial descriptor).
    Refuses other model names and transports without WebRTC, as the hosted service does."""
    _auth_cloud(request)
    m = _manager(request)
    body = await _json_body(request, status=422)
    if not isinstance(body, dict):
        return _detail(422, "Body must be an object like {'model': {'name': ...}}")
    model = body.get("model")
    name = model.get("name") if isinstance(model, dict) else model if isinstance(model, str) else None
    if not isinstance(name, str) or not name:
        return _detail(422, "'model.name' is required")
    if name != m.model.name:
        return _detail(404, f"Model {name!r} not found; this runtime hosts {m.model.name!r}")
    transports = body.get("supported_transports")
    if transports is not None and not (
        isinstance(transports, list)
        and any(isinstance(t, dict) and t.get("protocol") == "webrtc" for t in transports)
    ):
        return _detail(422, "'supported_transports' must include {'protocol': 'webrtc'}")
    extra = bodies.session_extra(body, "POST /sessions", 422)
    # reactor-sdk 1.13 in cloud mode asks for stepped generation inside extra_configs
    generation = _generation(body if "generation" in body or extra is None else extra)
    s = m.create_cloud(extra)
    s.generation = generation
    return web.json_response(m.descriptor(s, initial=True), status=201)


def _session_or_closed(request: web.Request) -> tuple[Any, dict[str, Any] | None]:
    sid = request.match_info["sid"]
    _auth_cloud(request, sid)
    m = _manager(request)
    s = m.get(sid)
    if s is not None:
        return s, None
    closed = m.closed_descriptor(sid)
    if closed is None:
        raise SessionError(404, f"Session not found: {sid}")
    return None, closed


async def get_cloud_session(request: web.Request) -> web.Response:
    """``GET /sessions/{sid}``: the session's descriptor, or its final CLOSED descriptor once closed."""
    s, closed = _session_or_closed(request)
    m = _manager(request)
    if s is None:
        return web.json_response(m.descriptor_closed(closed))
    return web.json_response(m.descriptor(s))


async def session_info(request: web.Request) -> web.Response:
    """``GET /sessions/{sid}/info``: the short form (id, state, cluster) of the session descriptor."""
    s, closed = _session_or_closed(request)
    m = _manager(request)
    d = m.descriptor(s) if s is not None else m.descriptor_closed(closed)
    return web.json_response({"session_id": d["session_id"], "state": d["state"], "cluster": d["cluster"]})


async def put_session(request: web.Request) -> web.Response:
    """``PUT /sessions/{sid}``: restart request; always 409 because sessions here never go INACTIVE."""
    _session_or_closed(request)
    bodies.optional_object(await _json_body(request), "PUT /sessions/{id}")
    return _detail(409, "Session is not INACTIVE: only INACTIVE sessions can be restarted")


async def delete_session(request: web.Request) -> web.Response:
    """``DELETE /sessions/{sid}``: close the session (idempotent) and answer its CLOSED state."""
    s, _ = _session_or_closed(request)
    if s is not None:
        await _manager(request).close_session(s, "DELETE /sessions")
    return web.json_response({"session_id": request.match_info["sid"], "state": protocol.STATE_CLOSED})


# --- uploads --------------------------------------------------------------------------------------------
async def create_upload(request: web.Request) -> web.Response:
    """``POST /sessions/{sid}/uploads``: declare an upload and answer the URL to PUT its bytes to."""
    sid = request.match_info["sid"]
    _auth_cloud(request, sid)
    m = _manager(request)
    s = m.get(sid)
    if s is None:
        if m.closed_descriptor(sid) is not None:
            return _detail(409, f"Session {sid} is closed")
        return _detail(404, f"Session not found: {sid}")
    rec = m.uploads.declare(sid, await _json_body(request))
    host = request.host
    return web.json_response(
        {
            "presigned_id": rec.upload_id,
            "presigned_url": f"http://{host}/uploads/{rec.upload_id}",
            "path": f"uploads/{rec.upload_id}",
        },
        status=201,
    )


async def put_upload(request: web.Request) -> web.Response:
    """``PUT /uploads/{uid}``: receive the bytes of a declared upload and answer its id."""
    rec = _manager(request).uploads.put(request.match_info["uid"], await request.read())
    return web.json_response({"upload_id": rec.upload_id})


# --- transport ------------------------------------------------------------------------------------------
def _transport_session(request: web.Request) -> Any:
    sid = request.match_info["sid"]
    _auth_cloud(request, sid)
    m = _manager(request)
    if m.get(sid) is None and sid == protocol.LOCAL_SESSION_ID:
        raise SessionError(404, "Session not found: no local session is running (POST /start_session first)")
    return m.live_for_transport(sid)


async def ice_servers(request: web.Request) -> web.Response:
    """``GET …/transport/webrtc/ice_servers``: the STUN/TURN servers the client should use."""
    sid = request.match_info["sid"]
    _auth_cloud(request, sid)
    m = _manager(request)
    if m.get(sid) is None:
        return _detail(404, f"Session not found: {sid}")
    return web.json_response({"ice_servers": list(m.config.ice_servers)})


async def create_connection(request: web.Request) -> web.Response:
    """``POST …/connections``: open a new connection id (optionally a watch-only viewer), 201."""
    s = _transport_session(request)
    body = bodies.optional_object(await _json_body(request), "POST connections")
    role = body.get(protocol.CONNECTION_ROLE_KEY)
    if role not in (None, protocol.VIEWER_ROLE):
        return _detail(422, f"POST connections: 'role' must be {protocol.VIEWER_ROLE!r} or absent, got {role!r}")
    cid = _manager(request).register_connection(s, viewer=role == protocol.VIEWER_ROLE)
    return web.json_response({"connection_id": cid}, status=201)


async def post_offer(request: web.Request) -> web.Response:
    """``POST``/``PUT …/sdp_params``: accept an SDP offer and build the answer in the background (202)."""
    s = _transport_session(request)
    cid = _cid(request)
    body = await _json_body(request)
    await _manager(request).offer(s, cid, body)
    return web.json_response({"connection_id": cid}, status=202)


async def get_answer(request: web.Request) -> web.Response:
    """``GET …/sdp_params``: poll for the answer (202 while pending, 200 with the SDP answer)."""
    s = _transport_session(request)
    status, body = _manager(request).answer_status(s, _cid(request))
    return web.json_response(body, status=status)


async def ice_candidates(request: web.Request) -> web.Response:
    """``POST …/ice_candidates``: trickled ICE candidates, applied once the connection has a peer (202)."""
    s = _transport_session(request)
    cid = _cid(request)
    body = await _json_body(request)
    bodies.ice_candidates(body)
    await _manager(request).add_candidates(s, cid, body)
    return web.json_response(None, status=202)


def build_app(manager: SessionManager, auth: Authenticator) -> web.Application:
    """The aiohttp application with every route of ``docs/protocol.md`` "HTTP API"."""
    app = web.Application(
        middlewares=[cors_middleware, version_middleware], client_max_size=MAX_UPLOAD_BYTES + (1 << 20)
    )
    app[MANAGER] = manager
    app[AUTH] = auth
    Dispatcher(manager)
    r = app.router
    r.add_post(protocol.ROUTE_START_SESSION, start_session)
    r.add_post(protocol.ROUTE_STOP_SESSION, stop_session)
    r.add_get(protocol.ROUTE_LOCAL_SESSION, get_session)
    r.add_get(protocol.ROUTE_SCHEMA, get_schema)
    r.add_get(protocol.ROUTE_HEALTH, health)
    r.add_post(protocol.ROUTE_TOKENS, tokens)
    r.add_post(protocol.ROUTE_SESSIONS, create_session)
    r.add_get(protocol.ROUTE_SESSION, get_cloud_session)
    r.add_put(protocol.ROUTE_SESSION, put_session)
    r.add_delete(protocol.ROUTE_SESSION, delete_session)
    r.add_get(protocol.ROUTE_SESSION_INFO, session_info)
    r.add_post(protocol.ROUTE_SESSION_UPLOADS, create_upload)
    r.add_put(protocol.ROUTE_UPLOAD, put_upload)
    r.add_get(protocol.ROUTE_ICE_SERVERS, ice_servers)
    r.add_post(protocol.ROUTE_CONNECTIONS, create_connection)
    for path in (protocol.ROUTE_CONNECTION_SDP, protocol.ROUTE_FLAT_SDP):
        r.add_post(path, post_offer)
        r.add_put(path, post_offer)
        r.add_get(path, get_answer)
    r.add_post(protocol.ROUTE_ICE_CANDIDATES, ice_candidates)
    add_clip_routes(r, manager)
    return app

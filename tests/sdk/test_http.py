"""HttpApi against a scripted aiohttp server: headers, modes, polling, status mapping, secrets."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from reactor_notebook.sdk.errors import ApiError, ConflictError, VersionMismatchError
from reactor_notebook.sdk.http import HttpApi, PollPolicy, Secret, error_for_status, parse_retry_after

FAST = PollPolicy(0.001, 0.004, 6)
KEY = "rk_super_secret_key_123"
JWT = "eyJhbGciOi.secret-jwt.sig"


class Script:
    """A tiny fake server: per-route handlers plus a log of (method, path, headers, body)."""

    def __init__(self) -> None:
        self.log: list[tuple[str, str, dict[str, str], Any]] = []
        self.routes: dict[tuple[str, str], Callable[[web.Request], Any]] = {}

    def on(self, method: str, path: str, handler: Callable[[web.Request], Any]) -> None:
        self.routes[(method, path)] = handler

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.text()
        self.log.append(
            (request.method, request.path, dict(request.headers), json.loads(body) if body else None)
        )
        handler = self.routes.get((request.method, request.path))
        if handler is None:
            return web.json_response({"detail": "Not Found"}, status=404)
        result = handler(request)
        return result

    def calls(self, method: str, path: str) -> list[tuple[str, str, dict[str, str], Any]]:
        return [c for c in self.log if c[0] == method and c[1] == path]


def reply(
    status: int, body: Any = None, headers: dict[str, str] | None = None
) -> Callable[[web.Request], Any]:
    return lambda _r: web.json_response(body, status=status, headers=headers)


def sequence(*responses: Callable[[web.Request], Any]) -> Callable[[web.Request], Any]:
    items = list(responses)

    def handler(request: web.Request) -> Any:
        fn = items.pop(0) if len(items) > 1 else items[0]
        return fn(request)

    return handler


@pytest.fixture
async def server() -> AsyncIterator[tuple[Script, str]]:
    script = Script()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", script.handle)
    srv = TestServer(app, host="127.0.0.1", port=0)
    await srv.start_server()
    try:
        yield script, str(srv.make_url("")).rstrip("/")
    finally:
        await srv.close()


def descriptor(**extra: Any) -> dict[str, Any]:
    return {
        "session_id": "s1",
        "state": "WAITING",
        "cluster": "c",
        "model": {"name": "helios"},
        "server_info": {"server_version": "x"},
        **extra,
    }


READY = descriptor(
    selected_transport={"protocol": "webrtc", "version": "1.0"},
    capabilities={
        "protocol_version": "1.1",
        "tracks": [{"name": "main_video", "kind": "video", "direction": "recvonly"}],
    },
)


async def test_cloud_flow_headers_and_bodies(server: tuple[Script, str]) -> None:
    script, url = server
    script.on("POST", "/tokens", reply(200, {"jwt": JWT, "expires_at": 1}))
    script.on("POST", "/sessions", reply(201, descriptor(state="CREATED")))
    script.on("GET", "/sessions/s1", sequence(reply(200, descriptor(state="PENDING")), reply(200, READY)))
    base = "/sessions/s1/transport/webrtc"
    script.on("GET", f"{base}/ice_servers", reply(200, {"ice_servers": [{"uris": ["stun:x"]}]}))
    script.on("POST", f"{base}/connections", reply(201, {"connection_id": 1002}))
    script.on("POST", f"{base}/connections/1002/sdp_params", reply(202, {"connection_id": 1002}))
    script.on(
        "GET",
        f"{base}/connections/1002/sdp_params",
        sequence(reply(202, None), reply(200, {"sdp_answer": "v=0", "connection_id": 1002})),
    )
    script.on("DELETE", "/sessions/s1", reply(404, {"detail": "gone"}))
    api = HttpApi(url, model="helios", local=False, api_key=Secret(KEY), session_poll=FAST, sdp_poll=FAST)
    try:
        await api.fetch_token()
        created = await api.create_session()
        assert created["session_id"] == "s1"
        ready = await api.poll_session_ready("s1")
        assert ready["capabilities"]["tracks"][0]["name"] == "main_video"
        assert await api.get_ice_servers("s1") == [{"uris": ["stun:x"]}]
        cid = await api.register_connection("s1")
        assert cid == 1002
        await api.send_offer(
            "s1",
            cid,
            "v=0 offer",
            [{"mid": "0", "name": "main_video", "kind": "video", "direction": "recvonly"}],
        )
        assert await api.poll_answer("s1", cid) == "v=0"
        assert api.sdp_poll_attempts == 2
        await api.terminate_session("s1")  # 404 counts as success
    finally:
        await api.close()

    tok = script.calls("POST", "/tokens")[0]
    assert tok[2]["Reactor-API-Key"] == KEY and "Authorization" not in tok[2] and tok[3] is None
    sess = script.calls("POST", "/sessions")[0]
    assert sess[2]["Authorization"] == f"Bearer {JWT}"
    assert sess[2]["Reactor-API-Version"] == "1" and sess[2]["Reactor-API-Accept-Version"] == "1"
    assert sess[3]["model"] == {"name": "helios"}
    assert sess[3]["client_info"]["sdk_type"] == "python"
    assert sess[3]["supported_transports"] == [{"protocol": "webrtc", "version": "1.0"}]
    assert len(script.calls("GET", "/sessions/s1")) == 2
    ice = script.calls("GET", f"{base}/ice_servers")[0]
    assert ice[2]["Authorization"] == f"Bearer {JWT}" and ice[2]["Reactor-WebRTC-Version"] == "1.0"
    offer = script.calls("POST", f"{base}/connections/1002/sdp_params")[0]
    assert offer[3]["sdp_offer"] == "v=0 offer" and offer[3]["track_mapping"][0]["mid"] == "0"
    assert script.calls("DELETE", "/sessions/s1")[0][2]["Authorization"] == f"Bearer {JWT}"


async def test_local_mode_never_calls_tokens_and_uses_bearer_local(server: tuple[Script, str]) -> None:
    script, url = server
    script.on("POST", "/start_session", reply(200, READY | {"session_id": "local"}))
    script.on("POST", "/stop_session", reply(200, None))
    base = "/sessions/local/transport/webrtc"
    script.on("GET", f"{base}/ice_servers", reply(200, {"ice_servers": []}))
    api = HttpApi(url, model="helios", local=True, api_key=Secret(KEY), session_poll=FAST, sdp_poll=FAST)
    try:
        desc = await api.create_session()
        assert desc["session_id"] == "local"
        assert await api.get_ice_servers("local") == []
        await api.terminate_session("local")
    finally:
        await api.close()
    assert not script.calls("POST", "/tokens")
    start = script.calls("POST", "/start_session")[0]
    assert "Authorization" not in start[2] and start[2]["Reactor-API-Version"] == "1" and start[3] == {}
    assert script.calls("GET", f"{base}/ice_servers")[0][2]["Authorization"] == "Bearer local"
    assert "Authorization" not in script.calls("POST", "/stop_session")[0][2]


async def test_flat_fallback_on_missing_connection_routes(server: tuple[Script, str]) -> None:
    script, url = server
    base = "/sessions/local/transport/webrtc"
    script.on("POST", f"{base}/connections", reply(405, {"detail": "Method Not Allowed"}))
    script.on("POST", f"{base}/sdp_params", reply(202, {"connection_id": 1001}))
    script.on("PUT", f"{base}/sdp_params", reply(202, {"connection_id": 1001}))
    script.on("GET", f"{base}/sdp_params", reply(200, {"sdp_answer": "v=0 flat"}))
    api = HttpApi(url, model="m", local=True, sdp_poll=FAST)
    try:
        assert await api.register_connection("local") is None
        assert api.flat_routes
        await api.send_offer("local", None, "o", [])
        assert await api.poll_answer("local", None) == "v=0 flat"
        await api.send_offer("local", None, "o2", [], reconnect=True)
    finally:
        await api.close()
    assert script.calls("PUT", f"{base}/sdp_params")[0][3]["sdp_offer"] == "o2"


async def test_connections_404_for_unknown_session_is_an_error(server: tuple[Script, str]) -> None:
    script, url = server
    script.on(
        "POST", "/sessions/zz/transport/webrtc/connections", reply(404, {"detail": "Session not found"})
    )
    api = HttpApi(url, model="m", local=True)
    try:
        with pytest.raises(ApiError) as info:
            await api.register_connection("zz")
    finally:
        await api.close()
    assert info.value.code == "NOT_FOUND" and "Session not found" in str(info.value)


async def test_sdp_poll_retries_429_and_503_honouring_retry_after(server: tuple[Script, str]) -> None:
    script, url = server
    path = "/sessions/local/transport/webrtc/connections/1002/sdp_params"
    script.on(
        "GET",
        path,
        sequence(
            reply(429, {"detail": "slow down"}, {"Retry-After": "0.05"}),
            reply(503, {"detail": "busy"}),
            reply(200, {"sdp_answer": "ans"}),
        ),
    )
    api = HttpApi(url, model="m", local=True, sdp_poll=FAST)
    try:
        assert await api.poll_answer("local", 1002) == "ans"
    finally:
        await api.close()
    assert len(script.calls("GET", path)) == 3


async def test_sdp_poll_budget_exhausted(server: tuple[Script, str]) -> None:
    script, url = server
    path = "/sessions/local/transport/webrtc/connections/1002/sdp_params"
    script.on("GET", path, reply(202, None))
    api = HttpApi(url, model="m", local=True, sdp_poll=PollPolicy(0.001, 0.002, 4))
    try:
        with pytest.raises(ApiError) as info:
            await api.poll_answer("local", 1002)
    finally:
        await api.close()
    assert info.value.code == "TIMEOUT" and len(script.calls("GET", path)) == 4


async def test_sdp_poll_other_status_is_fatal(server: tuple[Script, str]) -> None:
    script, url = server
    path = "/sessions/local/transport/webrtc/connections/1002/sdp_params"
    script.on("GET", path, reply(400, {"detail": "answer failed: codec"}))
    api = HttpApi(url, model="m", local=True, sdp_poll=FAST)
    try:
        with pytest.raises(ApiError) as info:
            await api.poll_answer("local", 1002)
    finally:
        await api.close()
    assert info.value.code == "BAD_REQUEST" and "answer failed: codec" in str(info.value)
    assert len(script.calls("GET", path)) == 1


async def test_session_poll_terminal_state_is_fatal(server: tuple[Script, str]) -> None:
    script, url = server
    script.on("GET", "/sessions/s1", reply(200, descriptor(state="CLOSED")))
    api = HttpApi(url, model="m", local=False, api_key=Secret(KEY), session_poll=FAST)
    try:
        with pytest.raises(ApiError, match="terminal state 'CLOSED'"):
            await api.poll_session_ready("s1")
    finally:
        await api.close()


@pytest.mark.parametrize(
    ("status", "exc", "code"),
    [
        (401, ApiError, "UNAUTHORIZED"),
        (403, ApiError, "UNAUTHORIZED"),
        (404, ApiError, "NOT_FOUND"),
        (409, ConflictError, "CONFLICT"),
        (426, VersionMismatchError, "CLIENT_VERSION_TOO_OLD"),
        (501, VersionMismatchError, "SERVER_VERSION_TOO_OLD"),
        (429, ApiError, "RATE_LIMITED"),
        (422, ApiError, "BAD_REQUEST"),
        (500, ApiError, "SERVER_ERROR"),
    ],
)
async def test_status_mapping_on_create_session(
    server: tuple[Script, str], status: int, exc: type[Exception], code: str
) -> None:
    script, url = server
    script.on("POST", "/sessions", reply(status, {"detail": "nope"}, {"Retry-After": "7"}))
    script.on("POST", "/tokens", reply(200, {"jwt": JWT}))  # a 401 renews the token once, then fails
    api = HttpApi(url, model="m", local=False, api_key=Secret(KEY))
    api.jwt = Secret(JWT)
    try:
        with pytest.raises(exc) as info:
            await api.create_session()
    finally:
        await api.close()
    assert info.value.code == code  # type: ignore[attr-defined]
    assert info.value.status == status  # type: ignore[attr-defined]
    if status == 429:
        assert info.value.retry_after == 7.0  # type: ignore[attr-defined]


async def test_version_mismatch_on_transport_calls(server: tuple[Script, str]) -> None:
    script, url = server
    script.on("GET", "/sessions/local/transport/webrtc/ice_servers", reply(501, {"detail": "webrtc 2"}))
    api = HttpApi(url, model="m", local=True)
    try:
        with pytest.raises(VersionMismatchError) as info:
            await api.get_ice_servers("local")
    finally:
        await api.close()
    assert info.value.code == "SERVER_VERSION_TOO_OLD"


async def test_local_start_conflicts(server: tuple[Script, str]) -> None:
    script, url = server
    script.on("POST", "/start_session", reply(400, {"detail": "Cannot start session in state RUNNING"}))
    api = HttpApi(url, model="m", local=True, session_poll=FAST)
    try:
        with pytest.raises(ConflictError, match="wait and retry"):
            await api.create_session()
        script.on("POST", "/start_session", reply(409, {"detail": "cloud session holds the model"}))
        with pytest.raises(ConflictError, match="cloud session holds the model"):
            await api.create_session()
    finally:
        await api.close()


async def test_local_start_retries_503_model_loading(server: tuple[Script, str]) -> None:
    script, url = server
    script.on("POST", "/start_session", sequence(reply(503, {"detail": "loading"}), reply(200, READY)))
    api = HttpApi(url, model="m", local=True, session_poll=FAST)
    try:
        assert (await api.create_session())["session_id"] == "s1"
    finally:
        await api.close()
    assert len(script.calls("POST", "/start_session")) == 2


async def test_local_start_retries_legacy_400_while_loading_or_closing(server: tuple[Script, str]) -> None:
    """RT20 says 400 "Cannot start session in state CREATED|CLOSING" where RUNTIME says 503 (§2.8)."""
    script, url = server
    loading = reply(400, {"detail": "Cannot start session in state CREATED"})
    closing = reply(400, {"detail": "Cannot start session in state CLOSING"})
    script.on("POST", "/start_session", sequence(loading, closing, reply(200, READY)))
    api = HttpApi(url, model="m", local=True, session_poll=FAST)
    try:
        assert (await api.create_session())["session_id"] == "s1"
        assert len(script.calls("POST", "/start_session")) == 3
        script.on("POST", "/start_session", loading)  # never loads: a clear error, not a conflict
        with pytest.raises(ApiError, match="still in state CREATED") as info:
            await api.create_session()
        assert not isinstance(info.value, ConflictError) and info.value.code == "TIMEOUT"
    finally:
        await api.close()


async def test_secrets_never_in_errors_logs_or_repr(
    server: tuple[Script, str], caplog: pytest.LogCaptureFixture
) -> None:
    script, url = server
    # A hostile server echoing the credentials back in its error body.
    script.on(
        "POST",
        "/tokens",
        lambda r: web.json_response({"detail": f"bad key {r.headers['Reactor-API-Key']}"}, status=401),
    )
    caplog.set_level(logging.DEBUG)
    api = HttpApi(url, model="m", local=False, api_key=Secret(KEY))
    try:
        with pytest.raises(ApiError) as info:
            await api.fetch_token()
    finally:
        await api.close()
    assert info.value.code == "UNAUTHORIZED"
    assert KEY not in str(info.value) and "***" in str(info.value)
    assert KEY not in repr(api) and KEY not in repr(Secret(KEY)) and KEY not in str(Secret(KEY))
    assert all(KEY not in rec.getMessage() for rec in caplog.records)


def test_retry_after_parsing() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("garbage") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    err = error_for_status(418, "<html>teapot</html>", "x")
    assert err.code == "BAD_REQUEST" and "teapot" in str(err)


async def test_expired_token_is_renewed_once_on_401(server: tuple[Script, str]) -> None:
    script, url = server
    tokens = iter(["jwt-one-aaaa", "jwt-two-bbbb", "jwt-three-cccc"])
    script.on("POST", "/tokens", lambda _r: web.json_response({"jwt": next(tokens)}))

    def delete(request: web.Request) -> web.Response:
        ok = request.headers.get("Authorization") == "Bearer jwt-two-bbbb"
        return web.json_response(
            {"state": "CLOSED"} if ok else {"detail": "token expired"}, status=200 if ok else 401
        )

    script.on("DELETE", "/sessions/s1", delete)
    script.on("GET", "/sessions/s2", reply(401, {"detail": "no access"}))
    api = HttpApi(url, model="m", local=False, api_key=Secret(KEY), session_poll=FAST)
    try:
        await api.fetch_token()
        await api.terminate_session("s1")  # 401 with jwt-one, renewed, 200 with jwt-two
        with pytest.raises(ApiError) as info:  # still 401 after one renewal: reported, no loop
            await api.poll_session_ready("s2")
    finally:
        await api.close()
    assert info.value.code == "UNAUTHORIZED"
    assert len(script.calls("DELETE", "/sessions/s1")) == 2
    assert len(script.calls("POST", "/tokens")) == 3 and len(script.calls("GET", "/sessions/s2")) == 2

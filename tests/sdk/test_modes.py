"""Less common server behaviours, through real runtimes: a legacy runtime without connection routes
(flat ``sdp_params`` fallback, §2.8), a cloud coordinator that keeps the session PENDING, refused keys."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest
from aiohttp import web
from sdk_support import NumpyTrack, next_frames
from testutil import Recorder, catch_all_server

from reactor_notebook import framecode
from reactor_notebook.runtime import LocalRuntime
from reactor_notebook.sdk import ApiError, Reactor, ReactorStatus

S = ReactorStatus


@pytest.fixture
async def legacy_proxy(runtime: LocalRuntime) -> AsyncIterator[tuple[str, list[tuple[str, str]]]]:
    """A reverse proxy in front of the runtime that behaves like RT20: no ``…/connections`` routes."""
    seen: list[tuple[str, str]] = []
    http = aiohttp.ClientSession()

    async def handle(request: web.Request) -> web.StreamResponse:
        seen.append((request.method, request.path))
        if "/connections" in request.path:
            return web.json_response({"detail": "Not Found"}, status=404)
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
        async with http.request(
            request.method, runtime.url + request.path_qs, data=body or None, headers=headers
        ) as upstream:
            payload = await upstream.read()
            return web.Response(
                body=payload, status=upstream.status, content_type=upstream.content_type or "application/json"
            )

    try:
        async with catch_all_server(handle) as url:
            yield url, seen
    finally:
        await http.close()


async def test_flat_route_fallback_connects_publishes_and_reconnects(
    legacy_proxy: tuple[str, list[tuple[str, str]]],
) -> None:
    url, seen = legacy_proxy
    r = Reactor("testpattern", local=True, local_url=url)
    rec = Recorder().attach(r)
    await r.connect()
    try:
        assert r._api is not None and r._api.flat_routes
        base = "/sessions/local/transport/webrtc"
        assert ("POST", f"{base}/connections") in seen and ("POST", f"{base}/sdp_params") in seen
        frames = await next_frames(r, 3)
        assert framecode.read_index(frames[-1][0]) is not None
        # Flat mode: no control handshake, the track is attached at once (implicit publish).
        await r.publish_track("webcam", NumpyTrack())
        await rec.await_(
            lambda: any(m.get("type") == "input_stats" for m in rec.of("message")),
            timeout=15,
            what="input_stats",
        )
        await r.disconnect(recoverable=True)
        await r.reconnect()
        assert r.get_status() is S.READY
        assert ("PUT", f"{base}/sdp_params") in seen
        await next_frames(r, 2)
    finally:
        await r.disconnect()


@pytest.fixture(scope="module")
def slow_coordinator() -> Iterator[LocalRuntime]:
    with LocalRuntime(model="testpattern", port=0, assignment_delay=0.6, api_key="rk_good_key_0001") as rt:
        yield rt


async def test_cloud_pending_phase_is_polled_through(slow_coordinator: LocalRuntime) -> None:
    r = Reactor("testpattern", api_key="rk_good_key_0001", api_url=slow_coordinator.url)
    rec = Recorder().attach(r)
    await r.connect()
    try:
        assert rec.of("status_changed") == [S.CONNECTING, S.WAITING, S.READY]
        info = r.get_session_info()
        assert info is not None and info["capabilities"]["tracks"][0]["name"] == "main_video"
        await next_frames(r, 2)
    finally:
        await r.disconnect()


async def test_refused_api_key_is_unauthorized_and_never_echoed(slow_coordinator: LocalRuntime) -> None:
    r = Reactor("testpattern", api_key="rk_wrong_key_9999", api_url=slow_coordinator.url)
    rec = Recorder().attach(r)
    with pytest.raises(ApiError) as info:
        await r.connect()
    assert info.value.code == "UNAUTHORIZED" and info.value.status == 401
    assert "rk_wrong_key_9999" not in str(info.value)
    assert [e.code for e in rec.of("error")] == ["CONNECTION_FAILED"]
    assert all("rk_wrong_key_9999" not in e.message for e in rec.of("error"))
    assert rec.of("status_changed") == [S.CONNECTING, S.DISCONNECTED]


@pytest.fixture
async def stuck_runtime() -> AsyncIterator[tuple[str, list[tuple[str, str]]]]:
    """A fake local runtime that accepts the offer but never produces an answer."""
    seen: list[tuple[str, str]] = []
    descriptor = {
        "session_id": "local",
        "state": "WAITING",
        "cluster": "local",
        "model": {"name": "testpattern"},
        "server_info": {"server_version": "fake"},
        "selected_transport": {"protocol": "webrtc", "version": "1.0"},
        "capabilities": {
            "protocol_version": "1.1",
            "tracks": [{"name": "main_video", "kind": "video", "direction": "recvonly"}],
        },
    }

    async def handle(request: web.Request) -> web.StreamResponse:
        seen.append((request.method, request.path))
        path = request.path
        if path == "/start_session":
            return web.json_response(descriptor)
        if path == "/stop_session":
            return web.json_response(None)
        if path.endswith("/ice_servers"):
            return web.json_response({"ice_servers": []})
        if path.endswith("/connections"):
            return web.json_response({"connection_id": 1002}, status=201)
        if path.endswith("/sdp_params"):
            return web.json_response({"connection_id": 1002} if request.method != "GET" else None, status=202)
        return web.json_response({"detail": "Not Found"}, status=404)

    async with catch_all_server(handle) as url:
        yield url, seen


async def test_connect_timeout_bounds_a_stuck_handshake(
    stuck_runtime: tuple[str, list[tuple[str, str]]],
) -> None:
    url, seen = stuck_runtime
    r = Reactor("testpattern", local=True, local_url=url, connect_timeout=1.0)
    rec = Recorder().attach(r)
    with pytest.raises(Exception, match="connect timeout") as info:
        await r.connect()
    assert getattr(info.value, "code", None) == "TIMEOUT"
    assert rec.of("status_changed") == [S.CONNECTING, S.WAITING, S.DISCONNECTED]
    assert [e.code for e in rec.of("error")] == ["CONNECTION_FAILED"]
    assert ("POST", "/stop_session") in seen  # cleanup ended the session it started
    assert r.get_session_id() is None


async def test_adopting_a_cloud_session_never_ends_it(runtime: LocalRuntime) -> None:
    owner = Reactor("testpattern", api_key="rk_owner_key", api_url=runtime.url)
    owner_rec = Recorder().attach(owner)
    await owner.connect()
    try:
        sid = owner.get_session_id()
        assert sid is not None
        guest = Reactor("testpattern", api_key="rk_guest_key", api_url=runtime.url)
        guest_rec = Recorder().attach(guest)
        await guest.connect(session_id=sid)
        assert guest.get_session_id() == sid
        assert guest_rec.of("status_changed") == [S.CONNECTING, S.WAITING, S.READY]
        await next_frames(guest, 2)
        await guest.send_command("set_color", {"r": 7, "g": 8, "b": 9})
        want = {"type": "color_set", "data": {"r": 7, "g": 8, "b": 9}}
        await owner_rec.await_(lambda: want in owner_rec.of("message"), what="broadcast to the owner")
        await guest.disconnect()  # an adopter leaves the session running
        assert owner.get_status() is S.READY
        await next_frames(owner, 3)
    finally:
        await owner.disconnect()
    with pytest.raises(ValueError, match="not supported in local mode"):
        await Reactor("testpattern", local=True, local_url=runtime.url).connect(session_id="local")


@pytest.fixture(scope="module")
def short_tokens() -> Iterator[LocalRuntime]:
    with LocalRuntime(model="testpattern", port=0, token_lifetime=1.0) as rt:
        yield rt


async def test_disconnect_renews_an_expired_token_to_delete_the_session(short_tokens: LocalRuntime) -> None:
    r = Reactor("testpattern", api_key="rk_short_lived", api_url=short_tokens.url)
    await r.connect()
    sid, jwt = r.get_session_id(), r._api.jwt.reveal()  # type: ignore[union-attr]
    url = f"{short_tokens.url}/sessions/{sid}"
    async with aiohttp.ClientSession() as http:

        async def status_with(token: str) -> tuple[int, dict]:
            async with http.get(url, headers={"Authorization": f"Bearer {token}"}) as resp:
                return resp.status, (await resp.json() if resp.status == 200 else {})

        for _ in range(200):  # until the runtime refuses the connect-time token
            if (await status_with(jwt))[0] == 401:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("token never expired")
        await r.disconnect()  # DELETE gets 401 first, renews the token, and deletes
        async with http.post(f"{short_tokens.url}/tokens", headers={"Reactor-API-Key": "x"}) as resp:
            fresh = (await resp.json())["jwt"]
        status, body = await status_with(fresh)
    assert status == 404 or body.get("state") == "CLOSED", (status, body)

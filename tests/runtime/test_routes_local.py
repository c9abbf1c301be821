"""Local routes, CORS, version headers and error bodies over real HTTP (protocol.md §2.1, §2.3)."""

from __future__ import annotations

import aiohttp

from reactor_notebook import protocol
from reactor_notebook.runtime import LocalRuntime

DESCRIPTOR_KEYS = {
    "session_id", "state", "cluster", "model", "server_info", "selected_transport", "capabilities", "schema",
    "generation", "transports", "wire_versions", "recording", "step_results",
    protocol.ATTACHED_CLIENTS_KEY,  # ours: clients attached to the local session (0 here)
    protocol.ATTACHED_VIEWERS_KEY,  # ours: watch-only connections (the widget's direct view)
}


async def test_start_session_returns_full_descriptor_and_is_idempotent(
    runtime: LocalRuntime, http: aiohttp.ClientSession
) -> None:
    async with http.post(runtime.url + "/start_session", json={}) as r:
        assert r.status == 200
        first = await r.json()
    assert set(first) == DESCRIPTOR_KEYS
    assert first["session_id"] == "local" and first["state"] == "WAITING" and first["cluster"] == "local"
    assert first[protocol.ATTACHED_CLIENTS_KEY] == 0
    assert first["model"]["name"] == "testpattern"
    assert isinstance(first["server_info"]["server_version"], str)
    assert first["selected_transport"] == {"protocol": "webrtc", "version": "1.0"}
    assert first["transports"] == [first["selected_transport"]] and first["generation"] == "streamed"
    assert first["wire_versions"] == ["v0", "v1"] and first["recording"]["enabled"] is True
    caps = first["capabilities"]
    assert caps["protocol_version"] == "1.1"
    assert caps["tracks"] == [
        {"name": "main_video", "kind": "video", "direction": "recvonly"},
        {"name": "webcam", "kind": "video", "direction": "sendonly"},
    ]
    (cmd,) = caps["commands"]
    assert cmd["name"] == "set_color" and isinstance(cmd["description"], str)
    assert cmd["schema"]["r"] == {"type": "integer", "description": "R 0-255", "minimum": 0, "maximum": 255, "required": True}
    assert caps["emission_fps"] == 30
    assert "/events/set_color" in first["schema"]["paths"]
    body = {"extra_configs": {"x": 1}}
    async with http.post(runtime.url + "/start_session", json=body, headers={"Reactor-API-Version": "1"}) as r:
        assert r.status == 200
        assert await r.json() == first


async def test_get_session_stop_session_and_health(runtime: LocalRuntime, http: aiohttp.ClientSession) -> None:
    async with http.get(runtime.url + "/session") as r:
        assert r.status == 404
        assert "start_session" in (await r.json())["detail"]
    async with http.get(runtime.url + "/health") as r:
        assert await r.json() == {"status": "healthy", "model": "testpattern", "state": "READY"}
    async with http.post(runtime.url + "/start_session") as r:
        assert r.status == 200
    async with http.get(runtime.url + "/session") as r:
        assert r.status == 200
        assert (await r.json())["session_id"] == "local"
    async with http.get(runtime.url + "/health") as r:
        assert (await r.json())["state"] == "WAITING"
    for _ in range(2):  # idempotent
        async with http.post(runtime.url + "/stop_session") as r:
            assert r.status == 200
            assert await r.json() is None
    async with http.get(runtime.url + "/session") as r:
        assert r.status == 404
    async with http.get(runtime.url + "/health") as r:
        assert (await r.json())["state"] == "READY"


async def test_schema_route_serves_openapi(runtime: LocalRuntime, http: aiohttp.ClientSession) -> None:
    async with http.get(runtime.url + "/schema") as r:
        doc = await r.json()
    assert doc["openapi"] == "3.1.0"
    assert doc["info"]["title"] == "testpattern"
    assert doc["x-reactor"]["tracks"] == [
        {"name": "main_video", "kind": "video", "direction": "out"},
        {"name": "webcam", "kind": "video", "direction": "in"},
    ]
    body = doc["paths"]["/events/set_color"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["r", "g", "b"]
    assert "color_set" in doc["webhooks"] and "input_stats" in doc["webhooks"]


async def test_start_session_conflicts_with_cloud_session(runtime: LocalRuntime, http: aiohttp.ClientSession) -> None:
    async with http.post(runtime.url + "/tokens", headers={protocol.HEADER_API_KEY: "k"}) as r:
        jwt = (await r.json())["jwt"]
    auth = {"Authorization": f"Bearer {jwt}"}
    async with http.post(runtime.url + "/sessions", json={"model": {"name": "testpattern"}}, headers=auth) as r:
        assert r.status == 201
        sid = (await r.json())["session_id"]
    async with http.post(runtime.url + "/start_session") as r:
        assert r.status == 409
        assert sid in (await r.json())["detail"]
    async with http.delete(f"{runtime.url}/sessions/{sid}", headers=auth) as r:
        assert r.status == 200
    async with http.post(runtime.url + "/start_session") as r:
        assert r.status == 200


async def test_version_headers(runtime: LocalRuntime, http: aiohttp.ClientSession) -> None:
    url = runtime.url + "/start_session"
    async with http.post(url, headers={"Reactor-API-Version": "0"}) as r:
        assert r.status == 426
        assert "too old" in (await r.json())["detail"]
    async with http.post(url, headers={"Reactor-API-Version": "2"}) as r:
        assert r.status == 501
    async with http.post(url, headers={"Reactor-API-Version": "banana"}) as r:
        assert r.status == 400
    async with http.post(url, headers={"Reactor-API-Version": "1", "Reactor-API-Accept-Version": "9"}) as r:
        assert r.status == 200
    ice = runtime.url + "/sessions/local/transport/webrtc/ice_servers"
    async with http.get(ice, headers={"Reactor-WebRTC-Version": "2.0"}) as r:
        assert r.status == 501
    async with http.get(ice, headers={"Reactor-WebRTC-Version": "0.9"}) as r:
        assert r.status == 426
    async with http.get(ice, headers={"Reactor-WebRTC-Version": "1.3"}) as r:
        assert r.status == 200
        assert await r.json() == {"ice_servers": []}


async def test_unknown_routes_are_404_or_405_with_detail(runtime: LocalRuntime, http: aiohttp.ClientSession) -> None:
    async with http.get(runtime.url + "/no/such/route") as r:
        assert r.status == 404
        assert (await r.json())["detail"] == "Not found: GET /no/such/route"
    async with http.delete(runtime.url + "/health") as r:
        assert r.status == 405
        assert "DELETE" in (await r.json())["detail"]


async def test_cors_preflight_and_headers(runtime: LocalRuntime, http: aiohttp.ClientSession) -> None:
    headers = {
        "Origin": "http://localhost:8888",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type, reactor-webrtc-version",
        "Access-Control-Request-Private-Network": "true",
    }
    async with http.options(runtime.url + "/sessions/local/transport/webrtc/sdp_params", headers=headers) as r:
        assert r.status == 204
        assert r.headers["Access-Control-Allow-Origin"] == "http://localhost:8888"
        assert r.headers["Access-Control-Allow-Methods"] == "POST"
        assert "authorization" in r.headers["Access-Control-Allow-Headers"]
        assert r.headers["Access-Control-Allow-Private-Network"] == "true"
    async with http.get(runtime.url + "/health", headers={"Origin": "http://a.example"}) as r:
        assert r.headers["Access-Control-Allow-Origin"] == "http://a.example"
    async with http.get(runtime.url + "/session", headers={"Origin": "http://a.example"}) as r:
        assert r.status == 404  # errors carry CORS headers too, so browsers can read them
        assert r.headers["Access-Control-Allow-Origin"] == "http://a.example"


async def test_connections_take_an_optional_viewer_role(runtime: LocalRuntime, http: aiohttp.ClientSession) -> None:
    """A watch-only connection (the widget's direct view) registers as a viewer; any other role is refused."""
    async with http.post(runtime.url + "/start_session", json={}) as r:
        assert r.status == 200
    base = runtime.url + protocol.route(protocol.ROUTE_CONNECTIONS, sid="local")
    async with http.post(base, json={"role": "viewer"}) as r:
        assert r.status == 201
        cid = (await r.json())["connection_id"]
    assert runtime.server.manager.sessions["local"].connections[cid].viewer is True
    async with http.post(base, json={}) as r:
        assert r.status == 201 and not runtime.server.manager.sessions["local"].connections[(await r.json())["connection_id"]].viewer
    async with http.post(base, json={"role": "admin"}) as r:
        assert r.status == 422
        assert "'role' must be 'viewer' or absent, got 'admin'" in (await r.json())["detail"]
    async with http.get(runtime.url + "/session") as r:
        d = await r.json()
    assert (d[protocol.ATTACHED_CLIENTS_KEY], d[protocol.ATTACHED_VIEWERS_KEY]) == (0, 0)  # none connected yet
    async with http.post(runtime.url + "/stop_session") as r:
        assert r.status == 200

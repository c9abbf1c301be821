"""The cloud-like coordinator: tokens, auth, session creation, polling, queueing, DELETE (§2.1, §2.2)."""

from __future__ import annotations

import base64
import json

import aiohttp
from testutil import apoll_until

from reactor_notebook import protocol
from reactor_notebook.runtime import LocalRuntime

from .conftest import make_runtime

CREATE = {
    "model": {"name": "testpattern"},
    "client_info": {"sdk_version": "0.8.0", "sdk_type": "python"},
    "supported_transports": [{"protocol": "webrtc", "version": "1.0"}],
}


async def token(http: aiohttp.ClientSession, url: str, key: str = "any-key", body: object = None) -> str:
    async with http.post(url + "/tokens", headers={protocol.HEADER_API_KEY: key}, json=body) as r:
        assert r.status == 200, await r.text()
        data = await r.json()
    assert isinstance(data["expires_at"], int)
    return data["jwt"]


async def create(http: aiohttp.ClientSession, url: str, jwt: str) -> dict:
    async with http.post(url + "/sessions", json=CREATE, headers={"Authorization": f"Bearer {jwt}"}) as r:
        assert r.status == 201, await r.text()
        return await r.json()


async def poll(http: aiohttp.ClientSession, url: str, sid: str, jwt: str, timeout: float = 10.0) -> list[dict]:
    """Poll GET /sessions/{id} until ready; return every descriptor seen."""
    seen: list[dict] = []

    async def ready() -> bool:
        async with http.get(f"{url}/sessions/{sid}", headers={"Authorization": f"Bearer {jwt}"}) as r:
            assert r.status == 200
            seen.append(await r.json())
        return bool(seen[-1].get("selected_transport") and seen[-1].get("capabilities"))

    await apoll_until(ready, timeout, f"session {sid} to become ready", interval=0.05)
    return seen


async def test_tokens_accept_any_non_empty_key(runtime: LocalRuntime, http: aiohttp.ClientSession) -> None:
    jwt = await token(http, runtime.url)
    assert jwt.count(".") == 2
    async with http.post(runtime.url + "/tokens") as r:
        assert r.status == 401
        assert "Reactor-API-Key" in (await r.json())["detail"]
    async with http.post(runtime.url + "/tokens", headers={protocol.HEADER_API_KEY: ""}) as r:
        assert r.status == 401
    # PY08 sends no body, 1.x sends JSON null: both work
    async with http.post(runtime.url + "/tokens", headers={protocol.HEADER_API_KEY: "k"}, data=b"null") as r:
        assert r.status == 200
    async with http.post(runtime.url + "/tokens", headers={protocol.HEADER_API_KEY: "k"}, json={"expires_after": -1}) as r:
        assert r.status == 400


async def test_configured_api_key_is_required(http: aiohttp.ClientSession) -> None:
    with make_runtime(api_key="s3cret-key") as rt:
        assert "s3cret" not in repr(rt.config) and "s3cret" not in repr(rt)
        async with http.post(rt.url + "/tokens", headers={protocol.HEADER_API_KEY: "wrong"}) as r:
            assert r.status == 401
            detail = (await r.json())["detail"]
            assert detail == "Invalid API key" and "wrong" not in detail
        await token(http, rt.url, "s3cret-key")


async def test_full_cloud_flow_create_poll_info_delete(runtime: LocalRuntime, http: aiohttp.ClientSession) -> None:
    jwt = await token(http, runtime.url)
    created = await create(http, runtime.url, jwt)
    assert set(created) == {"session_id", "state", "cluster", "model", "server_info"}
    assert created["state"] == "CREATED" and created["cluster"] == "local"
    assert created["server_info"]["server_version"]
    sid = created["session_id"]
    final = (await poll(http, runtime.url, sid, jwt))[-1]
    assert final["state"] == "WAITING"
    assert final["capabilities"]["tracks"][0]["name"] == "main_video"
    assert final["schema"]["openapi"] == "3.1.0"
    auth = {"Authorization": f"Bearer {jwt}"}
    async with http.get(f"{runtime.url}/sessions/{sid}/info", headers=auth) as r:
        assert await r.json() == {"session_id": sid, "state": "WAITING", "cluster": "local"}
    async with http.get(runtime.url + "/health") as r:
        assert (await r.json())["state"] == "WAITING"
    async with http.put(f"{runtime.url}/sessions/{sid}", headers=auth) as r:
        assert r.status == 409
    async with http.delete(f"{runtime.url}/sessions/{sid}", headers=auth) as r:
        assert r.status == 200
        assert await r.json() == {"session_id": sid, "state": "CLOSED"}
    async with http.get(f"{runtime.url}/sessions/{sid}", headers=auth) as r:
        d = await r.json()
        assert d["state"] == "CLOSED" and "capabilities" not in d
    async with http.delete(f"{runtime.url}/sessions/{sid}", headers=auth) as r:
        assert r.status == 200  # already closed: still success
    async with http.delete(f"{runtime.url}/sessions/sess_unknown", headers=auth) as r:
        assert r.status == 404
    async with http.get(f"{runtime.url}/sessions/sess_unknown", headers=auth) as r:
        assert r.status == 404
        assert "sess_unknown" in (await r.json())["detail"]


async def test_create_session_errors(runtime: LocalRuntime, http: aiohttp.ClientSession) -> None:
    jwt = await token(http, runtime.url)
    auth = {"Authorization": f"Bearer {jwt}"}
    async with http.post(runtime.url + "/sessions", json={"model": {"name": "sora"}}, headers=auth) as r:
        assert r.status == 404
        assert "sora" in (await r.json())["detail"]
    async with http.post(runtime.url + "/sessions", data=b"{not json", headers=auth) as r:
        assert r.status == 422
    async with http.post(runtime.url + "/sessions", json={"client_info": {}}, headers=auth) as r:
        assert r.status == 422
    async with http.post(runtime.url + "/sessions", json=CREATE, headers={"Reactor-API-Version": "0", **auth}) as r:
        assert r.status == 426
    async with http.post(runtime.url + "/sessions", json=CREATE, headers={"Reactor-API-Version": "7", **auth}) as r:
        assert r.status == 501


def _forge(jwt: str, **claims: object) -> str:
    header, payload, sig = jwt.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data.update(claims)
    forged = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{sig}"


async def test_bearer_auth_on_coordinator_and_transport(runtime: LocalRuntime, http: aiohttp.ClientSession) -> None:
    jwt = await token(http, runtime.url)
    sid = (await create(http, runtime.url, jwt))["session_id"]
    await poll(http, runtime.url, sid, jwt)
    expired = await token(http, runtime.url, body={"expires_after": 0.001})
    scoped_other = await token(http, runtime.url, body={"session_id": "sess_other"})
    scoped_mine = await token(http, runtime.url, body={"session_id": sid})
    bad = {
        "missing": None,
        "not bearer": "Basic abc",
        "garbage": "Bearer not-a-token",
        "forged": "Bearer " + _forge(jwt, exp=9_999_999_999, sid=None),
        "tampered sig": "Bearer " + jwt[:-2] + ("AA" if not jwt.endswith("AA") else "BB"),
        "expired": f"Bearer {expired}",
        "other session": f"Bearer {scoped_other}",
    }
    routes = [
        ("GET", f"/sessions/{sid}"),
        ("GET", f"/sessions/{sid}/info"),
        ("POST", "/sessions"),
        ("DELETE", f"/sessions/{sid}"),
        ("GET", f"/sessions/{sid}/transport/webrtc/ice_servers"),
        ("POST", f"/sessions/{sid}/transport/webrtc/connections"),
        ("GET", f"/sessions/{sid}/transport/webrtc/sdp_params"),
        ("POST", f"/sessions/{sid}/transport/webrtc/connections/1002/sdp_params"),
        ("POST", f"/sessions/{sid}/uploads"),
        ("PUT", f"/sessions/{sid}"),
    ]
    for label, value in bad.items():
        headers = {"Authorization": value} if value else {}
        for method, path in routes:
            if label == "other session" and path == "/sessions":
                continue  # creating needs no particular session
            async with http.request(method, runtime.url + path, headers=headers, json=CREATE) as r:
                assert r.status == 401, (label, method, path, r.status)
                assert jwt not in await r.text()
    for good in (jwt, scoped_mine):
        async with http.get(f"{runtime.url}/sessions/{sid}", headers={"Authorization": f"Bearer {good}"}) as r:
            assert r.status == 200


async def test_second_cloud_session_waits_pending_until_first_ends(
    runtime: LocalRuntime, http: aiohttp.ClientSession
) -> None:
    jwt = await token(http, runtime.url)
    auth = {"Authorization": f"Bearer {jwt}"}
    first = (await create(http, runtime.url, jwt))["session_id"]
    second = (await create(http, runtime.url, jwt))["session_id"]
    assert first != second
    async with http.get(f"{runtime.url}/sessions/{second}", headers=auth) as r:
        d = await r.json()
    assert d["state"] == "PENDING" and "capabilities" not in d and "selected_transport" not in d
    async with http.post(f"{runtime.url}/sessions/{second}/transport/webrtc/connections", headers=auth) as r:
        assert r.status == 400
        assert "No session running" in (await r.json())["detail"]
    async with http.delete(f"{runtime.url}/sessions/{first}", headers=auth) as r:
        assert r.status == 200
    seen = await poll(http, runtime.url, second, jwt)
    assert seen[-1]["state"] == "WAITING"


async def test_simulated_assignment_delay_gives_pending_phase(http: aiohttp.ClientSession) -> None:
    with make_runtime(assignment_delay=0.3) as rt:
        jwt = await token(http, rt.url)
        sid = (await create(http, rt.url, jwt))["session_id"]
        seen = await poll(http, rt.url, sid, jwt)
        states = [d["state"] for d in seen]
        assert states[0] == "PENDING" and states[-1] == "WAITING", states


async def test_local_session_blocks_cloud_session_until_stopped(
    runtime: LocalRuntime, http: aiohttp.ClientSession
) -> None:
    async with http.post(runtime.url + "/start_session") as r:
        assert r.status == 200
    jwt = await token(http, runtime.url)
    sid = (await create(http, runtime.url, jwt))["session_id"]
    async with http.get(f"{runtime.url}/sessions/{sid}", headers={"Authorization": f"Bearer {jwt}"}) as r:
        assert (await r.json())["state"] == "PENDING"
    async with http.post(runtime.url + "/stop_session") as r:
        assert r.status == 200
    await poll(http, runtime.url, sid, jwt)

"""Transport routes (§2.4) and uploads (§2.7): codes, ids, mapping checks, answer polling."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection

from reactor_notebook.runtime import LocalRuntime
from reactor_notebook.runtime.peer import Peer

from .client import RawClient

BASE = "/sessions/local/transport/webrtc"
HDR = {"Authorization": "Bearer local", "Reactor-WebRTC-Version": "1.0"}


@pytest.fixture
async def offer() -> AsyncIterator[tuple[str, list[dict[str, str]]]]:
    """A real aiortc offer (control, data, main_video recvonly, webcam sendonly) and its mapping."""
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.createDataChannel("control")
    pc.createDataChannel("data")
    out = pc.addTransceiver("video", direction="recvonly")
    inp = pc.addTransceiver("video", direction="sendonly")
    await pc.setLocalDescription(await pc.createOffer())
    mapping = [
        {"mid": out.mid, "name": "main_video", "kind": "video", "direction": "recvonly"},
        {"mid": inp.mid, "name": "webcam", "kind": "video", "direction": "sendonly"},
    ]
    yield pc.localDescription.sdp, mapping
    await pc.close()


@pytest.fixture
async def started(runtime: LocalRuntime, http: aiohttp.ClientSession) -> str:
    async with http.post(runtime.url + "/start_session") as r:
        assert r.status == 200
    return runtime.url + BASE


async def answer_of(http: aiohttp.ClientSession, url: str, timeout: float = 10.0) -> dict:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while loop.time() < end:
        async with http.get(url, headers=HDR) as r:
            if r.status == 200:
                return await r.json()
            assert r.status == 202, (r.status, await r.text())
            assert await r.json() is None
        await asyncio.sleep(0.05)
    raise AssertionError("no answer")


async def test_transport_without_session_is_404(runtime: LocalRuntime, http: aiohttp.ClientSession) -> None:
    for method, path in (("POST", "/connections"), ("GET", "/sdp_params"), ("GET", "/ice_servers")):
        async with http.request(method, runtime.url + BASE + path, headers=HDR) as r:
            assert r.status == 404, path
            assert "not found" in (await r.json())["detail"].lower()


async def test_connection_ids_are_minted_from_1002(started: str, http: aiohttp.ClientSession) -> None:
    ids = []
    for _ in range(3):
        async with http.post(started + "/connections", headers=HDR) as r:
            assert r.status == 201
            ids.append((await r.json())["connection_id"])
    assert ids == [1002, 1003, 1004]


async def test_offer_answer_on_registered_connection(
    started: str, http: aiohttp.ClientSession, offer: tuple[str, list]
) -> None:
    sdp, mapping = offer
    async with http.post(started + "/connections", headers=HDR) as r:
        cid = (await r.json())["connection_id"]
    url = f"{started}/connections/{cid}/sdp_params"
    async with http.get(url, headers=HDR) as r:
        assert r.status == 404
        assert "No pending SDP offer" in (await r.json())["detail"]
    async with http.post(url, json={"sdp_offer": sdp, "track_mapping": mapping, "client_info": {}}, headers=HDR) as r:
        assert r.status == 202
        assert await r.json() == {"connection_id": cid}
    ans = await answer_of(http, url)
    assert ans["connection_id"] == cid
    text = ans["sdp_answer"]
    sections = text.split("m=")[1:]
    assert len(sections) == 3
    for sec in sections:
        assert "a=candidate:" in sec
    for sec in sections[:2]:
        assert "a=rtcp-mux" in sec
    assert "a=sendonly" in sections[0] and "a=recvonly" in sections[1]  # directions flipped
    assert "a=max-message-size:262144" in text
    again = await answer_of(http, url)  # repeatable until the next offer
    assert again == ans
    async with http.put(url, json={"sdp_offer": sdp, "track_mapping": mapping}, headers=HDR) as r:
        assert r.status == 202


async def test_flat_route_is_connection_1001(started: str, http: aiohttp.ClientSession, offer: tuple[str, list]) -> None:
    sdp, mapping = offer
    async with http.put(started + "/sdp_params", json={"sdp_offer": sdp, "track_mapping": mapping}, headers=HDR) as r:
        assert r.status == 202  # PUT without an earlier offer acts as POST
        assert await r.json() == {"connection_id": 1001}
    ans = await answer_of(http, started + "/sdp_params")
    assert ans["connection_id"] == 1001
    assert await answer_of(http, started + "/sdp_params?connection_id=1001") == ans
    async with http.get(started + "/sdp_params?connection_id=1500", headers=HDR) as r:
        assert r.status == 404


async def test_offer_on_unregistered_id_registers_it(
    started: str, http: aiohttp.ClientSession, offer: tuple[str, list]
) -> None:
    sdp, mapping = offer
    async with http.post(f"{started}/connections/4242/sdp_params", json={"sdp_offer": sdp, "track_mapping": mapping}, headers=HDR) as r:
        assert r.status == 202
    assert (await answer_of(http, f"{started}/connections/4242/sdp_params"))["connection_id"] == 4242
    async with http.post(f"{started}/connections/10000/sdp_params", json={"sdp_offer": sdp, "track_mapping": mapping}, headers=HDR) as r:
        assert r.status == 404
    async with http.post(f"{started}/connections/abc/sdp_params", json={"sdp_offer": sdp}, headers=HDR) as r:
        assert r.status == 404


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"mid": "77"}, "mid '77' is not in the offer"),
        ({"name": "nope"}, "'nope' is not a model track"),
        ({"direction": "sendonly"}, "direction 'sendonly' does not match 'recvonly'"),
        ({"kind": "audio"}, "kind 'audio' does not match"),
    ],
)
async def test_bad_track_mapping_is_400_naming_the_entry(
    started: str, http: aiohttp.ClientSession, offer: tuple[str, list], change: dict, needle: str
) -> None:
    sdp, mapping = offer
    bad = [{**mapping[0], **change}, mapping[1]]
    async with http.post(started + "/sdp_params", json={"sdp_offer": sdp, "track_mapping": bad}, headers=HDR) as r:
        assert r.status == 400
        detail = (await r.json())["detail"]
    assert "track_mapping[0]" in detail and needle in detail, detail


async def test_bad_offer_bodies(started: str, http: aiohttp.ClientSession, offer: tuple[str, list]) -> None:
    async with http.post(started + "/sdp_params", json={"track_mapping": []}, headers=HDR) as r:
        assert r.status == 400
        assert "sdp_offer" in (await r.json())["detail"]
    async with http.post(started + "/sdp_params", data=b"{", headers=HDR) as r:
        assert r.status == 400
    async with http.post(started + "/sdp_params", json={"sdp_offer": "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n"}, headers=HDR) as r:
        assert r.status == 202  # accepted; the failure shows when polling
    async with http.get(started + "/sdp_params", headers=HDR) as r:
        for _ in range(100):
            if r.status != 202:
                break
            await asyncio.sleep(0.05)
            r = await http.get(started + "/sdp_params", headers=HDR)
        assert r.status == 400
        assert "offer" in (await r.json())["detail"]


async def test_mapping_may_leave_tracks_out(started: str, http: aiohttp.ClientSession, offer: tuple[str, list]) -> None:
    sdp, mapping = offer
    async with http.post(started + "/sdp_params", json={"sdp_offer": sdp, "track_mapping": mapping[:1]}, headers=HDR) as r:
        assert r.status == 202
    assert "sdp_answer" in await answer_of(http, started + "/sdp_params")


async def test_ice_candidates_route(started: str, http: aiohttp.ClientSession) -> None:
    async with http.post(started + "/connections", headers=HDR) as r:
        cid = (await r.json())["connection_id"]
    body = {"candidates": [{"candidate": "candidate:1 1 udp 1 127.0.0.1 9 typ host", "sdp_mid": "0", "sdp_mline_index": 0}]}
    async with http.post(f"{started}/connections/{cid}/ice_candidates", json=body, headers=HDR) as r:
        assert r.status == 202
    async with http.post(f"{started}/connections/9999/ice_candidates", json=body, headers=HDR) as r:
        assert r.status == 404


async def test_ice_servers_are_configurable(http: aiohttp.ClientSession) -> None:
    from .conftest import make_runtime

    with make_runtime(ice_servers=["stun:stun.example.org:3478"]) as rt:
        async with http.post(rt.url + "/start_session") as r:
            assert r.status == 200
        async with http.get(rt.url + BASE + "/ice_servers", headers=HDR) as r:
            assert await r.json() == {"ice_servers": [{"uris": ["stun:stun.example.org:3478"]}]}


async def test_uploads(started: str, runtime: LocalRuntime, http: aiohttp.ClientSession) -> None:
    url = runtime.url + "/sessions/local/uploads"
    payload = b"\x89PNG fake bytes"
    async with http.post(url, json={"name": "a.png", "size": len(payload), "mime_type": "image/png"}) as r:
        assert r.status == 201
        up = await r.json()
    host = runtime.url.removeprefix("http://")
    assert up["presigned_url"] == f"http://{host}/uploads/{up['presigned_id']}"
    assert up["path"] == f"uploads/{up['presigned_id']}"
    async with http.put(up["presigned_url"], data=payload[:-1]) as r:
        assert r.status == 400
        assert "declared" in (await r.json())["detail"]
    async with http.put(up["presigned_url"], data=payload) as r:
        assert r.status == 200
        assert await r.json() == {"upload_id": up["presigned_id"]}
    async with http.put(up["presigned_url"], data=payload) as r:
        assert r.status == 409
    async with http.put(runtime.url + "/uploads/00000000-0000-0000-0000-000000000000", data=payload) as r:
        assert r.status == 404
    for bad, status in (({"name": "a", "size": 0, "mime_type": "x"}, 400), ({"name": "a", "size": True, "mime_type": "x"}, 400),
                        ({"name": "a", "size": 33 * 2**20, "mime_type": "x"}, 413), (None, 400)):
        async with http.post(url, json=bad) as r:
            assert r.status == status, bad
    async with http.post(runtime.url + "/sessions/local/uploads", json={"name": "a", "size": 1, "mime_type": "x"}) as r:
        assert r.status == 201
        pending = (await r.json())["presigned_url"]
    async with http.post(runtime.url + "/stop_session") as r:
        assert r.status == 200
    async with http.post(url, json={"name": "a", "size": 1, "mime_type": "x"}) as r:
        assert r.status == 409  # session closed
    async with http.put(pending, data=b"x") as r:
        assert r.status == 404  # uploads die with their session


async def test_raw_client_over_flat_route_without_control(started: str, runtime: LocalRuntime) -> None:
    """JS29 style: flat route, only the data channel, implicit everything."""
    client = RawClient(runtime.url, control=False)
    try:
        await client.connect(flat=True)
        assert client.connection_id == 1001
        await client.wait_frames(3)
    finally:
        await client.close()


async def test_answer_that_misses_its_budget_is_a_400_with_reason(http: aiohttp.ClientSession, offer: tuple[str, list]) -> None:
    from .conftest import make_runtime

    sdp, mapping = offer
    with make_runtime(answer_timeout=1e-6) as rt:  # no ICE gathering fits in a microsecond
        async with http.post(rt.url + "/start_session") as r:
            assert r.status == 200
        url = rt.url + BASE + "/sdp_params"
        async with http.post(url, json={"sdp_offer": sdp, "track_mapping": mapping}, headers=HDR) as r:
            assert r.status == 202
        loop = asyncio.get_running_loop()
        end = loop.time() + 10
        while True:
            async with http.get(url, headers=HDR) as r:
                if r.status != 202:
                    assert r.status == 400
                    assert "ICE gathering took longer than" in (await r.json())["detail"]
                    break
            assert loop.time() < end, "the failure never showed"
            await asyncio.sleep(0.05)


async def test_concurrent_offers_on_one_connection_leave_one_peer(
    started: str, runtime: LocalRuntime, http: aiohttp.ClientSession, offer: tuple[str, list]
) -> None:
    sdp, mapping = offer
    body = {"sdp_offer": sdp, "track_mapping": mapping}
    statuses = await asyncio.gather(*(http.post(started + "/sdp_params", json=body, headers=HDR) for _ in range(4)))
    assert [r.status for r in statuses] == [202] * 4
    for r in statuses:
        r.release()
    await answer_of(http, started + "/sdp_params")
    session = runtime.server.manager.sessions["local"]
    assert len(session.peers) == 1
    assert list(session.connections) == [1001]
    live = [o for o in gc.get_objects() if isinstance(o, Peer) and not o.closed and o.session is session]
    assert live == session.peers  # no orphaned peer left negotiating in the background

"""Local-route behaviour today's official client relies on: trickle ICE (candidates before the offer) and generation."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from aiortc import RTCConfiguration, RTCPeerConnection

from reactor_notebook.runtime import LocalRuntime

BASE = "/sessions/local/transport/webrtc"
HDR = {"Authorization": "Bearer local", "Reactor-WebRTC-Version": "1.0"}


def candidate(port: int) -> dict[str, Any]:
    return {"candidate": f"candidate:{port} 1 udp 2130706431 127.0.0.1 {port} typ host", "sdp_mid": "0",
            "sdp_mline_index": 0}


async def trickle_offer() -> tuple[RTCPeerConnection, str]:
    """A real aiortc offer with its candidates removed, as a trickling client sends it."""
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.createDataChannel("control")
    pc.createDataChannel("data")
    pc.addTransceiver("video", direction="recvonly")
    await pc.setLocalDescription(await pc.createOffer())
    lines = [line for line in pc.localDescription.sdp.splitlines()
             if not line.startswith(("a=candidate", "a=end-of-candidates"))]
    return pc, "\r\n".join(lines) + "\r\n"


def remote_ports(runtime: LocalRuntime, cid: int) -> set[int]:
    peer = runtime.server.manager.sessions["local"].connections[cid].peer
    ice = peer.pc.getTransceivers()[0].receiver.transport.transport
    return {c.port for c in ice.getRemoteCandidates()}


async def test_candidates_before_the_offer_are_kept_then_applied(runtime: LocalRuntime,
                                                                 http: aiohttp.ClientSession) -> None:
    base = runtime.url + BASE
    async with http.post(runtime.url + "/start_session", json={}) as r:
        assert r.status == 200
    async with http.post(base + "/connections", headers=HDR) as r:
        cid = (await r.json())["connection_id"]
    async with http.post(f"{base}/connections/{cid}/ice_candidates", json={"candidates": [candidate(9)]},
                         headers=HDR) as r:
        assert r.status == 202
    pc, sdp = await trickle_offer()
    try:
        mapping = [{"mid": "0", "name": "main_video", "kind": "video", "direction": "recvonly"}]
        async with http.post(f"{base}/connections/{cid}/sdp_params", json={"sdp_offer": sdp, "track_mapping": mapping},
                             headers=HDR) as r:
            assert r.status == 202
        for _ in range(200):
            async with http.get(f"{base}/connections/{cid}/sdp_params", headers=HDR) as r:
                if r.status == 200:
                    break
            await asyncio.sleep(0.05)  # paced polling of the answer, as clients do
        assert remote_ports(runtime, cid) == {9}
        body = {"candidates": [candidate(10)]}
        async with http.post(f"{base}/connections/{cid}/ice_candidates", json=body, headers=HDR) as r:
            assert r.status == 202
        async with http.post(f"{base}/connections/{cid}/ice_candidates", json={"candidates": [], "is_final": True},
                             headers=HDR) as r:
            assert r.status == 202
        assert remote_ports(runtime, cid) == {9, 10}
        conn = runtime.server.manager.sessions["local"].connections[cid]
        assert conn.trickle.final and not conn.trickle.pending
        async with http.post(f"{base}/connections/{cid}/ice_candidates", json={"candidates": [{"candidate": "x"}]},
                             headers=HDR) as r:
            assert r.status == 400 and "candidates[0]" in (await r.json())["detail"]
    finally:
        await pc.close()



async def test_generation_is_accepted_and_reported(runtime: LocalRuntime, http: aiohttp.ClientSession) -> None:
    async with http.post(runtime.url + "/start_session", json={"generation": "steped"}) as r:
        assert r.status == 422 and "'generation' must be one of" in (await r.json())["detail"]
    async with http.post(runtime.url + "/start_session", json={"generation": "stepped"}) as r:
        assert r.status == 200 and (await r.json())["generation"] == "stepped"
    async with http.post(runtime.url + "/start_session", json={}) as r:  # idempotent: the running session's mode
        assert (await r.json())["generation"] == "stepped"

"""A bare aiortc client of ours that speaks raw wire v1 frames to a runtime, for bad-input tests.

It registers a connection on an existing session (local or cloud), opens ``control`` and
``data``, receives the model's video (so the connection is a normal one) and hands every frame
it receives to per-channel queues, decoded with our codec.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

from reactor_notebook.protocol import v1


class RawV1Client:
    """One WebRTC connection driven by hand: ``send(channel, bytes)``, ``await next(channel)``."""

    def __init__(self, base_url: str, session_id: str, jwt: str = "local") -> None:
        self.base = f"{base_url}/sessions/{session_id}/transport/webrtc"
        self.headers = {"Authorization": f"Bearer {jwt}"}
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.channels = {name: self.pc.createDataChannel(name) for name in ("control", "data")}
        self.inbox: dict[str, asyncio.Queue[bytes | str]] = {name: asyncio.Queue() for name in self.channels}
        for name, channel in self.channels.items():
            channel.on("message", lambda raw, name=name: self.inbox[name].put_nowait(raw))

    async def connect(self, timeout: float = 15.0) -> None:
        """Register, offer, poll for the answer and wait until both channels are open."""
        self.pc.addTransceiver("video", direction="recvonly")
        await self.pc.setLocalDescription(await self.pc.createOffer())
        async with aiohttp.ClientSession(headers=self.headers) as http:
            async with http.post(f"{self.base}/connections") as resp:
                assert resp.status == 201, await resp.text()
                cid = (await resp.json())["connection_id"]
            body = {"sdp_offer": self.pc.localDescription.sdp,
                    "track_mapping": [{"mid": "0", "name": "main_video", "kind": "video", "direction": "recvonly"}]}
            async with http.post(f"{self.base}/connections/{cid}/sdp_params", json=body) as resp:
                assert resp.status == 202, await resp.text()
            for _ in range(100):
                async with http.get(f"{self.base}/connections/{cid}/sdp_params") as resp:
                    if resp.status == 200:
                        answer = (await resp.json())["sdp_answer"]
                        break
                await asyncio.sleep(0.05)
            else:
                raise AssertionError("no SDP answer")
        await self.pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while any(ch.readyState != "open" for ch in self.channels.values()):
            assert loop.time() < deadline, "data channels did not open"
            await asyncio.sleep(0.02)

    def send(self, channel: str, frame: bytes) -> None:
        self.channels[channel].send(frame)

    async def next(self, channel: str, timeout: float = 10.0) -> dict[str, Any]:
        """The next frame on ``channel``, decoded as the server message of that channel."""
        raw = await asyncio.wait_for(self.inbox[channel].get(), timeout)
        assert isinstance(raw, bytes) and v1.sniff(raw) == "v1", f"not a v1 frame: {raw!r}"
        return v1.decode_control_server(raw) if channel == "control" else v1.decode_data_server(raw)

    async def reply_to(self, channel: str, request_id: str | None, timeout: float = 10.0) -> dict[str, Any]:
        """The next frame on ``channel`` answering ``request_id`` (None: a notification carrying an error)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            msg = await self.next(channel, max(0.01, deadline - loop.time()))
            if request_id is None and msg.get("kind") == "notification" and "error" in msg:
                return msg
            if request_id is not None and msg.get("request_id") == request_id:
                return msg

    async def close(self) -> None:
        await self.pc.close()

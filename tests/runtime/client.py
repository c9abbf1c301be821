"""A minimal raw aiortc client peer for runtime tests (independent of reactor_notebook.sdk).

It follows protocol.md §3 like PY08: channels ``control`` then ``data``, one transceiver per
capability track, complete (non-trickle) offer with ``track_mapping``, answer polled with GET.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from typing import Any

import aiohttp
import numpy as np
from aiortc import RTCConfiguration, RTCPeerConnection, RTCRtpSender, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from testutil import apoll_until

from reactor_notebook import protocol

TRANSPORT = "/sessions/{sid}/transport/webrtc"


def only_codec(name: str) -> list[Any]:
    """aiortc's video codecs reduced to ``name`` (e.g. ``"VP8"``) and the RTX that repairs it."""
    caps = RTCRtpSender.getCapabilities("video").codecs
    return [c for c in caps if c.mimeType.lower() in (f"video/{name.lower()}", "video/rtx")]


class RawClient:
    """One client connection to a runtime session over real WebRTC."""

    def __init__(
        self,
        base_url: str,
        session_id: str = protocol.LOCAL_SESSION_ID,
        token: str = protocol.LOCAL_BEARER,
        tracks: list[dict[str, str]] | None = None,
        *,
        control: bool = True,
        video_codec: str | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.session_id = session_id
        self.token = token
        self.tracks = tracks or [{"name": "main_video", "kind": "video", "direction": "recvonly"}]
        self.use_control = control
        self.video_codec = video_codec  # e.g. "H264": offer only that video codec (and its RTX)
        self.pc: RTCPeerConnection | None = None
        self.http: aiohttp.ClientSession | None = None
        self.data: Any = None
        self.control: Any = None
        self.connection_id: int | None = None
        self.messages: list[dict[str, Any]] = []  # parsed envelopes received on data
        self.control_messages: list[dict[str, Any]] = []
        self.frames: list[np.ndarray] = []
        self.frame_count = 0
        self.transceivers: dict[str, Any] = {}
        self._readers: list[asyncio.Task[None]] = []
        self._msg_event = asyncio.Event()

    @property
    def base(self) -> str:
        return self.base_url + TRANSPORT.format(sid=self.session_id)

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", protocol.HEADER_WEBRTC_VERSION: protocol.WEBRTC_VERSION}

    async def connect(self, *, register: bool = True, flat: bool = False, timeout: float = 15.0) -> None:
        """Offer, poll the answer, and wait for connected + channels open."""
        self.http = self.http or aiohttp.ClientSession()
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        if self.use_control:
            self.control = self.pc.createDataChannel("control")
            self.control.on("message", lambda m: self.control_messages.append(json.loads(m)))
        self.data = self.pc.createDataChannel("data")
        self.data.on("message", self._on_data)
        self.pc.on("track", self._on_track)
        for t in self.tracks:
            self.transceivers[t["name"]] = tr = self.pc.addTransceiver(t["kind"], direction=t["direction"])
            if self.video_codec and t["kind"] == "video":
                tr.setCodecPreferences(only_codec(self.video_codec))
        await self.pc.setLocalDescription(await self.pc.createOffer())
        mapping = [
            {"mid": tr.mid, "name": name, "kind": tr.kind, "direction": spec["direction"]}
            for (name, tr), spec in zip(self.transceivers.items(), self.tracks, strict=True)
        ]
        if flat:
            self.connection_id = protocol.FLAT_CONNECTION_ID
            url = self.base + "/sdp_params"
        else:
            if register or self.connection_id is None:
                async with self.http.post(self.base + "/connections", headers=self.headers()) as r:
                    assert r.status == 201, (r.status, await r.text())
                    self.connection_id = (await r.json())["connection_id"]
            url = f"{self.base}/connections/{self.connection_id}/sdp_params"
        body = {"sdp_offer": self.pc.localDescription.sdp, "track_mapping": mapping}
        async with self.http.post(url, json=body, headers=self.headers()) as r:
            assert r.status == 202, (r.status, await r.text())
        answer = await self.poll_answer(url)
        await self.pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
        await apoll_until(
            lambda: self.pc is not None
            and self.pc.connectionState == "connected"
            and self.data.readyState == "open"
            and (self.control is None or self.control.readyState == "open"),
            timeout,
            "peer connected and channels open",
        )

    async def poll_answer(self, url: str, timeout: float = 10.0) -> str:
        assert self.http is not None
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while loop.time() < end:
            async with self.http.get(url, headers=self.headers()) as r:
                if r.status == 200:
                    return (await r.json())["sdp_answer"]
                assert r.status == 202, (r.status, await r.text())
                assert await r.json() is None
            await asyncio.sleep(0.05)
        raise AssertionError("no SDP answer in time")

    # --- media --------------------------------------------------------------------------------
    def _on_track(self, track: MediaStreamTrack) -> None:
        if track.kind == "video":
            self._readers.append(asyncio.ensure_future(self._read(track)))

    async def _read(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError, asyncio.CancelledError):
            while True:
                frame = await track.recv()
                self.frames.append(frame.to_ndarray(format="rgb24"))
                del self.frames[:-8]  # keep only the newest few
                self.frame_count += 1

    async def wait_frames(self, n: int, timeout: float = 15.0) -> list[np.ndarray]:
        start = self.frame_count
        await apoll_until(lambda: self.frame_count >= start + n, timeout, f"{n} frames")
        return list(self.frames)

    # --- messages --------------------------------------------------------------------------------
    def _on_data(self, raw: str) -> None:
        msg = json.loads(raw)
        self.messages.append(msg)

    def send(self, scope: str, type_: str, data: Any = None, uploads: dict[str, Any] | None = None) -> None:
        self.data.send(protocol.encode_envelope(scope, type_, data, uploads))  # type: ignore[arg-type]

    def command(self, name: str, data: Any = None, uploads: dict[str, Any] | None = None) -> None:
        self.send("application", name, data, uploads)

    async def next_message(
        self, pred: Callable[[dict[str, Any]], bool], timeout: float = 10.0, *, start: int = 0
    ) -> dict[str, Any]:
        """The first received envelope (from index ``start``) matching ``pred``."""
        found: list[dict[str, Any]] = []

        def check() -> bool:
            for m in self.messages[start:]:
                if pred(m):
                    found.append(m)
                    return True
            return False

        await apoll_until(check, timeout, "a matching message")
        return found[0]

    async def app_message(self, type_: str, timeout: float = 10.0, start: int = 0) -> dict[str, Any]:
        m = await self.next_message(
            lambda m: m.get("scope") == "application" and m["data"].get("type") == type_, timeout, start=start
        )
        return m["data"]

    async def runtime_message(self, type_: str, timeout: float = 10.0, start: int = 0) -> dict[str, Any]:
        m = await self.next_message(
            lambda m: m.get("scope") == "runtime" and m["data"].get("type") == type_, timeout, start=start
        )
        return m["data"]

    async def control_request(self, method: str, name: str, timeout: float = 5.0) -> dict[str, Any]:
        rid = f"ctrl_{len(self.control_messages)}_{method}"
        self.control.send(protocol.control_request(method, rid, {"name": name}))
        found: list[dict[str, Any]] = []

        def check() -> bool:
            for m in self.control_messages:
                if m.get("request_id") == rid:
                    found.append(m)
                    return True
            return False

        await apoll_until(check, timeout, f"control response to {method}")
        return found[0]

    async def close(self) -> None:
        for t in self._readers:
            t.cancel()
        await asyncio.gather(*self._readers, return_exceptions=True)
        if self.pc is not None:
            await self.pc.close()
        if self.http is not None:
            await self.http.close()
            self.http = None

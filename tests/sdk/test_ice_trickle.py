"""Connect without waiting for STUN: host candidates at once, reflexive ones trickled afterwards.

Real path: our runtime on the machine's LAN address advertises a STUN server (a real UDP STUN
responder in this test that maps every request to a TEST-NET address); the SDK offers at once, asks
the STUN server from its own host sockets afterwards and posts the reflexive candidate to
``…/ice_candidates``, where the runtime applies it. Also the helpers' edge cases.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from aioice import stun

from reactor_notebook.runtime import LocalRuntime
from reactor_notebook.sdk import Reactor
from reactor_notebook.sdk.ice import add_candidates, is_loopback_url, split_servers, strip_end_of_candidates

MAPPED = ("203.0.113.7", 40000)  # TEST-NET-3: what our fake NAT "maps" every request to


def host_ipv4() -> str:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.connect(("198.51.100.1", 9))  # no packet is sent
        return str(sock.getsockname()[0])


class StunResponder:
    """A UDP STUN server answering Binding requests with a fixed XOR-MAPPED-ADDRESS (own thread)."""

    def __init__(self, host: str) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.requests = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, addr = self.sock.recvfrom(2048)
            except OSError:
                continue
            try:
                req = stun.parse_message(data)
            except ValueError:
                continue
            if req.message_method == stun.Method.BINDING and req.message_class == stun.Class.REQUEST:
                self.requests += 1
                resp = stun.Message(stun.Method.BINDING, stun.Class.RESPONSE, transaction_id=req.transaction_id)
                resp.attributes["XOR-MAPPED-ADDRESS"] = MAPPED
                self.sock.sendto(bytes(resp), addr)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


@pytest.fixture
def stun_server() -> Iterator[StunResponder]:
    server = StunResponder(host_ipv4())
    yield server
    server.close()


def test_reflexive_candidates_are_trickled_not_waited_for(stun_server: StunResponder) -> None:
    ip = host_ipv4()
    stun_url = f"stun:{ip}:{stun_server.port}"
    with LocalRuntime(model="testpattern", host="0.0.0.0", port=0, ice_servers=[stun_url]) as rt:
        manager = rt.server.manager
        trickled: list[Any] = []
        got = threading.Event()
        original = manager.add_candidates

        async def spy(s: Any, cid: int, body: Any) -> None:  # records, then the runtime applies them
            trickled.append(body)
            got.set()
            await original(s, cid, body)

        manager.add_candidates = spy
        r = Reactor("testpattern", local=True, local_url=f"http://{ip}:{rt.port}")
        try:
            r.connect_sync()
            assert got.wait(10), "no candidates trickled"
            assert r.frames.wait_next(r.frames.seq, timeout=10) is not None
        finally:
            r.disconnect_sync()
    (body,) = trickled
    assert body["is_final"] is True
    (cand,) = body["candidates"]
    assert f" {MAPPED[0]} {MAPPED[1]} typ srflx raddr {ip} " in cand["candidate"] + " "
    assert cand["candidate"].startswith("candidate:") and cand["sdp_mid"] == "0" and cand["sdp_mline_index"] == 0
    assert stun_server.requests >= 1


def test_helpers() -> None:
    turn, stun_hosts = split_servers(
        [
            {"uris": ["stun:stun.example.org:19302", "turn:turn.example.org:3478?transport=udp"],
             "credentials": {"username": "u", "password": "p"}},
            {"uris": ["stun:[2001:db8::1]:3478", "stun:plain.example.org"]},
        ]
    )
    assert stun_hosts == [("stun.example.org", 19302), ("2001:db8::1", 3478), ("plain.example.org", 3478)]
    assert [(t.urls, t.username, t.credential) for t in turn] == [
        (["turn:turn.example.org:3478?transport=udp"], "u", "p")
    ]
    assert is_loopback_url("http://127.0.0.1:8080") and is_loopback_url("http://localhost")
    assert is_loopback_url("http://[::1]:1") and not is_loopback_url("http://192.0.2.2:8080")
    sdp = "m=video 9\r\na=candidate:1 1 udp 1 10.0.0.1 5 typ host\r\na=end-of-candidates\r\na=mid:0\r\n"
    assert "end-of-candidates" not in strip_end_of_candidates(sdp)
    added = add_candidates(sdp, ["candidate:2 1 udp 1 203.0.113.7 6 typ srflx raddr 10.0.0.1 rport 5"])
    assert added.splitlines()[2] == "a=candidate:2 1 udp 1 203.0.113.7 6 typ srflx raddr 10.0.0.1 rport 5"
    assert added.splitlines()[3] == "a=end-of-candidates"

"""Our SDK against the official ``reactor-runtime==2.0.0`` (RT20) hosting a toy model of its own kind.

Interop matrix row 5 of protocol.md §8, the legacy fallback of §2.8, over real HTTP and aiortc
WebRTC on loopback: RT20 has no ``…/connections`` routes (the SDK signals on the flat ``sdp_params``
routes and skips the control handshake), no ``requestSchema`` (the SDK keeps the capabilities'
commands after its 3 s timeout), no ``required`` flags (inferred: no default → required), drops bad
commands silently (the SDK validates before sending), and refuses ``/start_session`` while a session
exists (the SDK raises ConflictError with a hint). RT20 runs from its own venv (numpy < 2) built on
demand; the model is ``rt20/rt20_toy.py``.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
from harness import http_json, increasing_run, serving, wait_state
from rt20_env import Rt20Server, ensure_rt20_venv
from testutil import Recorder, poll_until

from reactor_notebook import framecode
from reactor_notebook.schema import CommandValidationError
from reactor_notebook.sdk import ConflictError, Reactor, ReactorException, ReactorStatus

W, H = 320, 240
DEFAULT_COLOR = (0, 0, 200)
COLOR = {"r": 220, "g": 40, "b": 30}
BASE = "/sessions/local/transport/webrtc"
S = ReactorStatus
LOAD_DELAY_S = 4.0  # toy model's load() time in the loading test (RT20 stays CREATED meanwhile)
KEEPALIVE_HOLD_S = 25.0  # > RT20's fixed 20 s ping watchdog (+ its 2 s check period)


@pytest.fixture(scope="module")
def rt20_python() -> Any:
    """The interpreter of the reactor-runtime 2.0.0 venv; skip (with the reason) if it cannot be built."""
    try:
        return ensure_rt20_venv()
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"cannot build the reactor-runtime 2.0.0 venv (needs PyPI): {exc}")


@pytest.fixture(scope="module")
def rt20(rt20_python: Any) -> Iterator[Rt20Server]:
    """RT20 + toy model on 127.0.0.1, ephemeral port, own process group; stopped by pid."""
    with serving(Rt20Server(rt20_python)) as server:
        yield server


@pytest.fixture
def rt20_idle(rt20: Rt20Server) -> Rt20Server:
    """RT20 with no session (each test starts from READY)."""
    wait_state(rt20, "READY", "RT20")
    return rt20


def probe(frame: np.ndarray) -> tuple[int, ...]:
    """Mean colour of a patch well away from the index code (lossy video keeps a flat colour close)."""
    return tuple(
        int(v) for v in frame[H // 2 - 20 : H // 2 + 20, W // 2 - 40 : W // 2 + 40].mean(axis=(0, 1))
    )


def close_to(px: tuple[int, ...], color: tuple[int, int, int], tol: int = 40) -> bool:
    return all(abs(a - b) <= tol for a, b in zip(px, color, strict=True))


async def next_frames(reactor: Reactor, count: int, timeout: float = 10.0) -> list[np.ndarray]:
    """``count`` successive new frames from ``reactor.frames`` (latest wins between waits)."""
    out: list[np.ndarray] = []
    seq = reactor.frames.seq
    for _ in range(count):
        got = await reactor.frames.await_next(seq, timeout)
        assert got is not None, f"no frame within {timeout} s (have {len(out)} of {count})"
        frame, meta = got
        seq = meta.seq
        out.append(frame.copy())
    return out


async def wait_frame(
    reactor: Reactor, pred: Callable[[np.ndarray], bool], timeout: float, what: str
) -> np.ndarray:
    """The first new frame satisfying ``pred``."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    seq = reactor.frames.seq
    last: np.ndarray | None = None
    while (left := end - loop.time()) > 0:
        got = await reactor.frames.await_next(seq, left)
        if got is None:
            break
        last, seq = got[0], got[1].seq
        if pred(last):
            return last.copy()
    raise AssertionError(
        f"no frame with {what} within {timeout} s; last probe {None if last is None else probe(last)}"
    )


async def test_sdk_streams_and_commands_through_the_legacy_fallback(rt20_idle: Rt20Server) -> None:
    r = Reactor("rt20toy", local=True, local_url=rt20_idle.url)
    seen = Recorder().attach(r, ("status_changed", "message", "error"))
    try:
        await r.connect(timeout=20)
        assert r.get_status() is S.READY
        assert seen.of("status_changed")[:3] == [S.CONNECTING, S.WAITING, S.READY]
        assert r.get_session_id() == "local"
        # §2.8: POST …/connections got 404, so the flat routes carry the offer; no control handshake.
        assert r._api is not None and r._api.flat_routes
        assert r._transport is not None and r._transport.connection_id is None
        assert rt20_idle.state() == "STREAMING"
        # Offline: the launcher removed RT20's public STUN default, so only host candidates exist.
        assert http_json("GET", f"{rt20_idle.url}{BASE}/ice_servers") == (200, {"ice_servers": []})
        answer = r._transport.pc.remoteDescription.sdp if r._transport.pc else ""
        assert "typ host" in answer and "typ srflx" not in answer, answer

        # Frames: 320x240 RGB, index codes never go backwards and do advance.
        frames = await next_frames(r, 20)
        assert {f.shape for f in frames} == {(H, W, 3)}
        indices = [framecode.read_index(f) for f in frames]
        assert increasing_run(indices) and indices[-1] != indices[0], indices
        assert close_to(probe(frames[-1]), DEFAULT_COLOR), probe(frames[-1])

        # Commands come from RT20's capabilities 1.1 (no ``required`` keys: no default → required).
        (spec,) = r.commands
        assert spec.name == "set_color" and spec.description == "Set the background colour"
        assert [(p.name, p.type, p.required, p.minimum, p.maximum) for p in spec.params] == [
            (c, "integer", True, 0, 255) for c in "rgb"
        ]

        # RT20 drops bad commands silently, so the SDK refuses them before sending.
        with pytest.raises(CommandValidationError) as out_of_range:
            await r.send_command("set_color", {"r": 300, "g": 0, "b": 0})
        assert out_of_range.value.command == "set_color" and out_of_range.value.field == "r"
        with pytest.raises(CommandValidationError) as missing:
            await r.send_command("set_color", {"r": 1, "g": 2})
        assert missing.value.field == "b"
        with pytest.raises(CommandValidationError) as unknown:
            await r.send_command("set_colour", {"r": 1, "g": 2, "b": 3})
        assert "set_color" in str(unknown.value)  # names the commands that exist

        # What would happen without the check: RT20 swallows the bad command without a word, then
        # applies the good one; the model's color_set answers only that one (commands are in order).
        await r.send_command("set_color", {"r": 999, "g": 0, "b": 0}, validate=False)
        await r.send_command("set_color", COLOR)
        await seen.await_(lambda: bool(seen.of("message")), 10, "color_set message")
        assert seen.of("message")[0] == {"type": "color_set", "data": COLOR}
        target = (COLOR["r"], COLOR["g"], COLOR["b"])
        frame = await wait_frame(r, lambda f: close_to(probe(f), target), 10, f"colour {target}")
        assert frame.shape == (H, W, 3)
        assert r.get_status() is S.READY and not seen.of("error"), seen.of("error")

        # requestSchema: RT20 never answers; the SDK gave up after 3 s and kept the capabilities.
        task = r._schema_task
        assert task is not None
        poll_until(task.done, 10, "the SDK's requestSchema attempt to end", 0.1)
        assert [c.name for c in r.commands] == ["set_color"]
        with pytest.raises(ReactorException) as no_schema:
            await r.request_schema(timeout=1.0)
        assert no_schema.value.code == "TIMEOUT"
        caps = await r.request_capabilities(timeout=5.0)  # RT20 does answer this one
        assert [c["name"] for c in caps["commands"]] == ["set_color"]
    finally:
        await r.disconnect()
    # Clean full disconnect: POST /stop_session ends the session, RT20 is back to READY.
    assert r.get_status() is S.DISCONNECTED and r.get_session_id() is None
    wait_state(rt20_idle, "READY", "RT20", 10)


async def test_reconnect_puts_a_new_offer_on_the_flat_route(rt20_idle: Rt20Server) -> None:
    r = Reactor("rt20toy", local=True, local_url=rt20_idle.url)
    try:
        await r.connect(timeout=20)
        await r.send_command("set_color", COLOR)
        target = (COLOR["r"], COLOR["g"], COLOR["b"])
        await wait_frame(r, lambda f: close_to(probe(f), target), 10, f"colour {target}")
        await r.disconnect(recoverable=True)
        assert r.get_session_id() == "local"
        wait_state(rt20_idle, "ORPHANED", "RT20", 10)
        await r.reconnect(timeout=20)
        assert r.get_status() is S.READY, r.get_last_error()
        assert rt20_idle.state() == "STREAMING"
        # Same session: the model kept its colour, and the index code carries on.
        frames = await next_frames(r, 5)
        assert close_to(probe(frames[-1]), target), probe(frames[-1])
        indices = [framecode.read_index(f) for f in frames]
        assert increasing_run(indices), indices
    finally:
        await r.disconnect()
    wait_state(rt20_idle, "READY", "RT20", 10)


async def test_start_session_refused_while_a_session_exists_raises_conflict(rt20_idle: Rt20Server) -> None:
    first = Reactor("rt20toy", local=True, local_url=rt20_idle.url)
    second = Reactor("rt20toy", local=True, local_url=rt20_idle.url)
    try:
        await first.connect(timeout=20)
        with pytest.raises(ConflictError) as refused:
            await second.connect(timeout=20)
        text = str(refused.value)
        assert "Cannot start session in state" in text, text  # RT20's own reason, kept
        assert "30 s" in text and "stop_session" in text, text  # and what to do about it
        assert second.get_status() is S.DISCONNECTED and second.get_session_id() is None
        # The refused client did not stop the first one's session.
        assert first.get_status() is S.READY and rt20_idle.state() == "STREAMING"
        await next_frames(first, 3)
    finally:
        await second.disconnect()
        await first.disconnect()
    wait_state(rt20_idle, "READY", "RT20", 10)


async def test_sdk_pings_hold_the_session_past_rt20_ping_watchdog(rt20_idle: Rt20Server) -> None:
    """RT20 closes a connection after 20 s without a ``ping`` (other messages do not count)."""
    r = Reactor("rt20toy", local=True, local_url=rt20_idle.url)
    seen = Recorder().attach(r, ("status_changed", "message", "error"))
    try:
        await r.connect(timeout=20)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + KEEPALIVE_HOLD_S
        while loop.time() < deadline:  # consume frames for the whole window: the stream must not stop
            await next_frames(r, 1, timeout=5)
            assert r.get_status() is S.READY, seen.items[-8:]
        assert seen.of("status_changed") == [S.CONNECTING, S.WAITING, S.READY] and not seen.of("error")
        assert rt20_idle.state() == "STREAMING"
        indices = [framecode.read_index(f) for f in await next_frames(r, 5)]
        assert increasing_run(indices) and indices[-1] != indices[0], indices
    finally:
        await r.disconnect()
    wait_state(rt20_idle, "READY", "RT20", 10)


async def test_reconnect_after_the_session_ended_starts_a_new_one(rt20_idle: Rt20Server) -> None:
    """RT20 answers a re-offer for an ended session with 400 "No session running" (not 404)."""
    r = Reactor("rt20toy", local=True, local_url=rt20_idle.url)
    seen = Recorder().attach(r, ("status_changed", "message", "error"))
    try:
        await r.connect(timeout=20)
        await r.disconnect(recoverable=True)
        # Stands in for RT20's 30 s orphan timeout: the session ends while the client keeps its id.
        assert http_json("POST", f"{rt20_idle.url}/stop_session") == (200, None)
        wait_state(rt20_idle, "READY", "RT20", 10)
        await r.reconnect(timeout=20)
        assert r.get_status() is S.READY, r.get_last_error()
        assert rt20_idle.state() == "STREAMING"
        assert not seen.of("error"), seen.of("error")  # no RECONNECTION_FAILED: a fresh session instead
        assert any(e.kind == "event" and e.name == "session_restarted" for e in r.frames.timeline_entries())
        frames = await next_frames(r, 5)
        assert close_to(probe(frames[-1]), DEFAULT_COLOR), probe(frames[-1])  # new session, default colour
    finally:
        await r.disconnect()
    wait_state(rt20_idle, "READY", "RT20", 10)


async def test_connect_while_rt20_loads_its_model_waits_for_it(rt20_python: Any) -> None:
    """RT20 refuses ``/start_session`` with 400 "…in state CREATED" until the model is loaded (RUNTIME
    says 503): the SDK retries within its budget instead of blaming another session."""
    server = Rt20Server(rt20_python, env={"RT20_TOY_LOAD_DELAY": str(LOAD_DELAY_S)})
    try:
        url = server.start(wait_ready=False)
        assert server.state() == "CREATED", server.describe()
        r = Reactor("rt20toy", local=True, local_url=url)
        try:
            await r.connect(timeout=LOAD_DELAY_S + 15)
            assert r.get_status() is S.READY and server.state() == "STREAMING"
            await next_frames(r, 3)
        finally:
            await r.disconnect()
    finally:
        server.stop()

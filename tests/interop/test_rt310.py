"""Our SDK against the official ``reactor-runtime==3.10.0`` (RT310) hosting a toy ``ReactorApp``.

Real path: RT310 from its own Python 3.12 venv, launched from a temp folder with ``reactor.yaml``
(``rt310/``), on an ephemeral loopback port, with its default STUN server kept (unreachable
offline); our SDK over real aiortc. Checked: connect (the time is printed, not asserted),
frames with the toy's pixels and index codes, the schema (RT310 lists no commands in its
capabilities), ``set_color`` → ``color_set`` reply (integers, although RT310 sends floats) →
pixels, its 409 quirks (``/start_session`` while a session exists, ``/stop_session`` with none).
The SDK speaks wire v1 to it (chosen from its descriptor): the model's ``CommandError`` and the
runtime's validation errors come back for the request that caused them; ``wire="v0"`` still works.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from harness import http_json, increasing_run, serving, wait_state
from rt310_env import RT310, TOY_MODEL, Rt310Server
from testutil import poll_until

from reactor_notebook import framecode
from reactor_notebook.sdk import CommandRejectedError, ConflictError, Reactor, ReactorException, ReactorStatus

W, H = 320, 240
DEFAULT_COLOR = (0, 0, 200)
ZERO_UUID = "00000000-0000-0000-0000-000000000000"
UNREACHABLE_STUN = "stun:198.51.100.1:3478"  # TEST-NET-2: never answers


@pytest.fixture(scope="module")
def rt310_python() -> Any:
    """The interpreter of the reactor-runtime 3.10.0 venv (built by .ci/setup, else on demand)."""
    return RT310.python_for_test()


@pytest.fixture(scope="module")
def rt310(rt310_python: Any) -> Iterator[Rt310Server]:
    """RT310 + toy on 127.0.0.1, ephemeral port, default STUN servers, own process group."""
    with serving(Rt310Server(rt310_python)) as server:
        yield server


@pytest.fixture
def rt310_idle(rt310: Rt310Server) -> Rt310Server:
    """RT310 with no session (each test starts from ``available``)."""
    wait_state(rt310, "available", "RT310")
    return rt310


@pytest.fixture
def reactors() -> Iterator[list[Reactor]]:
    """Reactors made by a test; every one is disconnected at teardown."""
    made: list[Reactor] = []
    yield made
    for reactor in made:
        reactor.disconnect_sync()


def connect(url: str, made: list[Reactor], label: str) -> Reactor:
    """A connected Reactor on ``url``; prints the connect → READY time (a figure, not a check)."""
    reactor = Reactor(TOY_MODEL, local=True, local_url=url)
    made.append(reactor)
    t0 = time.monotonic()
    reactor.connect_sync(timeout=30)
    print(f"\n{label}: connect -> READY {1000 * (time.monotonic() - t0):.0f} ms")
    return reactor


def colour_at(frame: np.ndarray) -> tuple[int, int, int]:
    """Median colour of the frame below the index code."""
    return tuple(int(v) for v in np.median(frame[H // 2 :, :, :].reshape(-1, 3), axis=0))


def next_frame(reactor: Reactor) -> np.ndarray:
    """The next frame to arrive (waits, bounded)."""
    got = reactor.frames.wait_next(reactor.frames.seq, timeout=10)
    assert got is not None, "no frame within 10 s"
    return got[0]


def close(rgb: tuple[int, int, int], want: tuple[int, int, int], tol: int = 12) -> bool:
    return all(abs(a - b) <= tol for a, b in zip(rgb, want, strict=True))


def test_connect_frames_schema(rt310_idle: Rt310Server, reactors: list[Reactor]) -> None:
    reactor = connect(rt310_idle.url, reactors, "RT310 loopback, default STUN")
    assert reactor.status is ReactorStatus.READY
    assert reactor.get_session_id() == ZERO_UUID
    info = reactor.get_session_info() or {}
    assert info["state"] == "waiting" and info["server_info"]["server_version"] == "3.10.0"
    assert info["capabilities"]["commands"] == []
    poll_until(lambda: reactor.commands, 10, "commands from requestSchema")
    (spec,) = reactor.commands
    assert spec.name == "set_color"
    assert [(p.name, p.type, p.required, p.minimum, p.maximum) for p in sorted(spec.params, key=lambda p: p.name)] == [
        ("b", "integer", True, 0, 255), ("g", "integer", True, 0, 255), ("r", "integer", True, 0, 255)
    ]
    start = reactor.frames.seq
    poll_until(lambda: reactor.frames.seq >= start + 30, 15, "30 frames")
    frame = next_frame(reactor)
    assert frame.shape == (H, W, 3)
    assert close(colour_at(frame), DEFAULT_COLOR)
    indices = [framecode.read_index(f) for f in reactor.frames.to_array(last=20)]
    assert None not in indices and increasing_run(indices), indices


def test_command_reply_pixels(rt310_idle: Rt310Server, reactors: list[Reactor]) -> None:
    reactor = connect(rt310_idle.url, reactors, "RT310 reply")
    poll_until(lambda: reactor.commands, 10, "commands from requestSchema")
    result = reactor.send_command_and_wait_sync("set_color", {"r": 220, "g": 40, "b": 30}, timeout=10)
    assert result.reply == {"type": "color_set", "data": {"r": 220, "g": 40, "b": 30}}
    assert all(type(v) is int for v in result.data.values())  # RT310 sends 220.0: the schema says integer
    assert result.confirmed
    poll_until(lambda: close(colour_at(next_frame(reactor)), (220, 40, 30)), 10, "new colour in the pixels")


def test_start_session_conflict_and_stop_quirks(rt310_idle: Rt310Server, reactors: list[Reactor]) -> None:
    first = connect(rt310_idle.url, reactors, "RT310 first client")
    second = Reactor(TOY_MODEL, local=True, local_url=rt310_idle.url)
    reactors.append(second)
    with pytest.raises(ConflictError) as info:
        second.connect_sync(timeout=10)
    text = str(info.value)
    assert "already runs another session" in text and "60 s on reactor-runtime 3.x" in text, text
    assert "cannot start session while" in text, text
    assert second.status is ReactorStatus.DISCONNECTED
    assert first.status is ReactorStatus.READY  # the refused client did not stop the first one's session
    errors: list[Any] = []
    first.on("error", errors.append)
    first.disconnect_sync()
    wait_state(rt310_idle, "available", "RT310", 10)
    assert http_json("POST", f"{rt310_idle.url}/stop_session")[0] == 409  # nothing left to stop
    first.connect_sync(timeout=30)
    rt310_idle.stop_session()  # ended behind the client's back: its own stop then gets 409
    first.disconnect_sync()
    assert errors == []


def _host_ipv4() -> str:
    """This machine's outward IPv4 address (what aiortc offers as a host candidate)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.connect(("198.51.100.1", 9))  # no packet is sent: picks the route's source address
        return str(sock.getsockname()[0])


def test_unreachable_stun_over_a_non_loopback_address(rt310_python: Any, reactors: list[Reactor]) -> None:
    """A runtime advertising a STUN server nobody answers, reached over a LAN address: the SDK
    offers on host candidates at once and trickles what STUN finds (nothing) afterwards."""
    server = Rt310Server(rt310_python, env={"STUN_SERVERS": UNREACHABLE_STUN, "HOST": "0.0.0.0"})
    try:
        url = server.start().replace("127.0.0.1", _host_ipv4())
        reactor = connect(url, reactors, "RT310 over LAN address, unreachable STUN")
        start = reactor.frames.seq
        poll_until(lambda: reactor.frames.seq >= start + 10, 15, "10 frames")
        assert close(colour_at(next_frame(reactor)), DEFAULT_COLOR)
        reactor.disconnect_sync()
    finally:
        server.stop()


def test_v1_rejections_carry_the_models_code_and_message(rt310_idle: Rt310Server, reactors: list[Reactor]) -> None:
    """Wire v1 (chosen from the 3.x descriptor): the model's CommandError and the runtime's own
    validation error come back for the request that caused them."""
    reactor = connect(rt310_idle.url, reactors, "RT310 v1")
    assert reactor.wire == "v1"
    poll_until(lambda: reactor.commands, 10, "commands from request_schema")
    with pytest.raises(CommandRejectedError) as info:
        reactor.send_command_and_wait_sync("set_color", {"r": 13, "g": 13, "b": 13}, timeout=10)
    err = info.value
    assert (err.command, err.model_code, err.field) == ("set_color", "unlucky", None)
    assert err.model_message == "set_color: 13/13/13 is refused by the toy model"
    with pytest.raises(CommandRejectedError) as info:  # skip our validation: the runtime's own check
        reactor.send_command_and_wait_sync("set_color", {"r": 300, "g": 0, "b": 0}, timeout=10, validate=False)
    assert (info.value.model_code, info.value.field) == ("invalid_command", "r")
    assert reactor.last_rejection is not None and reactor.last_rejection.code == "invalid_command"
    reply = asyncio.run(reactor.request_control({"request_schema": {}}, 10))  # the API steps/clips build on
    assert reply["kind"] == "response" and "/events/set_color" in reply["model_schema"]["openapi"]["paths"]
    ok = reactor.send_command_and_wait_sync("set_color", {"r": 5, "g": 6, "b": 7}, timeout=10)
    assert ok.confirmed and ok.request_id and ok.data == {"r": 5, "g": 6, "b": 7}
    poll_until(lambda: close(colour_at(next_frame(reactor)), (5, 6, 7)), 10, "new colour in the pixels")


def test_v0_on_request_still_works(rt310_idle: Rt310Server, reactors: list[Reactor]) -> None:
    """wire='v0' keeps the JSON envelope with 3.10 (it serves both): replies arrive as messages."""
    reactor = Reactor(TOY_MODEL, local=True, local_url=rt310_idle.url, wire="v0")
    reactors.append(reactor)
    reactor.connect_sync(timeout=30)
    assert reactor.wire == "v0"
    poll_until(lambda: reactor.commands, 10, "commands from requestSchema")
    result = reactor.send_command_and_wait_sync("set_color", {"r": 9, "g": 8, "b": 7}, timeout=10)
    assert result.reply == {"type": "color_set", "data": {"r": 9, "g": 8, "b": 7}} and result.confirmed
    with pytest.raises(ReactorException, match="this session speaks wire v0"):
        asyncio.run(reactor.request_control({"request_schema": {}}))


def test_v1_rejection_reaches_the_widget(rt310_idle: Rt310Server, reactors: list[Reactor]) -> None:
    """A fire-and-forget ``w.send`` refused over v1 shows next to its form (``model_error``)."""
    from reactor_notebook.widget import ReactorWidget

    reactor = connect(rt310_idle.url, reactors, "RT310 widget")
    poll_until(lambda: reactor.commands, 10, "commands from request_schema")
    w = ReactorWidget(reactor)
    try:
        w.send_command("set_color", r=13, g=13, b=13)
        poll_until(lambda: w.model_error, 10, "model_error")
        assert {k: w.model_error[k] for k in ("command", "reason", "message")} == {
            "command": "set_color", "reason": "unlucky", "message": "set_color: 13/13/13 is refused by the toy model"
        }
    finally:
        w.close()


def test_recoverable_disconnect_and_reconnect_over_v1(rt310_idle: Rt310Server, reactors: list[Reactor]) -> None:
    reactor = connect(rt310_idle.url, reactors, "RT310 reconnect")
    errors: list[Any] = []
    reactor.on("error", errors.append)
    reactor.disconnect_sync(recoverable=True)
    assert reactor.get_status() is ReactorStatus.DISCONNECTED and reactor.get_session_id() == ZERO_UUID
    assert rt310_idle.state() == "serving"  # the session is kept (its orphan timeout is 60 s)
    reactor.reconnect_sync()
    assert reactor.get_status() is ReactorStatus.READY and reactor.wire == "v1" and errors == []
    poll_until(lambda: reactor.commands, 10, "commands")
    result = reactor.send_command_and_wait_sync("set_color", {"r": 40, "g": 50, "b": 60}, timeout=10)
    assert result.data == {"r": 40, "g": 50, "b": 60}
    poll_until(lambda: close(colour_at(next_frame(reactor)), (40, 50, 60)), 10, "new colour after reconnect")


def test_schema_and_capabilities_requests_over_v1(rt310_idle: Rt310Server, reactors: list[Reactor]) -> None:
    reactor = connect(rt310_idle.url, reactors, "RT310 schema request")
    schema = asyncio.run(reactor.request_schema(timeout=10))
    assert schema["info"]["title"] == TOY_MODEL and "/events/set_color" in schema["paths"]
    with pytest.raises(ReactorException, match="requestCapabilities does not exist on wire v1"):
        asyncio.run(reactor.request_capabilities())

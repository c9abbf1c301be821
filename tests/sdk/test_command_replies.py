"""Command replies and rejections from our runtime over both wires (real runtime, real aiortc).

Our runtime serves v1 (the SDK's default with it) and v0. On v1 the runtime answers each command's
``request_id``; v0 carries no correlation id, so the SDK matches a rejection by the command it
names and a reply by the message type the schema declares for the command (testpattern:
``color_set``). Every test runs on both.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest

from reactor_notebook.runtime import LocalRuntime
from reactor_notebook.sdk import (
    CommandRejectedError,
    CommandReply,
    NotReadyError,
    Reactor,
    Rejection,
)


@pytest.fixture(scope="module")
def helios_runtime() -> Iterator[LocalRuntime]:
    with LocalRuntime(model="helios", port=0) as rt:
        yield rt


@pytest.fixture(params=["v0", "v1"])
def wire(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def helios(helios_runtime: LocalRuntime, wire: str) -> AsyncIterator[Reactor]:
    r = Reactor("helios", local=True, local_url=helios_runtime.url, wire=wire)
    await r.connect()
    assert r.wire == wire
    try:
        yield r
    finally:
        await r.disconnect()


async def test_reply_declared_by_the_schema(runtime: LocalRuntime, wire: str) -> None:
    r = Reactor("testpattern", local=True, local_url=runtime.url, wire=wire)
    await r.connect()
    try:
        result = await r.send_command_and_wait("set_color", {"r": 1, "g": 2, "b": 3}, timeout=5)
        assert isinstance(result, CommandReply)
        assert result.reply == {"type": "color_set", "data": {"r": 1, "g": 2, "b": 3}}
        assert result.confirmed and result.command == "set_color"
        assert r.last_rejection is None
    finally:
        await r.disconnect()


async def test_rejection_raises_with_the_models_code_field_and_message(helios: Reactor) -> None:
    with pytest.raises(CommandRejectedError) as info:
        await helios.send_command_and_wait("start", {}, timeout=5)
    err = info.value
    assert (err.command, err.model_code, err.field) == ("start", "invalid_state", None)
    assert err.model_message.startswith("start: no prompt scheduled at chunk 0")
    assert str(err) == f"{err.model_message} [invalid_state]"
    rejection = helios.last_rejection
    assert rejection is not None and (rejection.command, rejection.code) == ("start", "invalid_state")
    assert helios.get_last_error() is None  # a model rejection is not a client error


async def test_past_chunk_names_field_and_both_chunks(helios: Reactor) -> None:
    await helios.send_command_and_wait("schedule_prompt", {"prompt": "a harbour", "chunk": 0}, timeout=1)
    started = await helios.send_command_and_wait("start", {}, timeout=0.5)
    if helios.wire == "v0":  # accepted: v0 has no ack and the schema declares no reply for start
        assert started.reply is None and not started.confirmed
    else:  # v1: the runtime answers the request with the model's event
        assert started.confirmed and started.reply is not None
        assert started.reply["data"]["event"] == "generation_started"
    state = helios.frames.wait_state(lambda s: s.get("current_chunk", 0) >= 2, timeout=10)
    assert state is not None
    with pytest.raises(CommandRejectedError) as info:
        await helios.send_command_and_wait("schedule_prompt", {"prompt": "x", "chunk": 1}, timeout=5)
    err = info.value
    assert (err.model_code, err.field) == ("past_chunk", "chunk")
    assert "schedule_prompt: field 'chunk': chunk 1 is in the past" in str(err)


async def test_fire_and_forget_rejection_is_recorded(helios: Reactor) -> None:
    loop = asyncio.get_running_loop()
    seen: asyncio.Future[Rejection] = loop.create_future()
    helios.on("command_rejected", lambda rej: loop.call_soon_threadsafe(seen.set_result, rej))
    assert await helios.send_command("start", {}) is None  # the seed's signature: returns at once
    rejection = await asyncio.wait_for(seen, 5)
    assert rejection.command == "start" and rejection.code == "invalid_state"
    assert helios.last_rejection == rejection


async def test_wait_needs_ready_and_a_positive_timeout(runtime: LocalRuntime) -> None:
    r = Reactor("testpattern", local=True, local_url=runtime.url)
    with pytest.raises(NotReadyError):
        await r.send_command_and_wait("set_color", {"r": 1, "g": 2, "b": 3})
    with pytest.raises(ValueError, match="timeout must be > 0"):
        await r.send_command_and_wait("set_color", {"r": 1, "g": 2, "b": 3}, timeout=0)


def test_sync_twin(runtime: LocalRuntime, wire: str) -> None:
    r = Reactor("testpattern", local=True, local_url=runtime.url, wire=wire)
    r.connect_sync()
    try:
        result = r.send_command_and_wait_sync("set_color", {"r": 9, "g": 8, "b": 7}, timeout=5)
        assert result.data == {"r": 9, "g": 8, "b": 7}
    finally:
        r.disconnect_sync()

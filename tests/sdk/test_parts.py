"""The Reactor's parts without a network: typed model events, the sync twins, one stats source."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

import pytest

from reactor_notebook.sdk import ModelError, ModelState, Reactor
from reactor_notebook.sdk.loop import get_sdk_loop
from reactor_notebook.sdk.messages import model_error_of, model_state_of
from reactor_notebook.sdk.reader import FrameTiming
from reactor_notebook.sdk.sync import sync_twin


def test_state_and_refusals_parse_once_into_typed_values() -> None:
    state = model_state_of({"type": "state", "data": {"running": True, "current_frame": 7}})
    assert isinstance(state, ModelState) and state.data == {"running": True, "current_frame": 7}
    assert model_state_of({"type": "event", "data": {}}) is None
    typed = model_error_of(
        {"type": "command_error", "data": {"command": "set_prompt", "reason": "missing_field", "field": "prompt",
                                           "message": "set_prompt: field 'prompt': required"}}
    )
    assert typed == ModelError("set_prompt", "prompt", "missing_field", "set_prompt: field 'prompt': required")
    legacy = model_error_of({"type": "event", "data": {"event": "error", "command": "start", "reason": "invalid_state"}})
    assert legacy is not None and legacy.to_dict() == {
        "command": "start", "field": None, "reason": "invalid_state", "message": "start rejected: invalid_state"
    }
    assert model_error_of({"type": "event", "data": {"event": "chunk_complete"}}) is None


def test_the_session_emits_state_and_model_error_beside_message() -> None:
    r = Reactor("helios", local=True, local_url="http://127.0.0.1:9")
    seen: list[tuple[str, Any]] = []
    for event in ("message", "state", "model_error", "command_rejected"):
        r.on(event, lambda value, event=event: seen.append((event, value)))  # type: ignore[misc]
    r._on_application_message({"type": "state", "data": {"running": True}})
    r._on_application_message({"type": "command_error", "data": {"command": "x", "reason": "unknown_command", "message": "no x"}})
    kinds = [k for k, _ in seen]
    assert kinds == ["message", "state", "command_rejected", "message", "model_error"]
    assert seen[1][1].data == {"running": True} and r.model_state == {"running": True}
    assert seen[4][1] == ModelError("x", None, "unknown_command", "no x")


def test_sync_twins_keep_the_signatures_and_bounds() -> None:
    assert str(inspect.signature(Reactor.disconnect_sync)) == "(self, recoverable: 'bool' = False, timeout: 'float | None' = 30.0) -> 'None'"
    assert "timeout: 'float | None' = 10.0" in str(inspect.signature(Reactor.send_command_sync))
    assert list(inspect.signature(Reactor.connect_sync).parameters) == ["self", "timeout", "session_id", "extra_configs"]
    assert Reactor.step_sync.__name__ == "step_sync" and Reactor.connect_sync.__doc__


class _Doubler:
    _sdk = get_sdk_loop()

    async def double(self, x: int, *, timeout: float = 1.0) -> tuple[int, bool]:
        await asyncio.sleep(0)
        return 2 * x, self._sdk.in_loop_thread()

    async def slow(self) -> None:
        await asyncio.sleep(5)

    double_sync = sync_twin(double, wait=lambda self, timeout: timeout)
    slow_sync = sync_twin(slow, timeout=0.2)


def test_a_twin_runs_on_the_sdk_loop_and_honours_its_timeout() -> None:
    assert _Doubler().double_sync(21) == (42, True)
    with pytest.raises(TimeoutError):
        _Doubler().slow_sync()


def test_frame_counters_are_the_one_source_of_frame_stats() -> None:
    r = Reactor("helios", local=True, local_url="http://127.0.0.1:9")
    r._frame_counters.on_frame(FrameTiming(convert_ms=1.5, decode_ms=None, age_ms=4.0))
    r._frame_counters.on_frame(FrameTiming(convert_ms=2.0, decode_ms=3.0, age_ms=None))
    stats = r.get_stats()
    assert (stats["frames_received"], stats["convert_ms"], stats["decode_ms"], stats["frame_age_ms"]) == (2, 2.0, 3.0, 4.0)

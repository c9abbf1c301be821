"""Determinism and offline replay, message families, and the served command schema."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from helios_support import C, b64, image_bytes, run, started

from reactor_notebook.framecode import read_index
from reactor_notebook.runtime.models.helios_sim import HeliosSim
from reactor_notebook.runtime.models.helios_spec import COMMANDS, message_schemas
from reactor_notebook.schema import (
    CommandValidationError,
    legacy_capabilities,
    normalize_commands,
    openapi_schema,
)

# (frame count at which to apply, command, args): a session with every kind of conditioning change.
SCRIPT: list[tuple[int, str, dict[str, Any]]] = [
    (0, "schedule_prompt", {"prompt": "A foggy harbour at dawn", "chunk": 0}),
    (0, "schedule_prompt", {"prompt": "Boats leave the harbour", "chunk": 2}),
    (0, "start", {}),
    (10, "set_image", {"image_b64": b64(image_bytes(120, 80, (40, 200, 90))), "transition": "blend"}),
    (40, "set_image_strength", {"image_strength": 0.5}),
    (50, "set_prompt", {"prompt": "Night falls"}),
    (70, "pause", {}),
    (110, "clear_image", {}),
    (112, "resume", {}),
    (140, "set_sr_scale", {"sr_scale": "2x"}),
]


def replay(seed: int, script: list[tuple[int, str, dict[str, Any]]], total: int) -> tuple[list[np.ndarray], list]:
    """Apply ``script`` at the given step counts; return every output frame and message."""
    sim = HeliosSim(seed=seed)
    frames, msgs, i = [], [], 0
    for step in range(total):
        while i < len(script) and script[i][0] == step:
            msgs.extend(sim.apply(script[i][1], script[i][2]))
            i += 1
        frame, m = sim.step()
        frames.append(frame)
        msgs.extend(m)
    return frames, msgs


def test_same_seed_and_commands_give_byte_identical_frames_and_messages() -> None:
    a_frames, a_msgs = replay(7, SCRIPT, 190)
    b_frames, b_msgs = replay(7, SCRIPT, 190)
    assert a_msgs == b_msgs
    assert all(a.tobytes() == b.tobytes() for a, b in zip(a_frames, b_frames, strict=True))
    assert a_frames[-1].shape == (768, 1280, 3)


def test_different_seeds_or_prompts_give_different_frames() -> None:
    base, _ = replay(7, SCRIPT[:3], 40)
    other_seed, _ = replay(8, SCRIPT[:3], 40)
    changed = [SCRIPT[0], (0, "schedule_prompt", {"prompt": "A foggy harbour at dusk", "chunk": 0}), SCRIPT[2]]
    other_prompt, _ = replay(7, changed, 40)
    for i in (0, 20, 39):
        assert read_index(base[i]) == read_index(other_seed[i]) == read_index(other_prompt[i]) == i
        assert not np.array_equal(base[i], other_seed[i])
        assert not np.array_equal(base[i], other_prompt[i])


def test_render_replays_any_latched_frame_and_wall_clock_plays_no_part() -> None:
    sim = started(prompts={0: "a", 1: "b"})
    sim.apply("set_image", {"image_b64": b64(image_bytes()), "transition": "blend"})
    frames, _ = run(sim, 3 * C)
    for g in (0, 32, 33, 50, 98):
        assert np.array_equal(sim.render(g), frames[g])
    try:
        sim.render(5 * C)
    except ValueError as exc:
        assert "chunk 5, which is not latched (latched chunks: 0-3)" in str(exc)
    else:
        raise AssertionError("render of an unlatched chunk must fail")


def test_legacy_typed_and_both_message_families() -> None:
    def session(mode: str) -> list[dict[str, Any]]:
        sim = HeliosSim(messages=mode)
        out = sim.apply("schedule_prompt", {"prompt": "a", "chunk": 0})
        out += sim.apply("schedule_prompt", {"prompt": "b", "chunk": 1})
        out += sim.apply("set_image", {"image_b64": b64(image_bytes())})
        out += sim.apply("start")
        out += sim.apply("pause")
        out += run(sim, C)[1]
        out += sim.apply("resume")
        try:
            sim.apply("start")
        except CommandValidationError as err:
            out += sim.error_messages(err)
        return out

    legacy = session("legacy")
    assert {m["type"] for m in legacy} == {"event", "state"}
    assert [m["data"]["event"] for m in legacy if m["type"] == "event"] == [
        "prompt_scheduled", "prompt_scheduled", "image_set", "generation_started",
        "generation_paused", "generation_resumed", "prompt_switched", "error",
    ]
    assert legacy[-1]["data"] == {
        "event": "error", "command": "start", "field": None, "reason": "invalid_state",
        "message": "start: generation is already started (running; reset to start over)",
    }
    typed = session("typed")
    assert [m["type"] for m in typed if m["type"] != "state"] == [
        "prompt_accepted", "conditions_ready", "prompt_accepted", "conditions_ready", "image_accepted",
        "conditions_ready", "generation_started", "chunk_complete", "generation_paused", "generation_resumed",
        "command_error",
    ]
    by_type = {m["type"]: m["data"] for m in typed}
    assert by_type["image_accepted"] == {"width": 100, "height": 60, "downscaled": False}
    assert by_type["conditions_ready"] == {"has_image": True}
    assert by_type["chunk_complete"] == {"chunk": 0, "frame": C - 1}
    assert by_type["generation_paused"] == {"frame": C, "chunk": 1}
    assert by_type["command_error"]["reason"] == "invalid_state" and by_type["command_error"]["command"] == "start"
    both = session("both")
    assert len(both) == len(legacy) + len(typed) - sum(m["type"] == "state" for m in typed)


def test_schema_in_both_formats_round_trips() -> None:
    tracks = [{"name": "main_video", "kind": "video", "direction": "recvonly"}]
    caps = legacy_capabilities(COMMANDS, tracks, 24.0)
    a = {c["name"]: c["schema"] for c in caps["commands"]}
    assert "image" not in a["set_image"] and a["set_image"]["image_b64"]["required"] is True
    assert a["schedule_prompt"]["chunk"] == {
        "type": "integer", "description": "0-based chunk index (33 frames each)", "minimum": 0,
        "maximum": 1_000_000, "required": True,
    }
    doc = openapi_schema("helios", "sim-1", "Simulated Helios", COMMANDS, tracks, message_schemas())
    body = doc["paths"]["/events/set_conditioning"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["prompt"] and "image" in body["properties"]
    assert "required" not in doc["paths"]["/events/set_image"]["post"]["requestBody"]["content"][
        "application/json"]["schema"]
    assert set(doc["webhooks"]) >= {"state", "event", "command_error"}
    for norm in (normalize_commands(caps, None), normalize_commands(caps, doc)):
        table = {c.name: c for c in norm}
        assert set(table) == {c.name for c in COMMANDS}
        assert table["set_seed"].param("seed").minimum == -1
        assert table["set_sr_scale"].param("sr_scale").enum == ("off", "2x", "4x")


def test_latched_history_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from reactor_notebook.runtime.models import helios_sim

    monkeypatch.setattr(helios_sim, "LOOK_HISTORY", 4)
    sim = started()
    sim.apply("set_image", {"image_b64": b64(image_bytes())})
    run(sim, 9 * C)
    assert sorted(sim.looks) == [6, 7, 8, 9]
    assert sim.state()["current_prompt"] == "A foggy harbour at dawn"
    try:
        sim.render(0)
    except ValueError as exc:
        assert "latched chunks: 6-9" in str(exc)
    else:
        raise AssertionError("a pruned chunk must not render")

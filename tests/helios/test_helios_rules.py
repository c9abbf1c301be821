"""Helios lifecycle and scheduling rules (protocol.md §6.1-§6.3) on the pure simulation."""

from __future__ import annotations

import numpy as np
from helios_support import C, diff, events, rejected, run, started, states

from reactor_notebook.framecode import read_index
from reactor_notebook.runtime.models.helios_render import IDLE_INDEX
from reactor_notebook.runtime.models.helios_sim import HeliosSim

# A fresh simulation's state (and what reset returns to, but for the settings that survive it).
IDLE_STATE = {
    "running": False,
    "paused": False,
    "started": False,
    "current_frame": 0,
    "current_chunk": 0,
    "current_prompt": None,
    "scheduled_prompts": {},
    "image_set": False,
    "seed": 0,
    "image_strength": 1.0,
    "sr_scale": "off",
    "pause_pending": False,
}
STATE_FIELDS = set(IDLE_STATE)


def test_initial_state_and_idle_card_do_not_count_frames() -> None:
    sim = HeliosSim()
    assert sim.state() == IDLE_STATE
    frames, msgs = run(sim, 5)
    assert msgs == [] and sim.current_frame == 0
    assert all(f.shape == (384, 640, 3) and read_index(f) == IDLE_INDEX for f in frames)


def test_start_needs_a_chunk_0_prompt_and_only_once() -> None:
    sim = HeliosSim()
    err = rejected(sim, "start")
    assert (err.reason, err.field) == ("invalid_state", None)
    assert str(err) == (
        "start: no prompt scheduled at chunk 0 (scheduled chunks: none); "
        "use set_prompt or schedule_prompt with chunk 0 first"
    )
    sim.apply("schedule_prompt", {"prompt": "later", "chunk": 3})
    assert "scheduled chunks: 3" in str(rejected(sim, "start"))
    sim.apply("schedule_prompt", {"prompt": "first", "chunk": 0})
    msgs = sim.apply("start")
    assert events(msgs) == [{"event": "generation_started", "prompt": "first", "seed": 0}]
    (st,) = states(msgs)
    assert set(st) == STATE_FIELDS
    assert st["started"] and st["running"] and not st["paused"] and st["current_prompt"] == "first"
    err = rejected(sim, "start")
    assert err.reason == "invalid_state" and "already started (running" in str(err)


def test_frames_count_and_carry_their_global_index() -> None:
    sim = started()
    frames, msgs = run(sim, 2 * C + 1)
    assert [read_index(f) for f in frames] == list(range(2 * C + 1))
    assert sim.current_frame == 2 * C + 1 and sim.current_chunk == 2
    # one state per chunk start, with the invariant current_chunk == current_frame // 33
    assert [(s["current_frame"], s["current_chunk"]) for s in states(msgs)] == [(C, 1), (2 * C, 2)]


def test_schedule_overwrites_and_generation_reuses_the_last_prompt() -> None:
    sim = HeliosSim()
    sim.apply("schedule_prompt", {"prompt": "one", "chunk": 0})
    msgs = sim.apply("schedule_prompt", {"prompt": "two", "chunk": 0})
    assert events(msgs) == [{"event": "prompt_scheduled", "chunk": 0, "prompt": "two"}]
    assert states(msgs)[0]["scheduled_prompts"] == {"0": "two"}
    sim.apply("start")
    _, msgs = run(sim, 4 * C)
    assert events(msgs, "prompt_switched") == []
    assert all(s["current_prompt"] == "two" for s in states(msgs))


def test_prompt_switches_at_the_chunk_boundary_in_state_events_and_pixels() -> None:
    sim = started(prompts={0: "A foggy harbour at dawn", 2: "Boats leave the harbour"})
    frames, msgs = run(sim, 3 * C)
    (sw,) = events(msgs, "prompt_switched")
    assert sw == {
        "event": "prompt_switched",
        "frame": 2 * C,
        "chunk": 2,
        "new_prompt": "Boats leave the harbour",
        "previous_prompt": "A foggy harbour at dawn",
    }
    assert [s["current_prompt"] for s in states(msgs)] == [
        "A foggy harbour at dawn",
        "Boats leave the harbour",
        "Boats leave the harbour",
    ]
    # smooth motion inside a chunk, a visible cut at the switch
    inside = diff(frames[2 * C - 2], frames[2 * C - 1])
    across = diff(frames[2 * C - 1], frames[2 * C])
    assert across > 20 and across > 4 * inside
    unchanged = started(prompts={0: "A foggy harbour at dawn"})
    same_frames, _ = run(unchanged, 2 * C + 1)
    assert diff(same_frames[2 * C - 1], same_frames[2 * C]) < 4 * max(inside, 1.0)


def test_past_chunk_names_both_chunks_and_scheduling_while_running_works() -> None:
    sim = started()
    run(sim, 4 * C + 3)  # running in chunk 4
    err = rejected(sim, "schedule_prompt", {"prompt": "late", "chunk": 2})
    assert (err.reason, err.field) == ("past_chunk", "chunk")
    assert str(err) == "schedule_prompt: field 'chunk': chunk 2 is in the past (first open chunk is 5)"
    assert "first open chunk is 5" in str(rejected(sim, "schedule_prompt", {"prompt": "now", "chunk": 4}))
    msgs = sim.apply("schedule_prompt", {"prompt": "next", "chunk": 5})
    assert states(msgs)[0]["scheduled_prompts"] == {"0": "A foggy harbour at dawn", "5": "next"}
    _, msgs = run(sim, C)
    assert events(msgs, "prompt_switched")[0]["chunk"] == 5


def test_set_prompt_targets_the_first_open_chunk() -> None:
    sim = HeliosSim()
    assert events(sim.apply("set_prompt", {"prompt": "zero"}))[0]["chunk"] == 0
    sim.apply("start")
    run(sim, 5)
    assert events(sim.apply("set_prompt", {"prompt": "one"}))[0]["chunk"] == 1  # running in chunk 0
    sim.apply("pause")
    assert events(sim.apply("set_prompt", {"prompt": "still one"}))[0]["chunk"] == 1  # pause pending = running
    run(sim, C - 5)  # pause takes effect: current chunk 1, not begun
    assert sim.state()["paused"] and sim.current_chunk == 1
    assert events(sim.apply("set_prompt", {"prompt": "paused one"}))[0]["chunk"] == 1
    msgs = sim.apply("resume")
    assert events(msgs, "prompt_switched")[0]["new_prompt"] == "paused one"
    assert states(msgs)[0]["current_prompt"] == "paused one"


def test_pause_takes_effect_at_the_end_of_the_chunk_and_holds_the_last_frame() -> None:
    sim = started()
    run(sim, 10)
    msgs = sim.apply("pause")
    st = states(msgs)[0]
    assert st["pause_pending"] and st["running"] and not st["paused"] and events(msgs) == []
    assert states(sim.apply("pause"))[0] == st  # repeat is a no-op
    frames, msgs = run(sim, C - 10)
    assert read_index(frames[-1]) == C - 1
    (paused,) = events(msgs, "generation_paused")
    assert paused == {"event": "generation_paused", "frame": C, "chunk": 1}
    st = states(msgs)[-1]
    assert (st["running"], st["paused"], st["pause_pending"], st["current_frame"]) == (False, True, False, C)
    held, msgs = run(sim, 5)
    assert msgs == [] and sim.current_frame == C
    assert all(np.array_equal(h, frames[-1]) for h in held)
    assert states(sim.apply("pause"))[0]["paused"]  # pausing while paused: no-op, still accepted


def test_resume_cancels_a_pending_pause_or_resumes_at_once() -> None:
    sim = started()
    run(sim, 3)
    sim.apply("pause")
    msgs = sim.apply("resume")
    assert events(msgs) == [] and states(msgs)[0]["pause_pending"] is False
    _, msgs = run(sim, C)
    assert events(msgs, "generation_paused") == [] and sim.running
    assert events(sim.apply("resume")) == []  # running: no-op
    sim.apply("pause")
    run(sim, C)
    assert sim.paused and sim.current_frame == 2 * C
    msgs = sim.apply("resume")
    assert events(msgs) == [{"event": "generation_resumed", "frame": 2 * C, "chunk": 2}]
    assert states(msgs)[0]["running"] and not states(msgs)[0]["paused"]
    frames, _ = run(sim, 2)
    assert [read_index(f) for f in frames] == [2 * C, 2 * C + 1]


def test_pause_and_resume_need_a_started_generation() -> None:
    sim = HeliosSim()
    for cmd in ("pause", "resume"):
        err = rejected(sim, cmd)
        assert err.reason == "invalid_state"
        assert str(err) == f"{cmd}: generation is not started (schedule a prompt at chunk 0, then start)"


def test_reset_stops_at_once_and_keeps_seed_strength_and_sr_scale(png: bytes) -> None:
    sim = HeliosSim(seed=5)
    sim.apply("set_image_strength", {"image_strength": 0.4})
    sim.apply("set_sr_scale", {"sr_scale": "2x"})
    sim.apply("set_image", {"image_b64": png})
    sim.apply("schedule_prompt", {"prompt": "a", "chunk": 0})
    sim.apply("schedule_prompt", {"prompt": "b", "chunk": 9})
    sim.apply("start")
    run(sim, C + 7)  # mid-chunk
    msgs = sim.apply("reset")
    assert events(msgs) == [{"event": "generation_reset", "frame": C + 7, "chunk": 1}]
    st = states(msgs)[0]
    assert st == {**IDLE_STATE, "seed": 5, "image_strength": 0.4, "sr_scale": "2x"}  # settings survive
    frames, msgs = run(sim, 3)
    assert msgs == [] and all(read_index(f) == IDLE_INDEX and f.shape == (768, 1280, 3) for f in frames)
    assert rejected(sim, "start").reason == "invalid_state"
    sim.apply("set_prompt", {"prompt": "again"})
    sim.apply("start")
    assert [read_index(f) for f in run(sim, 2)[0]] == [0, 1]


def test_reset_while_paused_and_before_start() -> None:
    sim = HeliosSim()
    assert events(sim.apply("reset")) == [{"event": "generation_reset", "frame": 0, "chunk": 0}]
    sim = started()
    sim.apply("pause")
    run(sim, C)
    assert sim.paused
    sim.apply("reset")
    assert not sim.paused and not sim.started and read_index(sim.step()[0]) == IDLE_INDEX


def test_settings_change_from_the_first_open_chunk_only() -> None:
    sim = started()
    run(sim, 5)
    sim.apply("set_image_strength", {"image_strength": 0.25})
    assert sim.look(0).image_strength == 1.0
    run(sim, C - 5)
    assert sim.look(1).image_strength == 0.25

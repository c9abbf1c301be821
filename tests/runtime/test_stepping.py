"""Stepped generation at the model interface: real models, real HeliosSim replay, specific refusals."""

from __future__ import annotations

import numpy as np
import pytest

from reactor_notebook.runtime.models import create_model
from reactor_notebook.runtime.models.helios_sim import HeliosSim
from reactor_notebook.runtime.models.helios_spec import CHUNK_FRAMES
from reactor_notebook.runtime.stepping import Stepper, StepRefused, StepRequest


def stepper(name: str, **options: object) -> Stepper:
    model = create_model(name, **options)
    return Stepper(model, model.commands(), model.tracks)


def replay(
    steps: list[tuple[dict[str, object], list[str]]], seed: int = 0, frames: int = CHUNK_FRAMES
) -> list[np.ndarray]:
    """The documented Helios step, written with HeliosSim's public API only."""
    sim = HeliosSim(seed=seed)
    out = []
    for state, commands in steps:
        for key in sorted(state):
            sim.apply(f"set_{key}", {key: state[key]})
        for command in commands:
            sim.apply(command)
        if sim.started:
            if sim.paused:
                sim.apply("resume")
            sim.apply("pause")
        out.append(np.stack([sim.step()[0] for _ in range(frames)]))
    return out


def test_helios_steps_equal_heliossim_replay_frame_for_frame() -> None:
    plan: list[tuple[dict[str, object], list[str]]] = [
        ({"prompt": "a red fox", "seed": 7.0}, ["start"]),  # Struct numbers arrive as doubles
        ({"prompt": "a blue sea"}, []),
        ({}, []),
    ]
    s = stepper("helios")
    got = [s.run(s.prepare(StepRequest(state=st, commands=[(c, {}, {}) for c in cmds]))) for st, cmds in plan]
    want = replay([(dict(st, seed=7) if "seed" in st else st, cmds) for st, cmds in plan])
    assert [o.step for o in got] == [1, 2, 3]
    for out, frames in zip(got, want, strict=True):
        video = out.tracks["main_video"]
        assert video.shape == (CHUNK_FRAMES, 384, 640, 3) and video.dtype == np.uint8
        assert np.array_equal(video, frames)
    # The second step's own chunk carries its prompt: it differs from the first chunk's look.
    assert not np.array_equal(got[0].tracks["main_video"][0], got[1].tracks["main_video"][0])
    assert s.model.sim.current_prompt == "a blue sea"  # type: ignore[attr-defined]


def test_helios_step_frames_option_and_idle_card_before_start() -> None:
    s = stepper("helios", step_frames=5)
    out = s.run(s.prepare(StepRequest()))
    assert out.tracks["main_video"].shape == (5, 384, 640, 3)
    assert np.array_equal(out.tracks["main_video"][0], out.tracks["main_video"][4])  # idle card holds
    with pytest.raises(ValueError, match="step_frames must be an integer 1-330"):
        create_model("helios", step_frames=0)


def test_testpattern_step_is_four_frames_and_counts_media() -> None:
    s = stepper("testpattern")
    frames = [np.full((48, 64, 3), 9, np.uint8)] * 3
    out = s.run(s.prepare(StepRequest(commands=[("set_color", {"r": 1, "g": 2, "b": 3}, {})],
                                      media=[("webcam", frames)])))
    video = out.tracks["main_video"]
    assert video.shape == (4, 384, 640, 3)
    assert tuple(video[0, 192, 320]) == (1, 2, 3)  # the command applied before the step's frames
    assert s.model.input_frames == {"webcam": 3}  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("model", "request_", "entry", "text"),
    [
        ("helios", StepRequest(state={"colour": 1}), "state.colour", "no command 'set_colour'"),
        ("helios", StepRequest(state={"seed": "x"}), "state.seed", "expected integer"),
        ("helios", StepRequest(commands=[("rewind", {}, {})]), "commands[0]", "unknown command 'rewind'"),
        ("testpattern", StepRequest(media=[("cam", [])]), "media_input[0]", "not an input track"),
        ("testpattern", StepRequest(media=[("webcam", [np.zeros((4, 4), np.uint8)])]),
         "media_input[0].frames[0]", "(height, width, 3) uint8, got uint8 [4, 4]"),
        ("testpattern", StepRequest(media=[("webcam", [np.zeros((4, 4, 3), np.float32)])]),
         "media_input[0].frames[0]", "got float32"),
    ],
)
def test_bad_requests_are_refused_naming_the_entry_and_change_nothing(
    model: str, request_: StepRequest, entry: str, text: str
) -> None:
    s = stepper(model)
    with pytest.raises(StepRefused) as info:
        s.prepare(request_)
    assert info.value.failure == "REFUSED" and info.value.entry == entry and text in info.value.message
    assert s.steps == 0


def test_semantic_rejection_fails_the_step_with_command_failed() -> None:
    s = stepper("helios")
    with pytest.raises(StepRefused) as info:
        s.run(s.prepare(StepRequest(commands=[("start", {}, {})])))  # no prompt at chunk 0
    assert info.value.failure == "COMMAND_FAILED" and info.value.entry == "commands[0]"
    assert "no prompt scheduled at chunk 0" in info.value.message and s.steps == 0

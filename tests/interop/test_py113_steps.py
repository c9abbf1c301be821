"""The official reactor-sdk 1.13.0 stepping our runtime's Helios, frame for frame against HeliosSim.

Real path: our runtime in-process on an ephemeral port, 1.13.0 (Rust/libwebrtc core) in its own
venv as a subprocess (``clients/py113_step.py``), data-channel chunking negotiated between its
native chunking and ours, v1 ``request_step`` → ``step_result`` with RAW RGB frames. Checked:
three Helios steps (state, commands, a prompt change, an empty step) byte-identical to the
offline HeliosSim replay of the documented Helios step; bad steps answered with 1.13's specific
errors (unknown state key → ``StepRefusedError`` naming ``state.colour``, a failing command →
``StepCommandFailedError`` naming ``commands[0]``), and the session steps on afterwards; media
frames sent by 1.13 in a step (chunked client → runtime) reach testpattern's input counter.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from py113_env import PY113

from reactor_notebook.runtime import LocalRuntime
from reactor_notebook.runtime.models.testpattern import TestPattern

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "runtime"))
from test_stepping import replay  # noqa: E402  (the documented Helios step, HeliosSim API only)

CLIENT = HERE / "clients" / "py113_step.py"


@pytest.fixture(scope="module")
def py113() -> Any:
    return PY113.python_for_test()


@pytest.fixture
def helios() -> Iterator[LocalRuntime]:
    with LocalRuntime(model="helios", port=0) as rt:
        yield rt


def run_plan(
    python: Any, url: str, plan: list[dict[str, Any]], tmp: Path, model: str = "helios", *extra: str
) -> tuple[list[dict[str, Any]], Any]:
    plan_path, out = tmp / "plan.json", tmp / "out.npz"
    plan_path.write_text(json.dumps(plan))
    done = subprocess.run(
        [str(python), str(CLIENT), url, model, str(plan_path), str(out), *extra],
        capture_output=True, text=True, timeout=240,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return lines[1:], np.load(out)


def test_three_helios_steps_equal_heliossim_frame_for_frame(py113: Any, helios: LocalRuntime, tmp_path: Path) -> None:
    plan = [
        {"state": {"prompt": "a red fox", "seed": 7}, "commands": [["start", {}]]},
        {"state": {"prompt": "a blue sea"}},
        {},
    ]
    results, arrays = run_plan(py113, helios.url, plan, tmp_path)
    assert [r.get("step") for r in results] == [1, 2, 3], results
    want = replay([(p.get("state", {}), [c for c, _ in p.get("commands", [])]) for p in plan])
    for i, frames in enumerate(want):
        got = arrays[f"step{i}_main_video"]
        assert got.shape == (33, 384, 640, 3) and got.dtype == np.uint8
        assert np.array_equal(got, frames), f"step {i + 1} differs from the HeliosSim replay"
    print("\n1.13 step latency (request -> arrays, 33 frames):", [round(r["latency_ms"]) for r in results], "ms")


def test_bad_steps_get_specific_errors_and_the_session_steps_on(
    py113: Any, helios: LocalRuntime, tmp_path: Path
) -> None:
    plan = [
        {"state": {"colour": "red"}},
        {"commands": [["start", {}]]},  # no prompt at chunk 0: the model refuses start
        {"state": {"prompt": "fine"}, "commands": [["start", {}]]},
    ]
    results, arrays = run_plan(py113, helios.url, plan, tmp_path)
    refused, failed, ok = results
    assert refused["type"] == "StepRefusedError" and refused["entry"] == "state.colour", refused
    assert "no command 'set_colour'" in refused["error"]
    assert failed["type"] == "StepCommandFailedError" and failed["entry"] == "commands[0]", failed
    assert "no prompt scheduled at chunk 0" in failed["error"]
    assert ok["step"] == 1 and arrays["step2_main_video"].shape == (33, 384, 640, 3)


class SeenFrames(TestPattern):
    """testpattern that also keeps every input frame's track, shape and value past the session's end."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, tuple[int, ...], int]] = []

    def on_input_frame(self, track: str, frame: np.ndarray) -> None:
        self.seen.append((track, tuple(frame.shape), int(frame[0, 0, 0])))
        super().on_input_frame(track, frame)


def test_media_frames_reach_the_model_through_chunked_messages(py113: Any, tmp_path: Path) -> None:
    """Client -> runtime chunking: three 640x384 webcam frames (2.2 MB) in one step request."""
    model = SeenFrames()
    with LocalRuntime(model=model, port=0) as rt:
        plan = [
            {"commands": [["set_color", {"r": 5, "g": 6, "b": 7}]], "media": {"webcam": [[384, 640, 9]] * 3}},
            {"media": {"webcam": [[2, 2, 1]]}},
        ]
        results, arrays = run_plan(py113, rt.url, plan, tmp_path, model="testpattern")
        assert [r.get("step") for r in results] == [1, 2], results
        assert model.seen == [("webcam", (384, 640, 3), 9)] * 3 + [("webcam", (2, 2, 3), 1)]
        assert tuple(int(v) for v in arrays["step0_main_video"][0, 192, 320]) == (5, 6, 7)


def test_cloud_like_mode_steps_too(py113: Any, helios: LocalRuntime, tmp_path: Path) -> None:
    """1.13.0 in cloud-like mode (/tokens, POST /sessions with generation, polling) steps the same frames."""
    plan = [{"state": {"prompt": "a red fox", "seed": 7}, "commands": [["start", {}]]}]
    results, arrays = run_plan(py113, helios.url, plan, tmp_path, "helios", "--cloud", "interop-key")
    assert results[0].get("step") == 1, results
    (want,) = replay([({"prompt": "a red fox", "seed": 7}, ["start"])])
    assert np.array_equal(arrays["step0_main_video"], want)

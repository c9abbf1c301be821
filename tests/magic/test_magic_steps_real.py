"""``%reactor step`` and ``%%reactor step`` through the real path (IPython → SDK → aiortc → our runtime)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from reactor_notebook import magic
from reactor_notebook.magic.parse import MagicSyntaxError
from reactor_notebook.magic.steps import parse_step_cell, parse_step_line
from reactor_notebook.runtime import LocalRuntime


def test_step_line_and_cell_parse() -> None:
    state, commands, media, name = parse_step_line(
        'prompt="a red fox" seed=7 --do start --do "set_color r=1 g=2 b=3" --media webcam=cam -o fox'
    )
    assert state == {"prompt": "a red fox", "seed": 7}
    assert commands == [("start", {}), ("set_color", {"r": 1, "g": 2, "b": 3})]
    assert media == {"webcam": "cam"} and name == "fox"
    assert parse_step_line("") == ({}, [], {}, "step_result")
    assert parse_step_cell('prompt="a" seed=3\n# a comment\nstart\nset_color r=1 g=2 b=3') == (
        {"prompt": "a", "seed": 3}, [("start", {}), ("set_color", {"r": 1, "g": 2, "b": 3})]
    )
    with pytest.raises(MagicSyntaxError, match="step: unknown option '--frames'"):
        parse_step_line("--frames 3")
    with pytest.raises(MagicSyntaxError, match="line 2: step: state key 'seed' given twice"):
        parse_step_cell("seed=1\nseed=2")


@pytest.fixture
def shell(monkeypatch: pytest.MonkeyPatch) -> Iterator[InteractiveShell]:
    ip = InteractiveShell.instance()
    monkeypatch.setattr(magic.ReactorMagics, "reactor_factory", None)
    monkeypatch.setattr(magic.ReactorMagics, "runtime_ensure", None)
    magic.unload_ipython_extension(ip)
    magic.load_ipython_extension(ip)
    yield ip
    magic.unload_ipython_extension(ip)
    for name in ("reactor", "step_result", "s2", "cam"):
        ip.user_ns.pop(name, None)


@pytest.mark.timeout(90)
def test_step_verbs_drive_a_stepped_testpattern(shell: InteractiveShell, capsys: pytest.CaptureFixture[str]) -> None:
    with LocalRuntime(model="testpattern", port=0) as rt:
        shell.run_line_magic("reactor", f"connect --local --stepped --model testpattern --url {rt.url}")
        assert shell.user_ns["reactor"].generation == "stepped"
        shell.user_ns["cam"] = np.zeros((2, 32, 32, 3), np.uint8)
        shell.run_line_magic("reactor", 'step --do "set_color r=1 g=2 b=3" --media webcam=cam')
        first = shell.user_ns["step_result"]
        assert first.step == 1 and tuple(int(v) for v in first.frames["main_video"][0, 192, 320]) == (1, 2, 3)
        assert rt.model.input_frames == {"webcam": 2}  # type: ignore[attr-defined]
        assert "step 1: main_video 4 frames 640x384" in capsys.readouterr().out
        shell.run_cell_magic("reactor", "step -o s2", "set_color r=9 g=8 b=7\n")
        second = shell.user_ns["s2"]
        assert second.step == 2 and tuple(int(v) for v in second.frames["main_video"][-1, 192, 320]) == (9, 8, 7)
        with pytest.raises(UsageError, match=r"state\.colour"):
            shell.run_line_magic("reactor", "step colour=1")

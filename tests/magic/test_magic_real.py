"""%reactor through the real path: IPython shell → SDK → aiortc WebRTC → embedded runtime (loopback)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import numpy as np
import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from testutil import free_local_url

from reactor_notebook import magic
from reactor_notebook.framecode import read_index
from reactor_notebook.runtime import LocalRuntime


@pytest.fixture
def shell(monkeypatch: pytest.MonkeyPatch) -> Iterator[InteractiveShell]:
    ip = InteractiveShell.instance()
    monkeypatch.setattr(magic.ReactorMagics, "reactor_factory", None)
    monkeypatch.setattr(magic.ReactorMagics, "runtime_ensure", None)
    magic.unload_ipython_extension(ip)
    magic.load_ipython_extension(ip)
    yield ip
    magic.unload_ipython_extension(ip)  # disconnects and stops what the magic started
    for name in ("reactor", "frames", "meta"):
        ip.user_ns.pop(name, None)


@pytest.mark.timeout(90)
def test_helios_session_driven_by_magics(shell: InteractiveShell, capsys: pytest.CaptureFixture[str]) -> None:
    url = free_local_url()
    shell.run_line_magic("reactor", f"connect --local --url {url}")  # starts the embedded Helios runtime
    mg = magic.get_magics(shell)
    assert mg is not None and mg.runtime is not None and mg.runtime.url == url
    r = shell.user_ns["reactor"]
    assert "ready: helios at" in capsys.readouterr().out
    table = shell.run_line_magic("reactor", "commands")
    assert {"set_prompt", "schedule_prompt", "set_image", "start", "reset"} <= {c.name for c in table.commands}

    shell.run_cell_magic(
        "reactor",
        "--timeout 20",
        """
        reset
        seed 7
        prompt "A foggy harbour at dawn" --chunk 0
        schedule_prompt prompt="Boats leave the harbour" chunk=1   # format: key=value
        start
        @chunk 1
        """,
    )
    state = r.frames.state
    assert state["current_chunk"] >= 1 and state["current_prompt"] == "Boats leave the harbour"
    assert state["seed"] == 7 and state["running"] is True

    shell.run_line_magic("reactor", "record 24 -o frames --meta meta")
    arr = shell.user_ns["frames"]
    assert arr.shape[0] == 24 and arr.shape[1:] == (384, 640, 3) and arr.dtype == np.uint8
    idx = [read_index(f) for f in arr]
    # generated frames (not the idle card), in order; the chunk-1 state may overtake a frame or two, and
    # the runtime repeats its last frame when the model falls behind on a loaded machine
    assert 20 <= idx[0] < 0xFFFF and all(b >= a for a, b in itertools.pairwise(idx)), idx
    assert len(set(idx)) >= 12, idx
    assert list(shell.user_ns["meta"]["seq"]) == sorted(shell.user_ns["meta"]["seq"])

    with pytest.raises(UsageError, match="schedule_prompt: field 'chunk': value -1 is out of range"):
        shell.run_line_magic("reactor", "schedule_prompt prompt=x chunk=-1")
    with pytest.raises(UsageError, match="unknown command 'rewind'"):
        shell.run_line_magic("reactor", "rewind")

    shell.run_line_magic("reactor", "pause")
    shell.run_line_magic("reactor", "status")
    out = capsys.readouterr().out
    assert "status:      ready" in out and "model:       helios" in out and "current_chunk=" in out
    tl = r.frames.timeline()
    sent = tl[tl["kind"] == "command"]["name"].tolist()
    assert sent == ["reset", "set_seed", "schedule_prompt", "schedule_prompt", "start", "pause"]

    shell.run_line_magic("reactor", "disconnect --recoverable")
    assert r.get_status().value == "disconnected"
    shell.run_line_magic("reactor", "reconnect")
    assert r.get_status().value == "ready"
    runtime = mg.runtime
    magic.unload_ipython_extension(shell)
    assert r.get_status().value == "disconnected"
    assert not runtime.running


@pytest.mark.timeout(60)
def test_testpattern_generic_command_changes_pixels(shell: InteractiveShell) -> None:
    with LocalRuntime(model="testpattern", port=0) as rt:
        shell.run_line_magic("reactor", f"connect --url {rt.url} --model testpattern")
        r = shell.user_ns["reactor"]
        shell.run_line_magic("reactor", "set_color r=250 g=10 b=10")
        for frame, _ in r.frames.iter(timeout=10):
            centre = frame[frame.shape[0] // 2, frame.shape[1] // 2].astype(int)
            if centre[0] > 200 and centre[1] < 60 and centre[2] < 60:
                break
        else:
            pytest.fail("the frame centre never turned red after set_color")
        with pytest.raises(UsageError, match="set_color: field 'g': value 256 is out of range"):
            shell.run_line_magic("reactor", "set_color r=0 g=256 b=0")
        shell.run_line_magic("reactor", "disconnect")


@pytest.mark.timeout(90)
def test_show_binds_a_live_widget_and_sleep_pauses_the_script(shell: InteractiveShell) -> None:
    with LocalRuntime(model="testpattern", port=0) as rt:
        shell.run_line_magic("reactor", f"connect --local --url {rt.url} --model testpattern")
        r = shell.user_ns["reactor"]
        shown: list[object] = []
        shell.display_pub.publish = lambda data, **kw: shown.append(data)  # what Jupyter would render
        shell.run_line_magic("reactor", "show -o view")
        w = shell.user_ns["view"]
        from reactor_notebook.widget import ReactorWidget

        assert isinstance(w, ReactorWidget) and w.status == "ready" and w.model_name == "testpattern"
        assert any("application/vnd.jupyter.widget-view+json" in d for d in shown if isinstance(d, dict)), shown
        assert w.comm is not None and w.comm.comm_id in str(shown)

        # @sleep really pauses between two commands of one script: their timeline stamps are that far apart
        shell.run_cell_magic("reactor", "", "set_color r=0 g=0 b=255\n@sleep 0.4\nset_color r=0 g=255 b=0\n")
        sent = [e for e in r.frames.timeline_entries() if e.kind == "command" and e.name == "set_color"]
        assert [e.data for e in sent[-2:]] == [{"r": 0, "g": 0, "b": 255}, {"r": 0, "g": 255, "b": 0}]
        assert sent[-1].time - sent[-2].time >= 0.4
        shell.run_line_magic("reactor", "disconnect")

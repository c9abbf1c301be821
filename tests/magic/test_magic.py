"""%reactor / %%reactor in a real IPython shell, with a fake session at the SDK boundary."""

from __future__ import annotations

import base64
import socket
from collections.abc import Iterator

import numpy as np
import pytest
from IPython.core.completer import provisionalcompleter
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from magic_support import FakeReactor
from PIL import Image

from reactor_notebook import magic
from reactor_notebook.framecode import read_index


@pytest.fixture
def listener() -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield f"http://127.0.0.1:{s.getsockname()[1]}"


def line(ip: InteractiveShell, text: str) -> object:
    return ip.run_line_magic("reactor", text)


# --- extension lifecycle ---------------------------------------------------------------------------
def test_load_is_idempotent_and_unload_removes_everything(
    ip: InteractiveShell, unused_url: str, ensure
) -> None:
    matchers = list(ip.Completer.custom_matchers)
    magic.load_ipython_extension(ip)
    import reactor_notebook

    reactor_notebook.load_ipython_extension(ip)
    assert ip.Completer.custom_matchers == matchers
    assert ip.find_line_magic("reactor") is not None and ip.find_cell_magic("reactor") is not None
    line(ip, f"connect --local --url {unused_url}")
    r = ip.user_ns["reactor"]
    reactor_notebook.unload_ipython_extension(ip)
    assert r.calls[-1] == "disconnect(recoverable=False)"
    assert ensure.stopped == 1
    assert ip.find_line_magic("reactor") is None and ip.find_cell_magic("reactor") is None
    assert len(ip.Completer.custom_matchers) == len(matchers) - 1
    magic.unload_ipython_extension(ip)  # twice is fine
    magic.load_ipython_extension(ip)
    assert ip.find_line_magic("reactor") is not None


def test_help_text_is_available(ip: InteractiveShell, capsys: pytest.CaptureFixture[str]) -> None:
    doc = ip.find_line_magic("reactor").__doc__
    assert "--timeout" in doc and "COMMAND key=value" in doc
    line(ip, "help")
    out = capsys.readouterr().out
    assert "@chunk" in out and "record 3s -o frames" in out


# --- connect ------------------------------------------------------------------------------------
def test_connect_local_starts_the_runtime_only_when_nothing_listens(
    ip: InteractiveShell, unused_url: str, listener: str, ensure, capsys
) -> None:
    line(ip, f"connect --local --url {unused_url} --model testpattern")
    r = ip.user_ns["reactor"]
    port = int(unused_url.rsplit(":", 1)[1])
    assert ensure.calls == [{"model": "testpattern", "port": port}]
    assert r.kwargs == {"model_name": "testpattern", "local": True, "local_url": unused_url}
    assert r.calls == ["connect"]
    assert "ready: testpattern" in capsys.readouterr().out
    line(ip, "connect --local")  # already connected: says so, no second session
    assert "already ready" in capsys.readouterr().out
    line(ip, "disconnect")
    line(ip, f"connect --url {listener} --name r2")  # --local is the default; something listens
    assert ensure.calls == [{"model": "testpattern", "port": port}]
    assert ip.user_ns["r2"].kwargs["local_url"] == listener


def test_connect_reads_local_url_from_the_environment(
    ip: InteractiveShell, listener: str, monkeypatch
) -> None:
    monkeypatch.setenv("REACTOR_LOCAL_URL", listener + "/")
    line(ip, "connect --local")
    assert ip.user_ns["reactor"].kwargs["local_url"] == listener


def test_api_keys_come_only_from_environment_variables(ip: InteractiveShell, monkeypatch, capsys) -> None:
    with pytest.raises(UsageError, match="MY_KEY is not set"):
        line(ip, "connect --api-key-env MY_KEY")
    monkeypatch.setenv("MY_KEY", "rk_secret_123")
    line(ip, "connect --api-key-env MY_KEY --url https://api.example")
    r = ip.user_ns["reactor"]
    assert r.kwargs == {"model_name": "helios", "api_key": "rk_secret_123", "api_url": "https://api.example"}
    line(ip, "status")
    assert "rk_secret_123" not in capsys.readouterr().out
    for bad in ("connect --api-key rk_live_x", "connect --api-key=abc", "connect rk_live_x"):
        with pytest.raises(UsageError, match="environment variable") as info:
            line(ip, bad)
        assert "rk_live_x" not in str(info.value) and "abc" not in str(info.value)
    with pytest.raises(UsageError) as info:
        line(ip, "connect --bogus sk-top-secret")
    assert "sk-top-secret" not in str(info.value)
    with pytest.raises(UsageError, match=r"not allowed with argument"):
        line(ip, "connect --local --api-key-env MY_KEY")


def test_verbs_need_a_session(ip: InteractiveShell) -> None:
    for verb in ("start", "record 3s", "commands", "prompt hi", "show", "disconnect", "@chunk 1"):
        with pytest.raises(UsageError, match="no session yet"):
            line(ip, verb)


# --- commands -----------------------------------------------------------------------------------
def test_generic_commands_parse_values_and_validate(
    connected: FakeReactor, ip: InteractiveShell, capsys
) -> None:
    line(ip, "set_color r=255 g=0 b=0.0")
    line(ip, 'schedule_prompt prompt="A sunset # over the sea" chunk=2  # trailing comment')
    line(ip, "send start")
    assert connected.sent == [
        ("set_color", {"r": 255, "g": 0, "b": 0}),
        ("schedule_prompt", {"prompt": "A sunset # over the sea", "chunk": 2}),
        ("start", {}),
    ]
    assert '→ set_color {"r": 255, "g": 0, "b": 0}' in capsys.readouterr().out
    with pytest.raises(UsageError, match=r"set_color: field 'r': value 300 is out of range \(0 to 255\)"):
        line(ip, "set_color r=300 g=0 b=0")
    with pytest.raises(UsageError, match="set_prompt: field 'prompt': expected string, got int"):
        line(ip, "set_prompt prompt=42")
    with pytest.raises(UsageError, match="set_color: field 'g': required field is missing"):
        line(ip, "set_color r=1 b=2")
    with pytest.raises(UsageError, match="field 'x': unexpected field"):
        line(ip, "set_color r=1 g=1 b=1 x=1")
    with pytest.raises(UsageError, match="unknown command 'rewind'; the model's commands: clear_image"):
        line(ip, "rewind")
    with pytest.raises(UsageError, match="expected key=value, got 'red'"):
        line(ip, "set_color red")
    with pytest.raises(UsageError, match="unterminated"):
        line(ip, "set_prompt prompt='open")
    assert len(connected.sent) == 3


def test_helios_shortcuts(connected: FakeReactor, ip: InteractiveShell) -> None:
    line(ip, 'prompt "A sunset over the sea"')
    line(ip, "prompt Boats leave --chunk 2")
    line(ip, "seed 42")
    line(ip, "seed -1")
    for verb in ("start", "pause", "resume", "reset"):
        line(ip, verb)
    assert connected.sent[:4] == [
        ("set_prompt", {"prompt": "A sunset over the sea"}),
        ("schedule_prompt", {"prompt": "Boats leave", "chunk": 2}),
        ("set_seed", {"seed": 42}),
        ("set_seed", {"seed": -1}),
    ]
    assert [c for c, _ in connected.sent[4:]] == ["start", "pause", "resume", "reset"]
    with pytest.raises(UsageError, match="start takes no arguments"):
        line(ip, "start now")
    with pytest.raises(UsageError, match="invalid int value"):
        line(ip, "seed abc")
    with pytest.raises(UsageError, match=r"set_seed: field 'seed': value 4294967296 is out of range"):
        line(ip, "seed 4294967296")
    with pytest.raises(UsageError, match="schedule_prompt: field 'chunk'"):
        line(ip, "prompt x --chunk -3")


def test_image_from_file_url_and_clear(
    connected: FakeReactor, ip: InteractiveShell, tmp_path, unused_url
) -> None:
    png = tmp_path / "ref.png"
    Image.new("RGB", (20, 12), (200, 10, 10)).save(png)
    line(ip, f"image {png} --blend")
    cmd, data = connected.sent[-1]
    assert cmd == "set_image" and data["transition"] == "blend"
    assert base64.b64decode(data["image_b64"]) == png.read_bytes()
    line(ip, f"image {png}")
    assert connected.sent[-1][1]["transition"] == "cut"
    line(ip, "image --clear")
    assert connected.sent[-1] == ("clear_image", {})
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(UsageError, match="not a PNG, JPEG or WebP"):
        line(ip, f"image {tmp_path / 'notes.txt'}")
    with pytest.raises(UsageError, match="no such file"):
        line(ip, "image /nonexistent/x.png")
    with pytest.raises(UsageError, match=r"could not download .*offline"):
        line(ip, f"image {unused_url}/x.png")
    with pytest.raises(UsageError, match="usage"):
        line(ip, "image")


def test_record_binds_arrays_in_the_namespace(connected: FakeReactor, ip: InteractiveShell, capsys) -> None:
    connected.start_stream()
    line(ip, "record 30 -o frames --meta meta")
    arr = ip.user_ns["frames"]
    assert arr.shape == (30, 48, 256, 3) and arr.dtype == np.uint8
    idx = [read_index(f) for f in arr]
    assert idx == list(range(idx[0], idx[0] + 30))
    assert list(ip.user_ns["meta"]["frame_index"]) == idx
    line(ip, "record 100ms")
    assert len(ip.user_ns["recording"]) >= 1
    assert "recorded 30 frames (256x48" in capsys.readouterr().out
    with pytest.raises(UsageError, match="expected a duration"):
        line(ip, "record soon")
    connected.stop_stream()
    with pytest.raises(UsageError, match="no frame arrived"):
        line(ip, "record 2 --timeout 0.1")


def test_session_verbs(connected: FakeReactor, ip: InteractiveShell, capsys) -> None:
    line(ip, "status")
    out = capsys.readouterr().out
    assert "status:      ready" in out and "session:     sess-1" in out and "current_chunk=0" in out
    assert "stats:       frames_per_second=24, rtt=1.5" in out and "timestamp" not in out
    table = line(ip, "commands")
    assert "schedule_prompt  prompt: string (default" not in repr(table)
    assert "set_color" in repr(table) and "r: integer (0..255)" in repr(table)
    assert "<table>" in table._repr_html_()
    line(ip, "disconnect --recoverable")
    assert connected.calls[-1] == "disconnect(recoverable=True)"
    with pytest.raises(UsageError, match="the session is disconnected, not ready"):
        line(ip, "start")
    line(ip, "reconnect")
    assert connected.calls[-1] == "reconnect"
    ip.user_ns["r2"] = FakeReactor()
    line(ip, "use r2")
    assert magic.get_magics(ip).session is ip.user_ns["r2"]
    with pytest.raises(UsageError, match="not a Reactor session"):
        line(ip, "use nothing_here")


# --- cell scripts -------------------------------------------------------------------------------
SCRIPT = """
# a short show
seed 7
prompt "A foggy harbour" --chunk 0
schedule_prompt prompt="Boats leave" chunk=2   # later
start
@chunk 2
prompt "Night falls"
@frame 80
pause
"""


def test_cell_script_runs_in_order_and_waits_on_state(connected: FakeReactor, ip: InteractiveShell) -> None:
    ip.run_cell_magic("reactor", "--timeout 10 --quiet", SCRIPT)
    names = [c for c, _ in connected.sent]
    assert names == ["set_seed", "schedule_prompt", "schedule_prompt", "start", "set_prompt", "pause"]
    # the set_prompt was sent only after the model reported chunk 2
    assert connected.frames.state["current_chunk"] >= 2
    assert connected.frames.state["current_frame"] >= 66


def test_cell_script_errors_name_the_line(connected: FakeReactor, ip: InteractiveShell) -> None:
    with pytest.raises(UsageError, match="line 3: unknown directive '@chunks'"):
        ip.run_cell_magic("reactor", "", "seed 1\n\n@chunks 2\nstart\n")
    assert connected.sent == []  # parse errors stop the script before anything is sent
    with pytest.raises(
        UsageError,
        match=r"line 2: @chunk 5: not reached within 0.2 s; current_chunk is 0 \(the model is not running",
    ):
        ip.run_cell_magic("reactor", "--timeout 0.2", "seed 1\n@chunk 5\nstart\n")
    assert connected.sent == [("set_seed", {"seed": 1})]
    with pytest.raises(UsageError, match="line 1: set_color: field 'r'"):
        ip.run_cell_magic("reactor", "", "set_color r=-1 g=0 b=0\n")
    with pytest.raises(UsageError, match="only --timeout and --quiet"):
        ip.run_cell_magic("reactor", "start", "pause\n")


# --- completion ---------------------------------------------------------------------------------
def _complete(ip: InteractiveShell, text: str) -> list[str]:
    with provisionalcompleter():
        return sorted(c.text for c in ip.Completer.completions(text, len(text)))


def test_tab_completion_of_verbs_commands_and_fields(connected: FakeReactor, ip: InteractiveShell) -> None:
    assert _complete(ip, "%reactor sched") == ["schedule_prompt"]
    assert _complete(ip, "%reactor schedule_prompt prompt='x' ch") == ["chunk="]
    assert "connect" in _complete(ip, "%reactor con")
    assert _complete(ip, "%reactor connect --api") == ["--api-key-env"]
    assert _complete(ip, "%%reactor\nseed 1\nset_co") == ["set_color"]
    assert _complete(ip, "%%reactor\nset_color r=1 ") == ["b=", "g="]
    assert set(_complete(ip, "%%reactor\n@ch")) <= {"@chunk", "chunk"} and _complete(ip, "%%reactor\n@ch")
    assert "reactor_matcher" not in str(_complete(ip, "import o"))  # other completions untouched


# --- model profiles -------------------------------------------------------------------------------
def test_a_model_without_a_profile_gets_the_generic_verbs(
    ip: InteractiveShell, unused_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Helios shortcuts and @chunk waits belong to the Helios profile; other models send COMMAND lines."""
    line(ip, f"connect --local --url {unused_url} --model testpattern")
    r = ip.user_ns["reactor"]
    with pytest.raises(UsageError, match=r"unknown command 'prompt'.*magic verbs: commands, connect"):
        line(ip, "prompt a red fox")
    line(ip, "set_prompt prompt='a red fox'")
    line(ip, "start")  # a model command of that name still goes out, as a plain command line
    assert r.sent == [("set_prompt", {"prompt": "a red fox"}), ("start", {})]
    with pytest.raises(UsageError, match="the testpattern model reports no chunk counter"):
        line(ip, "@chunk 1")
    assert "prompt" not in _complete(ip, "%reactor pro") and "prompt" in magic.ReactorMagics(ip).verbs()

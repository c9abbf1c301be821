"""A new user's first hour, in real Jupyter kernels: what each cell prints, exactly.

Two kernels share one ``REACTOR_LOCAL_URL`` (like two notebooks on one machine); the first starts
the embedded Helios runtime there. Every assertion is on the text a user sees in the cell: stream
output, the one-line ``UsageError``, an exception's value, a completion list or a rich repr.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from jupyter_client.manager import start_new_kernel
from testutil import free_local_url

pytestmark = pytest.mark.timeout(240)


URL = ""  # set by the kernels fixture, just before the kernels start (a port taken at import could be reused by then)


def start_kernel(**env: str) -> tuple[Any, Any]:
    km, kc = start_new_kernel(kernel_name="python3", env={**os.environ, **env})
    return km, kc


@pytest.fixture(scope="module")
def kernels() -> Iterator[tuple[Any, Any]]:
    """Kernel A and kernel B, both with ``REACTOR_LOCAL_URL`` = URL, the extension loaded."""
    global URL
    URL = free_local_url()
    started = [start_kernel(REACTOR_LOCAL_URL=URL) for _ in range(2)]
    try:
        for _, kc in started:
            run(kc, "%load_ext reactor_notebook")
        yield started[0][1], started[1][1]
    finally:
        for km, kc in reversed(started):
            kc.stop_channels()
            km.shutdown_kernel(now=True)


def run(kc: Any, code: str, timeout: float = 90) -> list[dict[str, Any]]:
    """Execute code; return the iopub messages of that execution."""
    msg_id = kc.execute(code)
    out = []
    while True:
        msg = kc.get_iopub_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        out.append(msg)
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return out


def stdout(msgs: list[dict[str, Any]]) -> str:
    return "".join(
        m["content"]["text"] for m in msgs if m["msg_type"] == "stream" and m["content"]["name"] == "stdout"
    )


def error(msgs: list[dict[str, Any]]) -> str:
    """What the cell shows as its error: IPython prints a UsageError as one stderr line."""
    err = "".join(
        m["content"]["text"] for m in msgs if m["msg_type"] == "stream" and m["content"]["name"] == "stderr"
    )
    err += "".join(f"{m['content']['ename']}: {m['content']['evalue']}" for m in msgs if m["msg_type"] == "error")
    return err


def rich(msgs: list[dict[str, Any]], mime: str) -> str:
    return "".join(
        m["content"]["data"].get(mime, "") for m in msgs if m["msg_type"] in ("execute_result", "display_data")
    )


def complete(kc: Any, code: str) -> list[str]:
    msg_id = kc.complete(code, len(code))
    reply = kc.get_shell_msg(timeout=30)
    while reply["parent_header"].get("msg_id") != msg_id:
        reply = kc.get_shell_msg(timeout=30)
    return list(reply["content"]["matches"])


def listening(url: str) -> bool:
    host, port = url.rsplit("//", 1)[1].rsplit(":", 1)
    with socket.socket() as s:
        return s.connect_ex((host, int(port))) == 0


def test_connection_messages_tell_the_truth(kernels: tuple[Any, Any]) -> None:
    a, b = kernels
    # a typo'd URL starts nothing: it says so and how to start a simulator on purpose
    typo = free_local_url()
    assert error(run(a, f"%reactor connect --url {typo}")) == (
        f"UsageError: connect: nothing listens at {typo}; check the URL and port, "
        "or add --start to start the embedded helios simulator there\n"
    )
    assert not listening(typo)

    # --local starts the simulator at $REACTOR_LOCAL_URL and says so in one line
    assert stdout(run(a, "%reactor connect --local")) == (
        f"started the embedded runtime serving the simulated 'helios' model at {URL} "
        "(inside this kernel; it stops with the kernel)\n"
        f"ready: helios at {URL}, session local → `reactor`\n"
    )

    # a second notebook on the same runtime: told it shares the session
    assert stdout(run(b, "%reactor connect --local")) == (
        f"ready: helios at {URL}, session local → `reactor`\n"
        f"note: joined session 'local' at {URL}, which 1 other client already uses (another notebook?): "
        "commands from either reach the same model, and this client will not stop the session on "
        "disconnect. `%reactor connect --exclusive` to refuse sharing\n"
    )
    # (the padding follows the longest label shown, which depends on whether the model state has arrived yet)
    assert re.search(r"^session: +local \(shared with 1 other client\)$", stdout(run(b, "%reactor status")), re.M)
    run(b, "%reactor disconnect")
    assert "ready" in stdout(run(a, "%reactor status")).splitlines()[0]  # the joiner did not end it

    # --exclusive refuses to share
    assert error(run(b, "%reactor connect --local --exclusive")).startswith(
        f"UsageError: the session at {URL} already has 1 other client attached (another notebook?); "
        "exclusive=True refuses to share it."
    )

    # a runtime serving another model than asked: refused, naming both
    assert error(run(b, "%reactor connect --local --model testpattern")) == (
        f"UsageError: connect: the runtime at {URL} serves model 'helios', not 'testpattern'; "
        "use it with `%reactor connect --model helios` (plus your --url), or stop it so "
        "`%reactor connect --local` can start a testpattern simulator there\n"
    )


def test_status_and_widget_drop_stale_state_and_show_reuses_one_widget(kernels: tuple[Any, Any]) -> None:
    a, _ = kernels
    run(a, "%reactor connect --local")  # already connected from the test above, or connects now
    run(a, '%reactor prompt "A foggy harbour" --chunk 0\n%reactor start')
    run(a, "reactor.frames.wait_state(lambda s: s.get('running'), timeout=20)")
    msgs = run(a, "reactor.send_command_sync('set_prompt', {'prompt': 'x' * 300_000}, validate=False)")
    assert "MessageSendError" in error(msgs)
    assert "error:       MESSAGE_SEND_FAILED set_prompt:" in stdout(run(a, "%reactor status"))
    run(a, "%reactor show")
    run(a, "%reactor show")
    count = (
        "import threading\nfrom ipykernel.kernelbase import Kernel\n"
        "pumps = sum(t.name == 'reactor-widget-pump' and t.is_alive() for t in threading.enumerate())\n"
        "print(pumps, len(Kernel.instance().shell_channel_thread.manager.list_subshell()))"
    )
    assert stdout(run(a, count)) == "1 1\n"  # two shows, one pump thread and one subshell

    run(a, "%reactor disconnect")
    status = stdout(run(a, "%reactor status"))
    assert status.splitlines()[0] == "status:      disconnected"
    assert "error" not in status and "MESSAGE_SEND_FAILED" not in status
    assert "running=False" in status and "(last report; not connected)" in status
    widget = "w = reactor_notebook.magic.get_magics(get_ipython()).widgets[0]\nprint(w.last_error, w.model_state['running'])"
    assert stdout(run(a, "import reactor_notebook.magic\n" + widget)) == "None False\n"
    # a widget made after the disconnect starts from the same truth
    fresh = "from reactor_notebook import ReactorWidget\nw2 = ReactorWidget(reactor)\nprint(w2.status, w2.last_error, w2.model_state['running'])\nw2.close()"
    assert stdout(run(a, fresh)) == "disconnected None False\n"


def test_errors_say_where_and_what_to_do(kernels: tuple[Any, Any]) -> None:
    a, _ = kernels
    run(a, "%reactor connect --local")
    msgs = run(a, '%reactor promt "A sunset"')
    assert error(msgs).startswith("UsageError: unknown command 'promt' (did you mean 'prompt'?); the model's commands: ")
    assert error(run(a, "%reactor conect --local")).startswith(
        "UsageError: unknown command 'conect' (did you mean 'connect'?)"
    )
    assert error(run(a, "%reactor prompt")) == (
        "UsageError: prompt: the following arguments are required: text\n"
        "usage: %reactor prompt [--chunk CHUNK] text [text ...]\n"
    )
    assert error(run(a, "%reactor image /tmp")) == (
        "UsageError: image: /tmp is a directory; give the path of a PNG, JPEG or WebP file in it\n"
    )
    assert error(run(a, "%reactor image /tmp/no-such-picture.png")) == (
        "UsageError: image: no such file: /tmp/no-such-picture.png\n"
    )
    run(a, "reactor.frames.wait_next(-1, timeout=10)")
    assert error(run(a, "reactor.frames.save_mp4('/sys/x.mp4')")) == (
        "PermissionError: save_mp4: cannot write /sys/x.mp4: permission denied; "
        "choose a location you can write to, e.g. the notebook's folder"
    )
    assert error(run(a, "reactor.frames.save_gif('/tmp/no/such/dir/x.gif')")) == (
        "FileNotFoundError: save_gif: cannot write /tmp/no/such/dir/x.gif: the directory /tmp/no/such/dir "
        "does not exist; create the directory first (os.makedirs(..., exist_ok=True)) or pick another location"
    )


def test_discoverability(kernels: tuple[Any, Any]) -> None:
    a, _ = kernels
    run(a, "import reactor_notebook")
    names = set(complete(a, "reactor_notebook."))
    assert {"ReactorWidget", "LocalRuntime", "FrameBuffer", "FrameMeta", "Reactor"} <= names, names
    assert not {"Any", "annotations", "importlib"} & names, names

    run(a, "%reactor connect --local")
    run(a, "reactor.frames.wait_next(-1, timeout=10)")
    meta = stdout(run(a, "print(repr(reactor.frames.metas()[-1]))"))
    assert re.fullmatch(r"FrameMeta\(seq=\d+, time=\d\d:\d\d:\d\d\.\d{3}, track=main_video 640x384.*\)\n", meta), meta
    html = rich(run(a, "reactor.frames"), "text/html")
    assert "<b>FrameBuffer</b>" in html and "evicted" in html and "data:image/jpeg;base64," in html
    text = rich(run(a, "reactor.frames"), "text/plain")
    assert re.fullmatch(r"<FrameBuffer \d+/120 frames, .* MB of 256 MB, seq=\d+, last at \d\d:\d\d:\d\d\.\d{3}, evicted=\d+>", text)
    html = rich(run(a, "reactor"), "text/html")
    assert "<b>Reactor</b>" in html and "<td style='text-align:left'>helios</td>" in html
    assert stdout(run(a, "print(reactor.frames.timeline()['time'].dtype)")) == "datetime64[ns, UTC]\n"
    assert "the model's own verdict comes later" in stdout(run(a, "help(reactor_notebook.Reactor.send_command)")).lower()
    run(a, "%reactor disconnect")


def test_widget_local_follows_reactor_local_url_and_displays() -> None:
    url = free_local_url()
    km, kc = start_kernel(REACTOR_LOCAL_URL=url)
    try:
        msgs = run(
            kc,
            "from reactor_notebook import ReactorWidget\n"
            'w = ReactorWidget.local("helios")\n'
            'w.send_command("schedule_prompt", prompt="A sunset over the ocean", chunk=0)\n'
            'w.send_command("start")\n'
            "print(w.runtime.url, w.status, w.model_name)",
        )
        assert error(msgs) == ""
        assert stdout(msgs) == f"{url} ready helios\n"
        views = [m for m in msgs if m["msg_type"] == "display_data"]
        assert len(views) == 1 and "application/vnd.jupyter.widget-view+json" in views[0]["content"]["data"]
        # the README's SDK example, next cell: it reaches the same runtime and says it shares the session
        msgs = run(
            kc,
            "import warnings\nfrom reactor_notebook import Reactor\n"
            "with warnings.catch_warnings(record=True) as caught:\n"
            "    warnings.simplefilter('always')\n"
            "    r = Reactor('helios', local=True)\n"
            "    await r.connect()\n"
            "print(r.base_url, r.get_status().value, [type(c.message).__name__ for c in caught])\n"
            "await r.disconnect()",
        )
        assert stdout(msgs) == f"{url} ready ['SharedSessionWarning']\n"
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)

"""Secrets: a unique fake API key and the JWT the runtime issued for it never show up anywhere.

Searched: widget state (every trait, serialised), every message to the front end, repr/str of
every reactor_notebook object alive, log output of all loggers at DEBUG (client and runtime),
exception messages and error events (a refused key included), and a saved executed notebook.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient
from support import RuntimeProcess, record_figure
from testutil import FakeFrontEnd, poll_until

from reactor_notebook.sdk import Reactor
from reactor_notebook.widget import ReactorWidget

KEY = f"rk_live_{uuid.uuid4().hex}"
JWT_HEADER = "eyJhbGciOiAiSFMyNTYi"  # every token this runtime mints starts with this header


@pytest.fixture(scope="module")
def rt() -> Iterator[RuntimeProcess]:
    with RuntimeProcess("--api-key", KEY, "--log-level", "DEBUG") as proc:
        yield proc


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))
        except Exception as exc:  # a record that cannot format is itself worth seeing
            self.lines.append(f"<unformattable {record.name}: {exc}>")


@pytest.fixture
def debug_logs() -> Iterator[Capture]:
    root = logging.getLogger()
    cap = Capture()
    old = root.level
    root.addHandler(cap)
    root.setLevel(logging.DEBUG)
    for noisy in ("aiortc.rtcrtpreceiver", "aiortc.rtcrtpsender"):  # per-packet lines: capture, but cheaper
        logging.getLogger(noisy).setLevel(logging.INFO)
    try:
        yield cap
    finally:
        root.removeHandler(cap)
        root.setLevel(old)
        for noisy in ("aiortc.rtcrtpreceiver", "aiortc.rtcrtpsender"):
            logging.getLogger(noisy).setLevel(logging.NOTSET)


def _leaks(text: str, jwt: str) -> list[str]:
    return [name for name, s in (("api key", KEY), ("jwt", jwt), ("jwt header", JWT_HEADER)) if s and s in text]


def test_key_and_token_never_leak_from_the_kernel_side(rt: RuntimeProcess, debug_logs: Capture) -> None:
    r = Reactor("testpattern", api_key=KEY, api_url=rt.url)
    errors: list[Any] = []
    r.on("error", errors.append)
    widget = ReactorWidget(r, subshell=False, show_stats=True)
    front = FakeFrontEnd(widget)
    try:
        r.connect_sync()
        assert r._api is not None and r._api.jwt is not None
        jwt = r._api.jwt.reveal()  # what the runtime issued: searched for below
        assert jwt.startswith(JWT_HEADER)
        poll_until(lambda: front.frames >= 5, 15, "frames at the fake front end")
        r.send_command_sync("set_color", {"r": 1, "g": 2, "b": 3})
        with pytest.raises(Exception) as bad:
            r.send_command_sync("set_color", {"r": "nope"})
        r.collect_stats_sync() if hasattr(r, "collect_stats_sync") else r.get_stats()
        widget._on_pump_stats(widget.pump.get_stats())
        # A refused key: the error and the exception must not echo it (or the good one).
        wrong = Reactor("testpattern", api_key=KEY + "-wrong", api_url=rt.url)
        with pytest.raises(Exception) as refused:
            wrong.connect_sync()
        assert "401" in str(refused.value) or "UNAUTHORIZED" in str(getattr(refused.value, "code", ""))
        texts: dict[str, str] = {
            "widget state": json.dumps(widget.get_state(), default=str),
            "front-end messages": json.dumps(
                [{"data": m["data"], "buffers": [b.decode("latin-1") for b in m["buffers"]]} for m in front.messages],
                default=str,
            ),
            "exceptions": f"{bad.value!r} {bad.value} {refused.value!r} {refused.value}",
            "error events": " ".join(f"{e!r} {e}" for e in errors + ([wrong.get_last_error()] if wrong.get_last_error() else [])),
            "stats": json.dumps(r.get_stats(), default=str) + json.dumps(widget.stats, default=str),
            "session info": json.dumps(r.get_session_info(), default=str),
        }
        reprs = []
        gc.collect()
        for obj in gc.get_objects():
            mod = getattr(type(obj), "__module__", "")
            mod = mod if isinstance(mod, str) else ""
            if mod.startswith("reactor_notebook"):
                try:
                    reprs.append(f"{obj!r} {obj!s}")
                except Exception as exc:
                    reprs.append(f"<repr failed: {type(obj).__name__}: {exc}>")
        texts["repr/str of reactor_notebook objects"] = "\n".join(reprs)
        texts["client logs at DEBUG"] = "\n".join(debug_logs.lines)
        leaks = {where: _leaks(text, jwt) for where, text in texts.items()}
        assert not any(leaks.values()), {k: v for k, v in leaks.items() if v}
        record_figure("secrets_kernel_side", places_searched=len(texts), objects_repr=len(reprs),
                      log_lines=len(debug_logs.lines), front_end_messages=len(front.messages))
    finally:
        front.close()
        widget.close()
        r.disconnect_sync()
    runtime_logs = "\n".join(rt.stdout + rt.stderr)
    assert len(rt.stderr) > 5  # DEBUG logging was on
    assert not _leaks(runtime_logs, jwt), "the runtime logged a secret"


# Each cell with what its output must contain (every cell must run: allow_errors=False).
NOTEBOOK_CELLS: list[tuple[str, list[str]]] = [
    ("import os\nfrom reactor_notebook.sdk import Reactor\nfrom reactor_notebook.widget import ReactorWidget", []),
    ("r = Reactor('testpattern', api_key=os.environ['REACTOR_API_KEY'], api_url=os.environ['RT_URL'])\n"
     "r.connect_sync()\nr", ["Reactor(model_name='testpattern', mode='cloud'", "status='ready'", "session_id='sess_"]),
    ("w = ReactorWidget(r, show_stats=True)\nw", ["ReactorWidget(model='testpattern', status='ready'"]),
    ("seq = r.frames.seq\nitem = r.frames.wait_next(seq, 10)\nprint(item is not None, r.get_status(), "
     "r.get_session_info())", ["True ready {'session_id': 'sess_", "'model': {'name': 'testpattern'"]),
    ("print(r.get_stats())\nprint(repr(w), sorted(w.get_state()))", ["'frames_received': ", "'status'"]),
    ("try:\n    r.send_command_sync('set_color', {'r': 'x'})\nexcept Exception as exc:\n    print(repr(exc))",
     ["CommandValidationError(\"set_color: field 'r': expected integer, got str 'x'\")"]),
    ("bad = Reactor('testpattern', api_key=os.environ['REACTOR_API_KEY'] + 'x', api_url=os.environ['RT_URL'])\n"
     "try:\n    bad.connect_sync()\nexcept Exception as exc:\n    print(repr(exc))",
     ["ApiError('token exchange (POST /tokens) failed: HTTP 401: Invalid API key"]),
    ("%load_ext reactor_notebook.magic\n%reactor status", ["no session; run `%reactor connect --local`"]),
    ("w.close()\nr.disconnect_sync()\nprint(r.get_status())", ["disconnected"]),
]


def _cell_text(cell: Any) -> str:
    """Everything a cell printed or returned (stream text, text/plain results)."""
    parts = []
    for out in cell.get("outputs", []):
        parts.append(out.get("text", ""))
        parts.append(out.get("data", {}).get("text/plain", ""))
    return "".join(parts)


def test_key_and_token_never_reach_a_saved_executed_notebook(rt: RuntimeProcess, tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(src) for src, _ in NOTEBOOK_CELLS])
    env = {"REACTOR_API_KEY": KEY, "RT_URL": rt.url}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # the kernel inherits them (how users pass keys: environment variables)
    try:
        client = NotebookClient(nb, timeout=60, kernel_name="python3", allow_errors=False, store_widget_state=True)
        client.execute(cwd=str(tmp_path))
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    for i, (cell, (_, expected)) in enumerate(zip(nb.cells, NOTEBOOK_CELLS, strict=True)):
        text = _cell_text(cell)
        assert not [o for o in cell.outputs if o.output_type == "error"], (i, cell.outputs)
        missing = [want for want in expected if want not in text]
        assert not missing, f"cell {i} output lacks {missing}: {text[:500]}"
    # The widget's state was stored in the notebook (so it renders offline), and holds no secret.
    view = next(o for o in nb.cells[2].outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {}))
    model_id = view["data"]["application/vnd.jupyter.widget-view+json"]["model_id"]
    stored = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    assert model_id in stored, sorted(stored)
    widget_state = stored[model_id]["state"]
    assert widget_state.get("model_name") == "testpattern" and "status" in widget_state, sorted(widget_state)
    path = tmp_path / "executed.ipynb"
    nbformat.write(nb, path)
    text = path.read_text()
    assert KEY not in text and JWT_HEADER not in text
    assert KEY[:12] not in text  # not even a prefix of the key
    outputs = [o for c in nb.cells for o in c.get("outputs", [])]
    record_figure("secrets_notebook", cells=len(nb.cells), outputs=len(outputs), bytes=len(text),
                  widget_state_keys=len(widget_state))

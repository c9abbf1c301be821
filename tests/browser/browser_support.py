"""Real JupyterLab + headless Chromium for widget tests and the widget benchmark.

A JupyterLab server runs on 127.0.0.1 with an ephemeral port, a random token and a temp
root; Chromium (Debian's, via Playwright) opens notebooks written by the test, runs them
through the JupyterLab command registry (``expose_app_in_browser``), executes extra code
in the notebook's kernel, and reads the widget's canvas pixels from page JS.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import secrets
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from chromium import BASE_ARGS
from chromium import CHROMIUM as CHROMIUM  # re-exported for the conftest and bench
from testutil import stop_process_group

CHROMIUM_ARGS = [
    *BASE_ARGS,
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
]
ARTIFACTS = pathlib.Path(__file__).resolve().parents[2] / "test-artifacts"


LAB_ARGS = {
    "jupyterlab": [
        "--LabApp.expose_app_in_browser=True",
        "--LabApp.news_url=",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ],
    "notebook": [
        "--JupyterNotebookApp.expose_app_in_browser=True",
    ],
}


@dataclass
class Lab:
    """A running JupyterLab: base URL, token and notebook root."""

    url: str
    token: str
    root: pathlib.Path
    proc: subprocess.Popen[str]
    log: list[str]
    app: str = "jupyterlab"

    def notebook_url(self, name: str) -> str:
        if self.app == "notebook":
            return f"{self.url}/notebooks/{name}?token={self.token}"
        return f"{self.url}/lab/tree/{name}?token={self.token}&reset"


def write_notebook(root: pathlib.Path, name: str, cells: list[str]) -> str:
    """Write a python3 notebook with the given code cells; return its name."""
    nb = {
        "cells": [
            {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": src}
            for src in cells
        ],
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (root / name).write_text(json.dumps(nb), encoding="utf-8")
    return name


def _wait_serving(url: str, token: str, proc: subprocess.Popen[str], log: list[str], timeout: float) -> None:
    """Wait until the server answers its status API (it prints its URL a moment before it may)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=5):
                return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the Jupyter server does not answer:\n" + "".join(log[-40:])) from None
            time.sleep(0.2)


@contextmanager
def run_lab(
    root: pathlib.Path,
    timeout: float = 90.0,
    *,
    python: str = sys.executable,
    env: dict[str, str] | None = None,
    app: str = "jupyterlab",
) -> Iterator[Lab]:
    """Start JupyterLab (or ``app="notebook"``, Notebook 7) with ``python`` in its own process group.

    ``env`` adds variables for the server and its kernels. Yields once it serves; stops it by its PID.
    """
    extra_env = dict(env or {})
    token = secrets.token_hex(16)
    state = root.parent / f"{root.name}-state"
    state.mkdir(exist_ok=True)
    env = dict(os.environ)
    env.update(
        JUPYTER_RUNTIME_DIR=str(state / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(state / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(state / "workspaces"),
        JUPYTER_CONFIG_DIR=str(state / "config"),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra_env)
    cmd = [
        python,
        "-m",
        app,
        "--no-browser",
        "--allow-root",
        "--ServerApp.ip=127.0.0.1",
        "--ServerApp.port=0",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        *LAB_ARGS[app],
    ]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env, start_new_session=True
    )
    log: list[str] = []
    found = threading.Event()
    box: dict[str, str] = {}

    def reader() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            log.append(line)
            m = re.search(r"(http://127\.0\.0\.1:\d+)/(lab|tree)", line)
            if m and not found.is_set():
                box["url"] = m.group(1)
                found.set()
        found.set()

    threading.Thread(target=reader, daemon=True).start()
    try:
        if not found.wait(timeout) or "url" not in box:
            raise RuntimeError(f"{app} did not start:\n" + "".join(log[-40:]))
        _wait_serving(box["url"], token, proc, log, timeout)
        yield Lab(box["url"], token, root, proc, log, app)
    finally:
        stop_process_group(proc, 15)


# --- page helpers (JS run in the JupyterLab page) -------------------------------------------------
JS_KERNEL_READY = """() => {
  const app = window.jupyterapp; if (!app) return false;
  const w = app.shell.currentWidget;
  const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
  return !!k && k.connectionStatus === 'connected' && (k.status === 'idle');
}"""

JS_EXEC = """async (code) => {
  const w = window.jupyterapp.shell.currentWidget;
  const k = w.sessionContext.session.kernel;
  const fut = k.requestExecute({code, stop_on_error: true, store_history: false});
  const out = [], err = [];
  fut.onIOPub = (msg) => {
    const t = msg.header.msg_type, c = msg.content;
    if (t === 'stream') (c.name === 'stderr' ? err : out).push(c.text);
    else if (t === 'error') err.push(`${c.ename}: ${c.evalue}\\n${(c.traceback || []).join('\\n')}`);
    else if (t === 'execute_result' && c.data && c.data['text/plain']) out.push(c.data['text/plain']);
  };
  const reply = await fut.done;
  return {status: reply.content.status, out: out.join(''), err: err.join('')};
}"""

JS_CANVAS = """(n) => {
  const e = (window.__reactorWidgets || [])[n];
  if (!e) return null;
  const c = e.canvas;
  const ctx = c.getContext('2d');
  const d = ctx.getImageData(0, 0, c.width, c.height).data;
  // frame index code: 16 blocks of 16x16 px, sampled at block centres (framecode.read_index)
  let index = 0;
  for (let b = 0; b < 16; b++) {
    const o = (8 * c.width + b * 16 + 8) * 4;
    const v = (d[o] + d[o + 1] + d[o + 2]) / 3;
    index = (index << 1) | (v > 127 ? 1 : 0);
  }
  const cx = (Math.floor(c.height / 2) * c.width + Math.floor(c.width / 2)) * 4;
  let sum = 0;
  for (let i = 0; i < d.length; i += 4 * 97) sum = (sum + d[i] * 3 + d[i + 1] * 5 + d[i + 2] * 7) % 1000000007;
  return {width: c.width, height: c.height, index, centre: [d[cx], d[cx + 1], d[cx + 2]], checksum: sum,
          drawn: e.debug.drawn, received: e.debug.received};
}"""


KERNEL_STDERR: list[str] = []  # stderr of kexec() calls (warnings), kept for diagnostics


def kernel_ready(page: Any, timeout_ms: float = 60000) -> None:
    page.wait_for_function(JS_KERNEL_READY, timeout=timeout_ms)


def run_all(page: Any) -> None:
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")


def kexec(page: Any, code: str) -> str:
    """Run ``code`` in the notebook's kernel; return its stdout (stderr kept in KERNEL_STDERR), raise on error."""
    res = page.evaluate(JS_EXEC, code)
    if res["status"] != "ok":
        raise AssertionError(f"kernel code failed:\n{code}\n---\n{res['out']}{res['err']}")
    if res["err"]:
        KERNEL_STDERR.append(res["err"])
    return str(res["out"])


def canvas(page: Any, n: int = 0) -> dict[str, Any] | None:
    return page.evaluate(JS_CANVAS, n)


def wait_drawn(page: Any, at_least: int, n: int = 0, timeout_ms: float = 30000) -> None:
    page.wait_for_function(
        "([n, k]) => { const e = (window.__reactorWidgets || [])[n]; return !!e && e.debug.drawn >= k; }",
        arg=[n, at_least],
        timeout=timeout_ms,
    )

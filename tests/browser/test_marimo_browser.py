"""The marimo quickstart (``notebooks/quickstart_marimo.py``) in ``marimo run`` and ``marimo edit``, and exported.

In headless Chromium the app runs its cells against the embedded runtime (``REACTOR_LOCAL_URL``
on a free port); the widget is rendered by ``mo.ui.anywidget`` and checked with the same
host-neutral tour as in JupyterLab and Notebook 7: live pixels, a form that changes the
stream, field and model errors, status. ``marimo export html`` runs the notebook headless.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys
from typing import Any

import pytest
from marimo_support import run_marimo
from quickstart_tour import ROOT, check_live_view
from testutil import free_local_url

NOTEBOOK = ROOT / "notebooks" / "quickstart_marimo.py"
VIEWS = 2  # the notebook shows the widget after connecting and again at the end


def copy_of_notebook(tmp_path: pathlib.Path) -> pathlib.Path:
    """A copy in ``tmp_path``: marimo keeps a session cache (``__marimo__/``) next to the file it serves."""
    nb = tmp_path / NOTEBOOK.name
    shutil.copy(NOTEBOOK, nb)
    return nb


@pytest.mark.timeout(300)
@pytest.mark.parametrize("mode", ["run", "edit"])
def test_marimo_quickstart_shows_a_live_widget(mode: str, page: Any, tmp_path: pathlib.Path) -> None:
    env = {"REACTOR_LOCAL_URL": free_local_url()}
    if mode == "edit":  # marimo edit opens with stale cells unless the user config runs them on open
        config = tmp_path / "xdg" / "marimo"
        config.mkdir(parents=True)
        (config / "marimo.toml").write_text("[runtime]\nauto_instantiate = true\n")
        env["XDG_CONFIG_HOME"] = str(tmp_path / "xdg")
    with run_marimo(copy_of_notebook(tmp_path), mode, env, tmp_path / "marimo.log") as url:
        page.goto(url)
        page.wait_for_function(
            "(k) => (window.__reactorWidgets || []).length >= k", arg=VIEWS, timeout=120000, polling=250
        )
        page.get_by_role("heading", name="Cleaning up").wait_for(timeout=60000)
        check_live_view(page, VIEWS - 1)
        assert "Traceback" not in (tmp_path / "marimo.log").read_text()


@pytest.mark.timeout(180)
def test_marimo_export_runs_the_quickstart_headless(tmp_path: pathlib.Path) -> None:
    out = tmp_path / "quickstart.html"
    env = {**os.environ, "REACTOR_LOCAL_URL": free_local_url()}
    res = subprocess.run(
        [sys.executable, "-m", "marimo", "export", "html", str(copy_of_notebook(tmp_path)), "-o", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=150,
        cwd=tmp_path,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    html = out.read_text()
    assert "now at chunk 2" in html and "Night falls over the harbour" in html
    assert "image/png" in html  # the snapshot
    assert "Traceback" not in html

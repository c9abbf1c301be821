"""The package's public entry points as users reach them: top-level imports and the quickstart command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from testutil import free_local_url

ROOT = Path(__file__).resolve().parents[2]


def _python(code: str) -> str:
    """Run ``code`` in a fresh interpreter (this checkout first on the path); its stdout."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_top_level_imports_are_the_real_classes_and_lazy() -> None:
    out = json.loads(_python("""
import json, sys
import reactor_notebook
before = sorted(m for m in sys.modules if m.startswith("reactor_notebook."))
from reactor_notebook import Reactor, ReactorWidget, LocalRuntime
from reactor_notebook.sdk import Reactor as R
from reactor_notebook.widget import ReactorWidget as W
from reactor_notebook.runtime import LocalRuntime as L
every = {name: getattr(reactor_notebook, name) is not None for name in reactor_notebook.__all__}
print(json.dumps({"before": before, "same": [Reactor is R, ReactorWidget is W, LocalRuntime is L],
                  "every": every, "version": reactor_notebook.__version__}))
"""))
    assert out["before"] == []  # `import reactor_notebook` loads no submodule (no aiortc, no widgets)
    assert out["same"] == [True, True, True]
    assert set(out["every"]) >= {"Reactor", "ReactorWidget", "LocalRuntime", "FrameBuffer", "ReactorStatus",
                                 "load_ipython_extension", "unload_ipython_extension"}
    assert all(out["every"].values()), out["every"]  # every advertised name resolves
    assert out["version"].count(".") == 2


def test_unknown_top_level_name_is_a_clear_attribute_error() -> None:
    import reactor_notebook

    with pytest.raises(AttributeError, match="module 'reactor_notebook' has no attribute 'Reactr'"):
        reactor_notebook.Reactr  # noqa: B018
    with pytest.raises(ImportError, match="Reactr"):
        exec("from reactor_notebook import Reactr")


@pytest.mark.timeout(300)
def test_python_m_quickstart_runs_the_notebook_then_reports_frames() -> None:
    # The notebook's runtime goes to a free port, never 8080 (reactor-sdk 0.8.0 interop needs that one).
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "REACTOR_LOCAL_URL": free_local_url()}
    done = subprocess.run([sys.executable, "-m", "reactor_notebook.quickstart", "--seconds", "1.5"],
                          capture_output=True, text=True, timeout=280, env=env, cwd=ROOT)
    assert done.returncode == 0, (done.stdout, done.stderr[-2000:])
    lines = done.stdout.splitlines()
    assert "executed 01_quickstart.ipynb" in done.stdout and "no errors" in done.stdout, done.stdout
    report = dict(line.split(None, 1) for line in lines[lines.index(
        "reactor_notebook quickstart (embedded runtime, simulated Helios)") + 1:])
    assert int(report["frames"]) > 0 and report["shape"] == "(384, 640, 3)", report
    assert report["current_prompt"] in ("A foggy harbour at dawn", "Boats leave the harbour"), report

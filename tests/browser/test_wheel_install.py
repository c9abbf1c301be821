"""The package as users get it: sdist and wheel from ``python -m build``, the wheel in a fresh venv.

* the wheel holds the built front end, stamped with the hash of ``js/src``, and
  ``check-wheel-contents`` finds nothing to complain about;
* the sdist carries the front-end sources: ``npm ci && npm run build`` inside the unpacked
  sdist rebuilds a bundle byte-identical to the one in the wheel;
* ``pip install "<wheel>[fast,pandas]" jupyterlab`` into a fresh venv (pip's cache reused) with
  no Node on ``PATH``, then that venv's own ``jupyter lab`` runs the quickstart tour in
  headless Chromium (Run All, live frames, forms, errors, status).
"""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from browser_support import kexec, run_lab
from quickstart_tour import ROOT, run_quickstart_tour
from testutil import free_local_url

from reactor_notebook.widget.bundle import source_hash

pytestmark = pytest.mark.wheel
STATIC = "reactor_notebook/widget/static/"


def run(cmd: list[str], timeout: float, **kw: Any) -> subprocess.CompletedProcess[str]:
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    assert res.returncode == 0, f"{' '.join(cmd)} failed:\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
    return res


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, pathlib.Path]]:
    """sdist and wheel built from a clean copy of the tracked sources (the wheel is built from the sdist)."""
    work = tmp_path_factory.mktemp("dist")
    src = work / "src"
    files = run(["git", "ls-files", "-z"], 60, cwd=ROOT).stdout.split("\0")
    for rel in filter(None, files):
        if (ROOT / rel).is_file():
            (src / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, src / rel)
    run([sys.executable, "-m", "build", "--outdir", str(work / "out"), str(src)], 600)
    (wheel,) = (work / "out").glob("*.whl")
    (sdist,) = (work / "out").glob("*.tar.gz")
    yield {"wheel": wheel, "sdist": sdist, "work": work}


def test_wheel_ships_the_built_front_end_and_is_clean(dist: dict[str, pathlib.Path]) -> None:
    with zipfile.ZipFile(dist["wheel"]) as zf:
        names = set(zf.namelist())
        assert {STATIC + "widget.js", STATIC + "widget.css"} <= names
        js = zf.read(STATIC + "widget.js").decode()
        assert not any(n.startswith(("js/", "tests/", "notebooks/")) for n in names)
    fresh = source_hash(ROOT / "js" / "src")
    assert f"source-sha256: {fresh}" in js.splitlines()[0]
    res = subprocess.run(
        [sys.executable, "-m", "check_wheel_contents", str(dist["wheel"])], capture_output=True, text=True
    )
    assert res.returncode == 0 and "OK" in res.stdout, res.stdout + res.stderr


@pytest.mark.timeout(600)
def test_sdist_rebuilds_the_same_front_end(dist: dict[str, pathlib.Path]) -> None:
    npm = shutil.which("npm")
    assert npm is not None, "npm is needed to rebuild the front end from the sdist (.ci/setup installs it)"
    unpacked = dist["work"] / "sdist"
    with tarfile.open(dist["sdist"]) as tf:
        tf.extractall(unpacked, filter="data")
    (top,) = unpacked.iterdir()
    shipped = (top / STATIC / "widget.js").read_bytes()
    (top / STATIC / "widget.js").unlink()
    run([npm, "ci", "--no-audit", "--no-fund"], 300, cwd=top / "js")
    run([npm, "run", "build"], 120, cwd=top / "js")
    with zipfile.ZipFile(dist["wheel"]) as zf:
        in_wheel = zf.read(STATIC + "widget.js")
    assert (top / STATIC / "widget.js").read_bytes() == in_wheel == shipped


@pytest.mark.timeout(900)
def test_wheel_in_a_fresh_venv_without_node_runs_the_quickstart_in_lab(
    dist: dict[str, pathlib.Path], page: Any, tmp_path: pathlib.Path
) -> None:
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)], 120)
    py = venv / "bin" / "python"
    run([str(py), "-m", "pip", "install", "-q", f"{dist['wheel']}[fast,pandas]", "jupyterlab"], 600)
    bare_path = os.pathsep.join([str(venv / "bin"), "/usr/local/sbin", "/usr/sbin", "/sbin"])
    assert shutil.which("node", path=bare_path) is None and shutil.which("npm", path=bare_path) is None
    env = {
        "PATH": bare_path,
        "PYTHONPATH": "",
        "VIRTUAL_ENV": str(venv),
        "REACTOR_LOCAL_URL": free_local_url(),
    }
    root = tmp_path / "root"
    root.mkdir()
    with run_lab(root, python=str(py), env=env) as lab:
        run_quickstart_tour(page, lab)
        where = kexec(page, "import reactor_notebook, sys; print(reactor_notebook.__file__, sys.prefix)")
    module, prefix = where.split()
    assert module.startswith(str(venv)) and prefix == str(venv), where

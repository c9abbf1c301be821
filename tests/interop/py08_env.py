"""The official ``reactor-sdk==0.8.0`` (PY08) in its own virtual env, created on demand.

PY08 pins dependencies of its own, so it never shares the project's interpreter: the interop
tests run small client scripts with the venv's python as subprocesses. The venv lives at
``$REACTOR_PY08_VENV`` (``.ci/setup`` uses the same variable) or ``~/.cache/reactor_notebook/py08``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from harness import file_lock

PY08_VERSION = "0.8.0"
PY08_REQUIREMENT = f"reactor-sdk=={PY08_VERSION}"


def default_venv_dir() -> Path:
    """Where the PY08 venv lives: ``$REACTOR_PY08_VENV`` or the per-user cache."""
    env = os.environ.get("REACTOR_PY08_VENV")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "reactor_notebook" / "py08"


def venv_python(venv: Path) -> Path:
    """The interpreter of a venv (POSIX layout; CI runs on Debian)."""
    return venv / "bin" / "python"


def installed_version(venv: Path) -> str | None:
    """The reactor-sdk version installed in ``venv``, or None when it is missing or broken."""
    python = venv_python(venv)
    if not python.exists():
        return None
    probe = "import importlib.metadata as m, reactor_sdk, numpy, aiortc; print(m.version('reactor-sdk'))"
    try:
        done = subprocess.run([str(python), "-c", probe], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def ensure_py08_venv(venv: Path | None = None, *, timeout: float = 600.0) -> Path:
    """Return the python of a venv holding reactor-sdk 0.8.0, creating or repairing it if needed."""
    venv = venv or default_venv_dir()
    if installed_version(venv) == PY08_VERSION:
        return venv_python(venv)
    with file_lock(venv.parent / f".{venv.name}.lock"):
        return _create(venv, timeout)


def _create(venv: Path, timeout: float) -> Path:
    """Create (or repair) the venv; the caller holds the lock."""
    if installed_version(venv) == PY08_VERSION:  # another run finished it while we waited
        return venv_python(venv)
    if not venv_python(venv).exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=timeout)
    pip = [str(venv_python(venv)), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    done = subprocess.run([*pip, PY08_REQUIREMENT], capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"pip install {PY08_REQUIREMENT} into {venv} failed:\n{done.stderr[-2000:]}")
    found = installed_version(venv)
    if found != PY08_VERSION:
        raise RuntimeError(f"{venv}: expected reactor-sdk {PY08_VERSION}, found {found!r}")
    return venv_python(venv)


if __name__ == "__main__":
    print(ensure_py08_venv())

"""The official ``reactor-sdk==0.8.0`` (PY08) in its own virtual env, created on demand.

PY08 pins dependencies of its own, so it never shares the project's interpreter: the interop
tests run small client scripts with the venv's python as subprocesses. The venv lives at
``$REACTOR_PY08_VENV`` (``.ci/setup`` uses the same variable) or ``~/.cache/reactor_notebook/py08``.
"""

from __future__ import annotations

from pathlib import Path

from official_venv import OfficialVenv

PY08 = OfficialVenv("py08", "reactor-sdk", "0.8.0", "REACTOR_PY08_VENV", "reactor_sdk, numpy, aiortc")
PY08_VERSION = PY08.version
PY08_REQUIREMENT = PY08.requirement


def default_venv_dir() -> Path:
    """Where the PY08 venv lives: ``$REACTOR_PY08_VENV`` or the per-user cache."""
    return PY08.default_dir()


def ensure_py08_venv(venv: Path | None = None, *, timeout: float = 600.0) -> Path:
    """Return the python of a venv holding reactor-sdk 0.8.0, creating or repairing it if needed."""
    return PY08.ensure(venv, timeout=timeout)


if __name__ == "__main__":
    print(ensure_py08_venv())

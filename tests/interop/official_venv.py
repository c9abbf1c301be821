"""An official Reactor package pinned in a virtual env of its own, created on demand under a lock.

The official clients and runtimes pin dependencies that clash with ours (numpy < 2 for
reactor-runtime 2.0.0), so each lives in its own venv, at ``$<env_var>`` (``.ci/setup`` uses the
same variables) or ``~/.cache/reactor_notebook/<name>``; concurrent test runs build it once.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from harness import file_lock


@dataclass(frozen=True)
class OfficialVenv:
    """Where a pinned distribution lives and how to check that it imports."""

    name: str  # cache folder name, e.g. "py08"
    distribution: str  # e.g. "reactor-sdk"
    version: str  # e.g. "0.8.0"
    env_var: str  # e.g. "REACTOR_PY08_VENV"
    imports: str  # comma-separated modules that must import, e.g. "reactor_sdk, numpy, aiortc"
    python: str = ""  # "X.Y" when the package needs another interpreter than ours (reactor-runtime 3.10: 3.12)
    extras: tuple[str, ...] = ()  # more requirements installed beside it (e.g. numpy for reactor-sdk 1.13)

    @property
    def requirement(self) -> str:
        return f"{self.distribution}=={self.version}"

    def default_dir(self) -> Path:
        """``$env_var`` or the per-user cache."""
        env = os.environ.get(self.env_var)
        return Path(env).expanduser() if env else Path.home() / ".cache" / "reactor_notebook" / self.name

    def installed_version(self, venv: Path) -> str | None:
        """The distribution's version in ``venv`` if it and its imports work, else None."""
        python = venv_python(venv)
        if not python.exists():
            return None
        probe = f"import importlib.metadata as m, {self.imports}; print(m.version({self.distribution!r}))"
        try:
            done = subprocess.run([str(python), "-c", probe], capture_output=True, text=True, timeout=120)
        except (OSError, subprocess.TimeoutExpired):
            return None
        lines = done.stdout.strip().splitlines()
        return lines[-1] if done.returncode == 0 and lines else None

    def ensure(self, venv: Path | None = None, *, timeout: float = 600.0) -> Path:
        """Return the venv's python, creating or repairing the venv if needed."""
        venv = venv or self.default_dir()
        if self.installed_version(venv) == self.version:
            return venv_python(venv)
        with file_lock(venv.parent / f".{venv.name}.lock"):
            if self.installed_version(venv) == self.version:  # another run finished it while we waited
                return venv_python(venv)
            if not venv_python(venv).exists():
                subprocess.run([self.base_python(), "-m", "venv", str(venv)], check=True, timeout=timeout)
            pip = [str(venv_python(venv)), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
            done = subprocess.run(
                [*pip, self.requirement, *self.extras], capture_output=True, text=True, timeout=timeout
            )
            if done.returncode != 0:
                raise RuntimeError(f"pip install {self.requirement} into {venv} failed:\n{done.stderr[-2000:]}")
            found = self.installed_version(venv)
            if found != self.version:
                raise RuntimeError(f"{venv}: expected {self.distribution} {self.version}, found {found!r}")
            return venv_python(venv)


    def base_python(self) -> str:
        """The interpreter that creates the venv: ours, or a working ``pythonX.Y`` under pyenv or on PATH.

        pyenv's shim for ``pythonX.Y`` is on PATH even when that version is not selected, and then
        exits 127; so the real interpreter under ``$PYENV_ROOT/versions`` comes first, and every
        candidate must run.
        """
        if not self.python:
            return sys.executable
        name = f"python{self.python}"
        root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
        candidates = [*sorted(glob.glob(str(root / "versions" / f"{self.python}.*" / "bin" / name))), shutil.which(name)]
        for found in filter(None, candidates):
            if subprocess.run([found, "-c", "pass"], capture_output=True, timeout=60).returncode == 0:
                return found
        raise RuntimeError(f"{self.requirement} needs Python {self.python}; no working {name} under pyenv or on PATH")


def venv_python(venv: Path) -> Path:
    """The interpreter of a venv (POSIX layout; CI runs on Debian)."""
    return venv / "bin" / "python"


if __name__ == "__main__":  # python tests/interop/official_venv.py NAME...: build the named venvs (.ci/setup)
    import importlib

    for arg in sys.argv[1:]:
        module = importlib.import_module(f"{arg}_env")
        print(getattr(module, arg.upper()).ensure())

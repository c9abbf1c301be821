"""The official ``reactor-runtime==2.0.0`` (RT20) in its own virtual env, created on demand.

RT20 needs numpy < 2 (the project runs numpy 2), so it never shares the project's interpreter:
the interop test starts it as a subprocess with the venv's python (``rt20/launch_rt20.py``).
The venv lives at ``$REACTOR_RT20_VENV`` (``.ci/setup`` uses the same variable) or
``~/.cache/reactor_notebook/rt20``; concurrent test runs build it once, under a file lock.
A from-scratch build (PyPI only, no pip cache) took about 15 s on the 2-core dev machine.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

from harness import file_lock, http_json, poll_until

RT20_VERSION = "2.0.0"
RT20_REQUIREMENT = f"reactor-runtime=={RT20_VERSION}"
LAUNCHER = Path(__file__).resolve().parent / "rt20" / "launch_rt20.py"
LISTENING = re.compile(r"rt20 listening on (http://\S+)")


def default_venv_dir() -> Path:
    """Where the RT20 venv lives: ``$REACTOR_RT20_VENV`` or the per-user cache."""
    env = os.environ.get("REACTOR_RT20_VENV")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "reactor_notebook" / "rt20"


def venv_python(venv: Path) -> Path:
    """The interpreter of a venv (POSIX layout; CI runs on Debian)."""
    return venv / "bin" / "python"


def installed_version(venv: Path) -> str | None:
    """The reactor-runtime version installed in ``venv`` (importable, with its HTTP runtime), or None."""
    python = venv_python(venv)
    if not python.exists():
        return None
    probe = (
        "import importlib.metadata as m, numpy, aiortc, uvicorn, "
        "reactor_runtime.runtimes.http.http_runtime; print(m.version('reactor-runtime'))"
    )
    try:
        done = subprocess.run([str(python), "-c", probe], capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip().splitlines()[-1] if done.returncode == 0 and done.stdout.strip() else None


def ensure_rt20_venv(venv: Path | None = None, *, timeout: float = 600.0) -> Path:
    """Return the python of a venv holding reactor-runtime 2.0.0, creating or repairing it if needed."""
    venv = venv or default_venv_dir()
    if installed_version(venv) == RT20_VERSION:
        return venv_python(venv)
    with file_lock(venv.parent / f".{venv.name}.lock"):
        return _create(venv, timeout)


def _create(venv: Path, timeout: float) -> Path:
    """Create (or repair) the venv; the caller holds the lock."""
    if installed_version(venv) == RT20_VERSION:  # another run finished it while we waited
        return venv_python(venv)
    if not venv_python(venv).exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=timeout)
    pip = [str(venv_python(venv)), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    done = subprocess.run([*pip, RT20_REQUIREMENT], capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"pip install {RT20_REQUIREMENT} into {venv} failed:\n{done.stderr[-2000:]}")
    found = installed_version(venv)
    if found != RT20_VERSION:
        raise RuntimeError(f"{venv}: expected reactor-runtime {RT20_VERSION}, found {found!r}")
    return venv_python(venv)


class Rt20Server:
    """RT20 with the toy model in its own process group on 127.0.0.1, ephemeral port; stopped by its pid."""

    def __init__(
        self, python: Path, *, orphan_timeout: float = 30.0, env: dict[str, str] | None = None
    ) -> None:
        self.stderr_tail: list[str] = []
        self.proc = subprocess.Popen(
            [
                str(python),
                str(LAUNCHER),
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--orphan-timeout",
                str(orphan_timeout),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
            env={**os.environ, "PYTHONUNBUFFERED": "1", "OTEL_SDK_DISABLED": "true", **(env or {})},
            start_new_session=True,  # own process group (RT20 forks a frame-conversion worker)
        )
        self._stderr = threading.Thread(target=self._read_stderr, daemon=True)
        self._stderr.start()
        self.url = ""

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr_tail.append(line.rstrip())
            del self.stderr_tail[:-80]

    def describe(self) -> str:
        """Exit code and recent log lines, for failure messages."""
        return f"rt20 rc={self.proc.poll()}; stderr tail:\n  " + "\n  ".join(self.stderr_tail[-25:])

    def start(self, timeout: float = 45.0, *, wait_ready: bool = True) -> str:
        """Wait for the listening line, then (unless told not to) for ``/health`` to report READY."""
        found: list[str] = []

        def read_url() -> None:
            assert self.proc.stdout is not None
            for line in self.proc.stdout:
                match = LISTENING.search(line)
                if match:
                    found.append(match.group(1))
                    break

        reader = threading.Thread(target=read_url, daemon=True)
        reader.start()
        reader.join(timeout)
        if not found:
            raise RuntimeError(f"RT20 printed no listening line within {timeout:.0f} s\n{self.describe()}")
        self.url = found[0]
        if wait_ready:
            poll_until(lambda: self.state() == "READY", timeout, f"RT20 model loaded\n{self.describe()}", 0.1)
        return self.url

    def state(self) -> str | None:
        """The runtime state from ``GET /health`` (RT20 names: READY, WAITING, STREAMING, ...), or None."""
        if self.proc.poll() is not None:
            raise RuntimeError(f"RT20 exited early\n{self.describe()}")
        try:
            status, body = http_json("GET", f"{self.url}/health")
        except OSError:
            return None
        return body.get("state") if status == 200 and isinstance(body, dict) else None

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM to its process group (RT20 shuts down gracefully), SIGKILL if it lingers."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self._stderr.join(2)


if __name__ == "__main__":
    print(ensure_rt20_venv())

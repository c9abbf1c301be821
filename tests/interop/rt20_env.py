"""The official ``reactor-runtime==2.0.0`` (RT20) in its own virtual env, created on demand.

RT20 needs numpy < 2 (the project runs numpy 2), so it never shares the project's interpreter:
the interop test starts it as a subprocess with the venv's python (``rt20/launch_rt20.py``).
The venv lives at ``$REACTOR_RT20_VENV`` (``.ci/setup`` uses the same variable) or
``~/.cache/reactor_notebook/rt20``; concurrent test runs build it once, under a file lock.
A from-scratch build (PyPI only, no pip cache) took about 15 s on the 2-core dev machine.
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
from pathlib import Path

from harness import health_body, keep_tail, stop_process_group
from official_venv import OfficialVenv
from testutil import poll_until

RT20 = OfficialVenv(
    "rt20",
    "reactor-runtime",
    "2.0.0",
    "REACTOR_RT20_VENV",
    "numpy, aiortc, uvicorn, reactor_runtime.runtimes.http.http_runtime",
)
RT20_VERSION = RT20.version
RT20_REQUIREMENT = RT20.requirement
LAUNCHER = Path(__file__).resolve().parent / "rt20" / "launch_rt20.py"
LISTENING = re.compile(r"rt20 listening on (http://\S+)")


def ensure_rt20_venv(venv: Path | None = None, *, timeout: float = 600.0) -> Path:
    """Return the python of a venv holding reactor-runtime 2.0.0, creating or repairing it if needed."""
    return RT20.ensure(venv, timeout=timeout)


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
        self._stderr = keep_tail(self.proc.stderr, self.stderr_tail, 80)
        self.url = ""

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
        return health_body(self.url).get("state")

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM to its process group (RT20 shuts down gracefully), SIGKILL if it lingers."""
        stop_process_group(self.proc, timeout)
        self._stderr.join(2)


if __name__ == "__main__":
    print(ensure_rt20_venv())

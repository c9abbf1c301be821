"""The official ``reactor-runtime==3.10.0`` (RT310, wire v0 + v1) in its own Python 3.12 venv.

RT310 requires Python >= 3.12 (pyenv provides it on these machines), so it runs as a subprocess
with the venv's python. The venv lives at ``$REACTOR_RT310_VENV`` (``.ci/setup`` builds it) or
``~/.cache/reactor_notebook/rt310``.

:class:`Rt310Server` launches it the way its docs say: a folder whose ``reactor.yaml`` names the
model (``runtime.import: "module:Class"``, here the toy of ``rt310/``, copied to a temp folder),
``python -m reactor_runtime.serve`` with ``HOST=127.0.0.1`` and ``PORT=0``. Its default
``STUN_SERVERS`` (a public STUN server, unreachable offline) is kept on purpose: a client must not
wait for it. The process runs in its own process group and is stopped by its recorded pid.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from harness import health_body, http_json, keep_tail, stop_process_group
from official_venv import OfficialVenv
from testutil import poll_until

RT310 = OfficialVenv(
    "rt310", "reactor-runtime", "3.10.0", "REACTOR_RT310_VENV", "reactor_runtime, reactor_wire.v1.data_pb2",
    python="3.12",
)
TOY_DIR = Path(__file__).resolve().parent / "rt310"
TOY_MODEL = "rt310toy"  # model.name in rt310/reactor.yaml
ORPHAN_TIMEOUT_S = 60.0  # RT310's default; a session without peers is reclaimed after it


def listening_port(pid: int) -> int | None:
    """The TCP port a process listens on (IPv4/IPv6), read from /proc: works with ``PORT=0``."""
    inodes: set[str] = set()
    with contextlib.suppress(OSError):
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
    for table in ("tcp", "tcp6"):
        with contextlib.suppress(OSError), open(f"/proc/{pid}/net/{table}") as fh:
            for line in fh.readlines()[1:]:
                cols = line.split()
                if cols[3] == "0A" and cols[9] in inodes:  # 0A = LISTEN
                    return int(cols[1].rsplit(":", 1)[1], 16)
    return None


class Rt310Server:
    """RT310 + the toy model on 127.0.0.1, ephemeral port, own process group, temp folder."""

    def __init__(self, python: Path, *, env: dict[str, str] | None = None) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="rt310-"))
        for name in ("rt310_toy.py", "reactor.yaml"):
            shutil.copy(TOY_DIR / name, self.folder / name)
        self.log_tail: list[str] = []
        self.proc = subprocess.Popen(
            [str(python), "-m", "reactor_runtime.serve"],
            cwd=self.folder,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            env={**os.environ, "HOST": "127.0.0.1", "PORT": "0", "PYTHONUNBUFFERED": "1", **(env or {})},
            start_new_session=True,
        )
        self._reader = keep_tail(self.proc.stdout, self.log_tail, 120)
        self.url = ""

    def describe(self) -> str:
        """Exit code and recent log lines, for failure messages."""
        return f"rt310 rc={self.proc.poll()}; log tail:\n  " + "\n  ".join(self.log_tail[-30:])

    def start(self, timeout: float = 60.0) -> str:
        """Wait for the listening socket, then for ``/health`` to say the model is loaded."""

        def port() -> int | None:
            if self.proc.poll() is not None:
                raise RuntimeError(f"RT310 exited early\n{self.describe()}")
            return listening_port(self.proc.pid)

        found = poll_until(port, timeout, "RT310 listening\n" + self.describe(), 0.1)
        self.url = f"http://127.0.0.1:{found}"
        poll_until(lambda: self.state() == "available", timeout, f"RT310 model loaded\n{self.describe()}", 0.1)
        return self.url

    def health(self) -> dict[str, object]:
        """``GET /health`` (``{"status", "state": "available"|"serving"|…}``), {} if unreachable."""
        if self.proc.poll() is not None:
            raise RuntimeError(f"RT310 exited early\n{self.describe()}")
        return health_body(self.url)

    def state(self) -> object:
        """The runtime state from ``/health`` (``available`` = model loaded, no session)."""
        return self.health().get("state")

    def stop_session(self) -> int:
        """``POST /stop_session`` (the test's own cleanup); returns the status (409 = nothing to stop)."""
        return http_json("POST", f"{self.url}/stop_session")[0]

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM to its process group, SIGKILL if it lingers; remove the temp folder."""
        stop_process_group(self.proc, timeout)
        self._reader.join(2)
        shutil.rmtree(self.folder, ignore_errors=True)


if __name__ == "__main__":  # python tests/interop/rt310_env.py: launch the toy and print its URL
    server = Rt310Server(RT310.ensure())
    try:
        print(server.start(), flush=True)
        server.proc.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()

"""reactor-runtime 3.10.0 hosting the clip toy (``rt310_clips/``), recording on or off, on a free port.

The toy folder is copied to a temporary directory (its ``reactor.yaml`` loses the recording
block when recording is off) and served by ``python -m reactor_runtime.serve`` from the RT310
venv with ``HOST``/``PORT``, ``STUN_SERVERS=""`` and ``REACTOR_RECORDINGS_DIR`` set. The process
runs in its own process group and is stopped by its pid.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from harness import http_json, poll_until
from rt310_env import RT310

TOY = Path(__file__).resolve().parent / "rt310_clips"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _state(url: str, proc: subprocess.Popen[bytes], log: Path) -> object:
    if proc.poll() is not None:
        raise RuntimeError(f"reactor-runtime 3.10 exited (rc={proc.returncode}):\n{log.read_text()[-3000:]}")
    try:
        status, body = http_json("GET", f"{url}/health")
    except OSError:
        return None
    return body.get("state") if status == 200 and isinstance(body, dict) else None


@contextlib.contextmanager
def rt310_clips(*, recording: bool = True) -> Iterator[tuple[str, Path]]:
    """``(url, recordings_dir)`` of a running RT310 clip toy; everything is removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="rt310-clips-"))
    shutil.copy(TOY / "clipstoy.py", folder)
    manifest = (TOY / "reactor.yaml").read_text()
    if not recording:
        manifest = manifest.split("  recording:")[0]
    (folder / "reactor.yaml").write_text(manifest)
    recordings = folder / "recordings"
    port = _free_port()
    log = folder / "runtime.log"
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), "STUN_SERVERS": "",
           "REACTOR_RECORDINGS_DIR": str(recordings), "PYTHONUNBUFFERED": "1"}
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(RT310.ensure()), "-m", "reactor_runtime.serve"], cwd=folder, env=env,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        poll_until(lambda: _state(url, proc, log) == "available", 90, "reactor-runtime 3.10 loaded", 0.2)
        yield url, recordings
    finally:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        shutil.rmtree(folder, ignore_errors=True)

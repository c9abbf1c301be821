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
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from harness import health_body, stop_process_group
from rt310_env import RT310
from testutil import free_local_url, poll_until

TOY = Path(__file__).resolve().parent / "rt310_clips"


def _state(url: str, proc: subprocess.Popen[bytes], log: Path) -> object:
    if proc.poll() is not None:
        raise RuntimeError(f"reactor-runtime 3.10 exited (rc={proc.returncode}):\n{log.read_text()[-3000:]}")
    return health_body(url).get("state")


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
    log = folder / "runtime.log"
    url = free_local_url()
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": url.rsplit(":", 1)[1], "STUN_SERVERS": "",
           "REACTOR_RECORDINGS_DIR": str(recordings), "PYTHONUNBUFFERED": "1"}
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(RT310.ensure()), "-m", "reactor_runtime.serve"], cwd=folder, env=env,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        poll_until(lambda: _state(url, proc, log) == "available", 90, "reactor-runtime 3.10 loaded", 0.2)
        yield url, recordings
    finally:
        stop_process_group(proc, 15)
        shutil.rmtree(folder, ignore_errors=True)

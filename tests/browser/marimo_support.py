"""A marimo server (``marimo run`` or ``marimo edit``) on a free loopback port for browser tests."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

from testutil import free_port, stop_process_group


@contextmanager
def run_marimo(
    notebook: pathlib.Path, mode: str, env: dict[str, str], log: pathlib.Path, timeout: float = 60.0
) -> Iterator[str]:
    """Serve ``notebook`` with ``marimo <mode>`` (no token: loopback only); yield its URL; stop it by PID."""
    port = free_port()
    cmd = [sys.executable, "-m", "marimo", mode, str(notebook), "--headless", "--no-token", "-p", str(port)]
    cmd.append("--no-sandbox")
    with log.open("w") as out:
        proc = subprocess.Popen(
            cmd, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **env}, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"marimo {mode} did not start:\n{log.read_text()[-3000:]}") from None
                time.sleep(0.3)
        yield url
    finally:
        stop_process_group(proc, 15)

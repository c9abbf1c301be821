"""Helpers of the reliability suite: runtime subprocesses, resource counters, a fake front end, figures.

Every process started here gets its own process group and is stopped by its recorded PID only
(never by name). Tests synchronise on conditions with deadlines (:func:`testutil.poll_until`), not sleeps.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from testutil import poll_until

from reactor_notebook import framecode

REPO = Path(__file__).resolve().parents[2]
LISTEN_RE = re.compile(r"reactor runtime listening on (http://(\S+):(\d+)) \(model (\S+)\)")
FIGURES_FILE = Path(os.environ.get("REACTOR_FIGURES", "/tmp/reactor_reliability_figures.jsonl"))

# Small, fast runtime settings shared by the suite (320x192 test pattern at 30 fps).
FAST_MODEL = ["--model", "testpattern", "--model-option", "width=320", "--model-option", "height=192", "--fps", "30"]


def record_figure(name: str, **values: Any) -> None:
    """Print one figure line (visible with ``-s``) and append it to the figures file for the report."""
    entry = {"figure": name, **values}
    line = json.dumps(entry, default=str)
    print(f"\nFIGURE {line}", flush=True)
    with contextlib.suppress(OSError), FIGURES_FILE.open("a") as fh:
        fh.write(line + "\n")


# ---------------------------------------------------------------------------------------------
# Resource counters (this process)
# ---------------------------------------------------------------------------------------------
def fd_count() -> int:
    """Open file descriptors of this process (/proc/self/fd)."""
    return len(os.listdir("/proc/self/fd"))


def thread_count() -> int:
    """OS threads of this process (/proc/self/task), which includes non-Python threads."""
    return len(os.listdir("/proc/self/task"))


def rss_mb(pid: int | None = None) -> float:
    """Resident set size of a process in MB (VmRSS from /proc)."""
    with open(f"/proc/{pid or 'self'}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def socket_count() -> int:
    """Sockets among this process's fds."""
    n = 0
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            if os.readlink(f"/proc/self/fd/{fd}").startswith("socket:"):
                n += 1
    return n


def child_pids() -> list[int]:
    """Live (non-zombie) direct children of this process."""
    me = os.getpid()
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                stat = fh.read()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == me and fields[0] != "Z":
            out.append(int(entry))
    return out


def peer_connections() -> int:
    """Live aiortc RTCPeerConnection objects in this process (not closed)."""
    from aiortc import RTCPeerConnection

    gc.collect()
    return sum(
        1 for o in gc.get_objects() if isinstance(o, RTCPeerConnection) and o.connectionState != "closed"
    )


def sdk_tasks() -> int:
    """Pending asyncio tasks on the SDK's loop thread (0 when the loop has not started)."""
    import asyncio

    from reactor_notebook.sdk.loop import get_sdk_loop

    sdk = get_sdk_loop()
    if sdk.thread is None or not sdk.thread.is_alive():
        return 0

    async def count() -> int:
        me = asyncio.current_task()
        return sum(1 for t in asyncio.all_tasks() if t is not me and not t.done())

    return int(sdk.submit(count()).result(5))


def snapshot() -> dict[str, int]:
    """Counts that must not grow across connect/disconnect cycles."""
    return {
        "sdk_tasks": sdk_tasks(),
        "fds": fd_count(),
        "sockets": socket_count(),
        "threads": thread_count(),
        "children": len(child_pids()),
        "peer_connections": peer_connections(),
    }


def settle(baseline: dict[str, int], slack: dict[str, int] | None = None, timeout: float = 10.0) -> dict[str, int]:
    """Wait until every count is back within ``slack`` of the baseline; return the final counts."""
    slack = slack or {}
    last: dict[str, int] = {}

    def ok() -> bool:
        last.clear()
        last.update(snapshot())
        return all(last[k] <= baseline[k] + slack.get(k, 0) for k in baseline)

    try:
        poll_until(ok, timeout, "resources to return to the baseline", interval=0.1)
    except AssertionError:
        raise AssertionError(f"resources leaked: baseline {baseline}, now {last}") from None
    return dict(last)


# ---------------------------------------------------------------------------------------------
# Runtime subprocess
# ---------------------------------------------------------------------------------------------
class RuntimeProcess:
    """``python -m reactor_notebook.runtime`` in its own process group (optionally in a netns)."""

    def __init__(
        self,
        *args: str,
        host: str = "127.0.0.1",
        port: int = 0,
        netns: str | None = None,
        model_args: Sequence[str] = FAST_MODEL,
        env: dict[str, str] | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.netns = netns
        self.argv = [
            sys.executable, "-m", "reactor_notebook.runtime", "--host", host, "--port", str(port),
            *model_args, *args,
        ]
        if netns:
            self.argv = ["ip", "netns", "exec", netns, *self.argv]
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.proc: subprocess.Popen[str] | None = None
        self.url: str | None = None
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._listening = threading.Event()

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self, timeout: float = 30.0) -> RuntimeProcess:
        """Spawn and wait for the ``listening on`` line (the real port with ``--port 0``)."""
        self._listening.clear()
        self.url = None
        self.proc = subprocess.Popen(
            self.argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1,
            env=self.env, cwd=str(REPO), start_new_session=True,
        )
        threading.Thread(target=self._read, args=(self.proc.stdout, self.stdout, True), daemon=True).start()
        threading.Thread(target=self._read, args=(self.proc.stderr, self.stderr, False), daemon=True).start()
        deadline = time.monotonic() + timeout
        while not self._listening.wait(0.05):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                rc = self.proc.poll()
                self.stop()
                raise RuntimeError(f"runtime did not start (rc={rc}):\n" + "\n".join(self.stderr[-20:]))
        return self

    def _read(self, stream: Any, sink: list[str], watch: bool) -> None:
        for line in stream:
            line = line.rstrip("\n")
            sink.append(line)
            del sink[:-400]
            if watch:
                m = LISTEN_RE.search(line)
                if m:
                    self.url, self.port = m.group(1), int(m.group(3))
                    self._listening.set()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the runtime's own process group (its PID is the group id) and reap it."""
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(10)

    def stop(self) -> None:
        """SIGTERM (clean shutdown), then SIGKILL if it lingers."""
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.kill()

    def rss_mb(self) -> float:
        return rss_mb(self.pid)

    def __enter__(self) -> RuntimeProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


# ---------------------------------------------------------------------------------------------
# Frames
# ---------------------------------------------------------------------------------------------
def frame_index(arr: np.ndarray) -> int | None:
    """The 16-bit index code in a decoded frame, or None when the code does not read cleanly."""
    try:
        return int(framecode.read_index(arr))
    except Exception:
        return None


# ---------------------------------------------------------------------------------------------
# HTTP
# ---------------------------------------------------------------------------------------------
def http(method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None,
         timeout: float = 10.0) -> tuple[int, Any, dict[str, str]]:
    """One raw HTTP exchange: (status, parsed JSON or text, headers)."""
    import urllib.error
    import urllib.request

    req = urllib.request.Request(url, data=body, method=method, headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, raw, hdrs = resp.status, resp.read(), dict(resp.headers)
    except urllib.error.HTTPError as err:
        status, raw, hdrs = err.code, err.read(), dict(err.headers)
    try:
        parsed: Any = json.loads(raw) if raw else None
    except ValueError:
        parsed = raw.decode("utf-8", "replace")
    return status, parsed, hdrs


def health_state(base_url: str) -> str:
    """The runtime machine state from GET /health."""
    status, body, _ = http("GET", base_url + "/health", timeout=5)
    assert status == 200, (status, body)
    return str(body["state"])

"""Helpers shared by the interop tests: a JSON-lines client subprocess and small HTTP probes.

Tests synchronise on events, never on sleeps: :meth:`ClientProcess.wait_for` blocks on a
condition variable until a matching event line arrives or a deadline passes.
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import json
import os
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

if str(Path(__file__).resolve().parents[1]) not in sys.path:  # benches import this module without tests/ on the path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from testutil import Event, EventLog, poll_until, stop_process_group

CLIENTS = Path(__file__).resolve().parent / "clients"


READY_TIMEOUT = 20.0


class ClientError(AssertionError):
    """A client subprocess did not produce the expected event in time."""


class ClientProcess(EventLog):
    """A client script speaking JSON lines: operations on stdin, events on stdout."""

    Timeout = ClientError

    def __init__(self, argv: Sequence[str], *, env: dict[str, str] | None = None) -> None:
        super().__init__()
        self.argv = list(argv)
        self.stderr_tail: list[str] = []
        self._ids = itertools.count(1)
        self.proc = subprocess.Popen(
            self.argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
            start_new_session=True,  # own process group: stopped by its recorded pid only
        )
        self._threads = [
            threading.Thread(target=self._read_stdout, daemon=True),
            keep_tail(self.proc.stderr, self.stderr_tail, 60),
        ]
        self._threads[0].start()

    # --- reading -----------------------------------------------------------------------------
    def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            line = line.strip()
            if not line:
                continue
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                event = {"ev": "raw", "line": line}
            self.add(event)
        self.close_log()

    # --- operations --------------------------------------------------------------------------
    def send(self, op: str, **fields: Any) -> int:
        """Write one operation; return its id (matched by ``op_done``/``op_failed``)."""
        op_id = next(self._ids)
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"op": op, "id": op_id, **fields}) + "\n")
        self.proc.stdin.flush()
        return op_id

    def call(self, op: str, timeout: float, *, allow_fail: bool = False, **fields: Any) -> Any:
        """Run an operation and wait for its result; raise if it timed out or (unless allowed) failed.

        With ``allow_fail`` the ``op_done``/``op_failed`` event itself is returned.
        """
        mark = self.mark()
        op_id = self.send(op, **fields)
        done = self.wait_for(
            lambda e: e.get("ev") in ("op_done", "op_failed") and e.get("id") == op_id,
            timeout,
            start=mark,
            what=f"op {op}",
        )
        if allow_fail:
            return done
        if done["ev"] == "op_failed":
            raise ClientError(f"op {op} failed: {done.get('error')}\n{self.describe()}")
        return done.get("result")

    def close(self, timeout: float = 15.0) -> int | None:
        """Ask the client to exit (it disconnects first); kill its process group if it lingers."""
        if self.proc.poll() is None:
            with contextlib.suppress(BrokenPipeError, OSError, ValueError):
                assert self.proc.stdin is not None
                self.proc.stdin.write('{"op": "exit"}\n')
                self.proc.stdin.close()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                stop_process_group(self.proc, 0, term=False)
        for thread in self._threads:
            thread.join(2)
        return self.proc.returncode

    def statuses(self) -> list[str]:
        """Status values reported so far, in order."""
        return [e["status"] for e in self.of("status")]

    def http_trace(self) -> list[tuple[str, str, int]]:
        """(method, path, status) of every HTTP exchange the client made."""
        return [(e["method"], e["path"], e["status"]) for e in self.of("http")]

    def connect_ready(self, timeout: float = READY_TIMEOUT) -> None:
        """connect(), then wait for the READY status (official connect() returns before it, pitfall 4)."""
        self.call("connect", timeout)
        self.wait_for(lambda e: e.get("ev") == "status" and e["status"] == "ready", timeout, what="READY")

    def describe(self, last: int = 25) -> str:
        """Recent events and stderr, for assertion messages."""
        with self._cond:
            tail = [e for e in self.events if e.get("ev") != "frame"][-last:]
            frames = sum(1 for e in self.events if e.get("ev") == "frame")
        lines = [f"client {self.argv[1:3]} rc={self.proc.poll()} frames={frames}; last events:"]
        lines += ["  " + json.dumps(e, default=str)[:400] for e in tail]
        lines += ["stderr tail:"] + ["  " + s for s in self.stderr_tail[-15:]]
        return "\n".join(lines)

    def __enter__(self) -> ClientProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextlib.contextmanager
def client_pool(hello_timeout: float = 30.0) -> Iterator[Callable[[Sequence[str]], ClientProcess]]:
    """A factory of client subprocesses (each waited for until it says ``hello``); all closed afterwards."""
    started: list[ClientProcess] = []

    def spawn(argv: Sequence[str]) -> ClientProcess:
        client = ClientProcess(argv)
        started.append(client)
        client.wait_for("hello", hello_timeout)
        return client

    try:
        yield spawn
    finally:
        for client in started:
            client.close()


@contextlib.contextmanager
def serving(server: Any) -> Iterator[Any]:
    """Start a launched official runtime (``start``/``stop``/``state``/``describe``); stop it afterwards."""
    try:
        server.start()
        yield server
    finally:
        server.stop()


def wait_state(server: Any, state: str, label: str, timeout: float = 15.0) -> None:
    """Poll a launched runtime's ``state()`` until it is ``state`` (e.g. idle between tests)."""
    poll_until(lambda: server.state() == state, timeout, f"{label} {state}\n{server.describe()}", 0.1)


def keep_tail(stream: IO[str] | None, tail: list[str], keep: int) -> threading.Thread:
    """Start a daemon thread that reads ``stream`` line by line, keeping its last ``keep`` lines in ``tail``."""

    def read() -> None:
        assert stream is not None
        for line in stream:
            tail.append(line.rstrip())
            del tail[:-keep]

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread


def health_body(base_url: str) -> dict[str, Any]:
    """``GET /health`` of a runtime that may still be starting: its JSON body, or {} if unreachable."""
    try:
        status, body = http_json("GET", f"{base_url}/health")
    except OSError:
        return {}
    return body if status == 200 and isinstance(body, dict) else {}


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Exclusive advisory lock, so concurrent test runs don't build the same env at once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


# ---------------------------------------------------------------------------------------------
# HTTP probes (the test's own view of the runtime)
# ---------------------------------------------------------------------------------------------
def http_json(
    method: str, url: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    """One HTTP exchange with the runtime; returns (status, parsed JSON or raw text)."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as err:
        status, raw = err.code, err.read()
    try:
        return status, json.loads(raw) if raw else None
    except json.JSONDecodeError:
        return status, raw.decode(errors="replace")


def health(base_url: str) -> dict[str, Any]:
    """GET /health of a runtime (must answer 200)."""
    status, body = http_json("GET", f"{base_url}/health")
    assert status == 200, (status, body)
    return body


def wait_runtime_idle(base_url: str, timeout: float = 10.0) -> None:
    """After a full disconnect the runtime's session machine returns to READY (no session)."""
    poll_until(lambda: health(base_url).get("state") == "READY", timeout, "runtime state READY")


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """True if something accepts TCP connections on host:port (IPv4 or IPv6 loopback)."""
    for family, addr in ((socket.AF_INET, host), (socket.AF_INET6, "::1")):
        with contextlib.suppress(OSError), socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.settimeout(0.5)
            if sock.connect_ex((addr, port)) == 0:
                return True
    return False


def port_holder(port: int) -> str:
    """Who listens on ``port`` (pid and command line, read from /proc), for failure messages."""
    inodes: set[str] = set()
    for table in ("tcp", "tcp6"):
        with contextlib.suppress(OSError), open(f"/proc/net/{table}") as fh:
            for line in fh.readlines()[1:]:
                cols = line.split()
                if cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(cols[9])
    for pid in filter(str.isdigit, os.listdir("/proc")):
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    if os.readlink(f"/proc/{pid}/fd/{fd}")[8:-1] in inodes:
                        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
                        return f"pid {pid}: {cmd.decode(errors='replace').strip()}"
    return "an unknown process"


def increasing_run(indices: Sequence[int]) -> bool:
    """Frame index codes never go backwards (mod 2**16) across a received sequence."""
    return all((b - a) % 65536 < 32768 for a, b in itertools.pairwise(indices))


def frame_indices(events: Iterator[Event] | Sequence[Event]) -> list[int]:
    """The decoded index codes of frame events, in arrival order."""
    return [int(e["index"]) for e in events if e.get("ev") == "frame"]

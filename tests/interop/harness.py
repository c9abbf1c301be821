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
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

Event = dict[str, Any]
Predicate = Callable[[Event], bool]

CLIENTS = Path(__file__).resolve().parent / "clients"


READY_TIMEOUT = 20.0


class ClientError(AssertionError):
    """A client subprocess did not produce the expected event in time."""


class ClientProcess:
    """A client script speaking JSON lines: operations on stdin, events on stdout."""

    def __init__(self, argv: Sequence[str], *, env: dict[str, str] | None = None) -> None:
        self.argv = list(argv)
        self.events: list[Event] = []
        self.stderr_tail: list[str] = []
        self._cond = threading.Condition()
        self._ids = itertools.count(1)
        self._closed = False
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
            threading.Thread(target=self._read_stderr, daemon=True),
        ]
        for thread in self._threads:
            thread.start()

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
            with self._cond:
                self.events.append(event)
                self._cond.notify_all()
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr_tail.append(line.rstrip())
            del self.stderr_tail[:-60]

    # --- queries -----------------------------------------------------------------------------
    def of(self, ev: str) -> list[Event]:
        """All events of one kind received so far."""
        with self._cond:
            return [e for e in self.events if e.get("ev") == ev]

    def wait_for(self, pred: Predicate | str, timeout: float, *, start: int = 0, what: str = "") -> Event:
        """Block until an event (from index ``start`` on) matches ``pred``; raise with context if not."""
        if isinstance(pred, str):
            kind = pred
            pred = lambda e: e.get("ev") == kind  # noqa: E731
            what = what or kind
        deadline = time.monotonic() + timeout
        with self._cond:
            checked = start
            while True:
                for event in self.events[checked:]:
                    if pred(event):
                        return event
                checked = max(checked, len(self.events))
                left = deadline - time.monotonic()
                if left <= 0 or (self._closed and checked >= len(self.events)):
                    break
                self._cond.wait(min(left, 0.5))
        raise ClientError(f"timed out after {timeout:.0f}s waiting for {what or 'event'}\n{self.describe()}")

    def wait_frames(
        self, count: int, timeout: float, *, start: int = 0, pred: Predicate | None = None
    ) -> list[Event]:
        """Wait until ``count`` frame events (matching ``pred``) arrived after index ``start``."""
        found: list[Event] = []

        def enough(event: Event) -> bool:
            if event.get("ev") == "frame" and (pred is None or pred(event)):
                found.append(event)
            return len(found) >= count

        self.wait_for(enough, timeout, start=start, what=f"{count} frames")
        return found

    def since(self, mark: int, ev: str | None = None) -> list[Event]:
        """Events (of one kind) received from index ``mark`` on."""
        with self._cond:
            return [e for e in self.events[mark:] if ev is None or e.get("ev") == ev]

    def mark(self) -> int:
        """Index of the next event, to wait only for what happens after this point."""
        with self._cond:
            return len(self.events)

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
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
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


def poll_until(probe: Callable[[], Any], timeout: float, what: str, interval: float = 0.05) -> Any:
    """Call ``probe`` until it returns something truthy; raise with the last value on timeout."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        threading.Event().wait(interval)  # paced polling of a condition, not synchronisation by sleep
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}; last value: {last!r}")


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

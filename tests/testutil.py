"""Helpers every test folder shares (the suite's one test-utils module; ``tests/`` is on sys.path).

One place per kind: polling (:func:`poll_until`, :func:`apoll_until`), event recording
(:class:`Recorder` for SDK events, :class:`EventLog` for JSON-lines client events), a fake
acking browser (:class:`FakeFrontEnd`) and small servers (:func:`free_local_url`,
:func:`catch_all_server`). Standard library only at import time: heavier imports happen inside.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import random
import signal
import socket
import subprocess
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

Event = dict[str, Any]
Predicate = Callable[[Event], bool]


# ---------------------------------------------------------------------------------------------
# Servers
# ---------------------------------------------------------------------------------------------
EPHEMERAL_FLOOR = 32768  # Linux's default ip_local_port_range starts here; bind(("", 0)) picks from that range


def free_port() -> int:
    """A loopback TCP port that was free a moment ago, for a server the test starts later.

    Drawn below the ephemeral range, so nothing that binds port 0 meanwhile (a kernel's ZMQ
    sockets, aiortc's UDP) can take it before the test's server binds it.
    """
    draw = random.SystemRandom()
    for _ in range(500):
        port = draw.randrange(20000, EPHEMERAL_FLOOR)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise RuntimeError("no free loopback port found in 20000-32767")


def free_local_url() -> str:
    """A loopback URL on a :func:`free_port` (a runtime started by the test binds it).

    Tests never let an embedded runtime take its default port 8080: reactor-sdk 0.8.0's local mode
    is hard-wired to that port, and its interop tests need it while other workers run.
    """
    return f"http://127.0.0.1:{free_port()}"


@contextlib.asynccontextmanager
async def catch_all_server(handle: Callable[[Any], Awaitable[Any]]) -> AsyncIterator[str]:
    """An aiohttp server on a free loopback port routing every method and path to ``handle``."""
    from aiohttp import web

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


# ---------------------------------------------------------------------------------------------
# Polling a cheap condition (paced, with a deadline and a message: never a sleep-as-sync)
# ---------------------------------------------------------------------------------------------
def poll_until(
    probe: Callable[[], Any], timeout: float = 10.0, what: str = "condition", interval: float = 0.02
) -> Any:
    """Call ``probe`` until it returns something truthy and return that; fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while True:
        last = probe()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}; last value: {last!r}")
        pause.wait(interval)  # paced polling of a condition, not synchronisation by sleep


async def apoll_until(
    probe: Callable[[], Any], timeout: float = 10.0, what: str = "condition", interval: float = 0.02
) -> Any:
    """:func:`poll_until` on an event loop (the loop runs between probes); ``probe`` may be async."""
    deadline = time.monotonic() + timeout
    while True:
        last = probe()
        if inspect.isawaitable(last):
            last = await last
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}; last value: {last!r}")
        await asyncio.sleep(interval)


# ---------------------------------------------------------------------------------------------
# Event recording
# ---------------------------------------------------------------------------------------------
class Recorder:
    """Collects (event, payload) pairs from any thread; ``wait`` blocks on a predicate with a timeout."""

    def __init__(self) -> None:
        self.items: list[tuple[str, Any]] = []
        self._cond = threading.Condition()

    def add(self, event: str, payload: Any) -> None:
        with self._cond:
            self.items.append((event, payload))
            self._cond.notify_all()

    def of(self, event: str) -> list[Any]:
        """Payloads of one event, in arrival order."""
        with self._cond:
            return [p for e, p in self.items if e == event]

    def wait(self, pred: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
        """Block until ``pred()`` holds (re-checked on every new event); fail with the last events."""
        with self._cond:
            if not self._cond.wait_for(pred, timeout):
                raise AssertionError(f"timed out after {timeout} s waiting for {what}; got {self.items[-10:]}")

    async def await_(self, pred: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
        """:meth:`wait` without blocking the event loop."""
        await asyncio.to_thread(self.wait, pred, timeout, what)

    def attach(self, reactor: Any, events: tuple[str, ...] | None = None) -> Recorder:
        """Record ``events`` (default: all) of an SDK ``Reactor`` (one payload, or the argument tuple)."""
        from reactor_notebook.sdk.types import REACTOR_EVENTS

        for event in events or REACTOR_EVENTS:
            reactor.on(event, lambda *args, _e=event: self.add(_e, args[0] if len(args) == 1 else args))
        return self


class EventLog:
    """JSON-lines client events (``{"ev": kind, ...}``) in arrival order, with blocking waits.

    Filled from any thread with :meth:`add`; :meth:`close_log` says no more will come.
    Subclasses set :attr:`Timeout` and :meth:`describe` for their failure messages.
    """

    Timeout: type[AssertionError] = AssertionError

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._cond = threading.Condition()
        self._closed = False

    def add(self, event: Event) -> None:
        with self._cond:
            self.events.append(event)
            self._cond.notify_all()

    def close_log(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def describe(self) -> str:
        """Context for a failed wait: the last events other than frames."""
        with self._cond:
            return f"last events: {[e for e in self.events if e.get('ev') != 'frame'][-10:]}"

    def of(self, ev: str) -> list[Event]:
        """All events of one kind received so far."""
        with self._cond:
            return [e for e in self.events if e.get("ev") == ev]

    def since(self, mark: int, ev: str | None = None) -> list[Event]:
        """Events (of one kind) received from index ``mark`` on."""
        with self._cond:
            return [e for e in self.events[mark:] if ev is None or e.get("ev") == ev]

    def mark(self) -> int:
        """Index of the next event, to wait only for what happens after this point."""
        with self._cond:
            return len(self.events)

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
        raise self.Timeout(f"timed out after {timeout:.0f}s waiting for {what or 'event'}\n{self.describe()}")

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


# ---------------------------------------------------------------------------------------------
# A fake browser for ReactorWidget: captures every message and acks frames like the front end
# ---------------------------------------------------------------------------------------------
class FakeFrontEnd:
    """Stands in for the browser half: records comm messages and acks each frame from its own thread."""

    def __init__(self, widget: Any, ack_delay: float = 0.0, keep: int = 200) -> None:
        """``keep``: how many recent comm messages (with copies of their buffers) to hold; 0 for soaks."""
        self.widget = widget
        self.ack_delay = ack_delay
        self.keep = keep
        self.messages: list[dict[str, Any]] = []
        self.frames = 0
        self.indices: list[int] = []
        self._acks: list[Any] = []
        self._cv = threading.Condition()
        self._stop = False
        comm = widget.comm
        self._orig_send = comm.send
        comm.send = self._send  # instance attribute: only this widget's comm
        self._thread = threading.Thread(target=self._ack_loop, name="fake-frontend", daemon=True)
        self._thread.start()
        widget._on_custom(widget, {"type": "ready"}, [])

    def _send(self, data: Any = None, metadata: Any = None, buffers: Any = None, **kw: Any) -> None:
        with self._cv:
            if self.keep:
                self.messages.append({"data": data, "buffers": [bytes(b) for b in (buffers or [])]})
                del self.messages[: -self.keep]
            content = (data or {}).get("content") if isinstance(data, dict) else None
            if isinstance(content, dict) and content.get("type") == "frame":
                self.frames += 1
                if content.get("index") is not None:
                    self.indices.append(int(content["index"]))
                    del self.indices[:-1000]
                self._acks.append(content.get("id"))
                self._cv.notify_all()

    def _ack_loop(self) -> None:
        while True:
            with self._cv:
                while not self._acks and not self._stop:
                    self._cv.wait(0.5)
                if self._stop:
                    return
                fid = self._acks.pop(0)
            if self.ack_delay:
                threading.Event().wait(self.ack_delay)  # simulated browser decode/draw time
            self.widget._on_custom(self.widget, {"type": "ack", "id": fid}, [])

    def close(self) -> None:
        with self._cv:
            self._stop = True
            self._cv.notify_all()
        self._thread.join(2)


def stop_process_group(proc: subprocess.Popen[Any], timeout: float, *, term: bool = True) -> None:
    """SIGTERM a process started with its own group (``start_new_session``), SIGKILL it if it lingers.

    ``term=False`` kills at once. Stops that process's group only, by its recorded pid.
    """
    if proc.poll() is not None:
        return
    if term:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout)
            return
        except subprocess.TimeoutExpired:
            pass
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(5)

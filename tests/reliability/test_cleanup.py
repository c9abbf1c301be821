"""Teardown leaves nothing behind: ``disconnect()``, widget ``close()`` and interpreter shutdown.

The runtime runs as a subprocess, so every count here (fds via /proc/self/fd, sockets, OS
threads, live RTCPeerConnections, child processes) belongs to the client side alone. A warm-up
cycle first creates what lives for the whole process (the SDK loop thread, codec contexts).
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import (
    RuntimeProcess,
    child_pids,
    health_state,
    record_figure,
    settle,
    snapshot,
)
from testutil import FakeFrontEnd, poll_until

from reactor_notebook.sdk import Reactor, ReactorStatus
from reactor_notebook.widget import ReactorWidget

CLIENTS = Path(__file__).resolve().parent / "clients"


@pytest.fixture(scope="module")
def rt() -> Iterator[RuntimeProcess]:
    with RuntimeProcess("--keepalive-check", "0.2") as proc:
        yield proc


def _stream(r: Reactor, n: int = 10) -> None:
    seq = r.frames.seq
    poll_until(lambda: r.frames.seq >= seq + n, 15, f"{n} frames")


def _cycle(url: str) -> None:
    r = Reactor("testpattern", local=True, local_url=url)
    r.connect_sync()
    _stream(r)
    r.disconnect_sync()
    assert r.get_status() is ReactorStatus.DISCONNECTED and r.get_session_id() is None


def test_disconnect_releases_threads_fds_sockets_and_peers(rt: RuntimeProcess) -> None:
    _cycle(rt.url)  # warm-up
    base = snapshot()
    for _ in range(3):
        _cycle(rt.url)
    after = settle(base)
    poll_until(lambda: health_state(rt.url) == "READY", 5, "the runtime to end the session")
    record_figure("disconnect_cycles", cycles=3, before=base, after=after)


def test_widget_close_disconnects_and_stops_its_threads(rt: RuntimeProcess) -> None:
    _cycle(rt.url)
    base = snapshot()
    r = Reactor("testpattern", local=True, local_url=rt.url)
    widget = ReactorWidget(r, owns_reactor=True, subshell=False)
    front = FakeFrontEnd(widget)
    r.connect_sync()
    poll_until(lambda: front.frames >= 10, 15, "the widget delivering frames")
    during = snapshot()
    widget.close()
    front.close()
    assert r.get_status() is ReactorStatus.DISCONNECTED
    after = settle(base)
    poll_until(lambda: health_state(rt.url) == "READY", 5, "the runtime to end the session")
    record_figure("widget_close", before=base, streaming=during, after=after)


def test_interpreter_exit_without_cleanup_is_clean_and_frees_the_runtime(rt: RuntimeProcess) -> None:
    children = len(child_pids())
    t0 = time.monotonic()
    done = subprocess.run(
        [sys.executable, str(CLIENTS / "exit_client.py"), rt.url],
        capture_output=True, text=True, timeout=60,
    )
    exit_s = time.monotonic() - t0
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("streaming ready"), done.stdout
    for bad in ("Traceback", "Exception ignored", "Task was destroyed", "never retrieved", "Fatal Python"):
        assert bad not in done.stderr, done.stderr[-2000:]
    # The SDK's exit hook ended the session: no wait for the keepalive and orphan timeouts.
    assert health_state(rt.url) == "READY"
    assert len(child_pids()) == children
    record_figure("interpreter_exit", seconds=round(exit_s, 2), runtime_state_after="READY")

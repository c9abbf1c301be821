"""The SDK's link watchdog at default settings, through real runtime processes over aiortc on loopback.

A dead link (runtime SIGKILLed, cloud mode here; local mode in test_faults_process.py, across
network namespaces in test_faults_network.py) is reported as a recoverable GPU_CONNECTION_ERROR
whose reason names the unanswered ICE consent probes, and ``reconnect()`` after a restart says
clearly that the session is gone. A live link is never reported dead when:

* the model sends nothing for 10 s (its only track paused);
* the client process is stopped (SIGSTOP) for 5 s and continued;
* a cell holds the GIL for 5 s.

How fast detection is over 20 kills, and the false-alarm count over these scenarios, are figures
printed by bench/link_detect.py (timings are not asserted here).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from testutil import poll_until

from reactor_notebook.frames import FrameBuffer
from reactor_notebook.sdk import Reactor, ReactorStatus

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "interop"))
from harness import ClientProcess

S = ReactorStatus
KEY = "rk_linkwatch_test_key_0123456789"
DRIVER = Path(__file__).resolve().parent / "clients" / "sdk_driver.py"
DETECT_DEADLINE_S = 10.0  # generous: what is asserted is the cause (probes), not the speed
FPS = 30


def _observe(seconds: float) -> None:
    """Let a fault last ``seconds`` (its duration, not a synchronisation: nothing is awaited here)."""
    threading.Event().wait(seconds)


def _link_errors(errors: list[Any]) -> list[Any]:
    return [e for e in errors if getattr(e, "code", None) == "GPU_CONNECTION_ERROR"]


def test_cloud_mode_sigkill_is_detected_by_probes_and_reconnect_says_the_session_is_gone(
    runtime_process: Any,
) -> None:
    rt = runtime_process("--api-key", KEY)
    r = Reactor("testpattern", api_key=KEY, api_url=rt.url, frames=FrameBuffer(max_frames=120))
    errors: list[Any] = []
    r.on("error", errors.append)
    try:
        r.connect_sync()
        poll_until(lambda: r.frames.seq >= 20, 15, "20 frames in cloud mode")
        sid = r.get_session_id()
        rt.kill()
        poll_until(lambda: r.get_status() is not S.READY, DETECT_DEADLINE_S, "the SDK to leave READY")
        poll_until(lambda: _link_errors(errors), 5, "a GPU_CONNECTION_ERROR")
        err = _link_errors(errors)[-1]
        assert err.recoverable and "ICE consent probes unanswered" in err.message, err.message
        assert r.get_session_id() == sid  # kept for reconnect()

        runtime_process("--api-key", KEY, port=rt.port)  # restarted: it has never heard of sid
        errors.clear()
        r.reconnect_sync()  # errors are reported (event, get_last_error), not raised
        assert r.get_status() is S.DISCONNECTED, r.get_status()
        gone = r.get_last_error()
        assert gone is not None and errors and errors[-1] is gone, errors
        assert gone.code == "RECONNECTION_FAILED" and gone.recoverable, gone
        assert sid in gone.message and "not found" in gone.message.lower(), gone.message

        r.connect_sync()  # a fresh session streams again
        seq = r.frames.seq
        poll_until(lambda: r.frames.seq >= seq + 10, 15, "frames from a fresh session")
        assert r.get_session_id() != sid
    finally:
        r.disconnect_sync()


@contextlib.contextmanager
def _streaming(runtime_process: Any) -> Iterator[tuple[Reactor, list[Any], list[S]]]:
    """A testpattern client streaming from its own runtime process, with its errors and status changes recorded."""
    rt = runtime_process()
    r = Reactor("testpattern", local=True, local_url=rt.url, frames=FrameBuffer(max_frames=60))
    errors: list[Any] = []
    statuses: list[S] = []
    r.on("error", errors.append)
    r.on("status_changed", statuses.append)
    try:
        r.connect_sync()
        poll_until(lambda: r.frames.seq >= 10, 15, "frames")
        yield r, errors, statuses
    finally:
        r.disconnect_sync()


def test_a_model_sending_nothing_for_10_s_is_not_a_dead_link(runtime_process: Any) -> None:
    with _streaming(runtime_process) as (r, errors, statuses):
        asyncio.run(r.pause_track("main_video"))
        poll_until(lambda: r.frames.wait_next(r.frames.seq, 1.0) is None, 10, "the paused track to go quiet")
        seq = r.frames.seq
        statuses.clear()
        _observe(10.0)  # the model sends nothing for 10 s
        assert r.frames.seq <= seq + 1, "the track did not pause"
        assert not _link_errors(errors) and statuses == [] and r.get_status() is S.READY, (errors, statuses)
        asyncio.run(r.resume_track("main_video"))
        poll_until(lambda: r.frames.seq >= seq + 10, 15, "frames after resume")
        assert r.get_status() is S.READY


def test_a_client_process_stopped_5_s_keeps_its_link(runtime_process: Any) -> None:
    rt = runtime_process()
    c = ClientProcess([sys.executable, str(DRIVER), rt.url, "default"])
    try:
        c.wait_for("hello", 30)
        c.call("connect", 30)
        assert len(c.call("frames", 20, n=20, wait=5)["indices"]) == 20
        mark = c.mark()
        os.kill(c.proc.pid, signal.SIGSTOP)
        try:
            _observe(5.0)  # the whole client process (kernel) is stopped for 5 s
        finally:
            os.kill(c.proc.pid, signal.SIGCONT)
        got = c.call("frames", 30, n=3 * FPS, wait=5)  # ≥ 3 s of frames after the stop: past any limit
        assert len(got["indices"]) == 3 * FPS and got["status"] == "ready", got
        assert c.since(mark, "status") == [] and c.since(mark, "error") == [], c.since(mark)
    finally:
        c.close()


def test_a_cell_holding_the_gil_5_s_is_not_a_dead_link(runtime_process: Any) -> None:
    with _streaming(runtime_process) as (r, errors, statuses):
        statuses.clear()
        seq = r.frames.seq
        ctypes.PyDLL(None).sleep(5)  # C code called without releasing the GIL: no thread runs for 5 s
        poll_until(lambda: r.frames.seq >= seq + 3 * FPS, 20, "3 s of frames after the GIL was released")
        assert not _link_errors(errors) and statuses == [] and r.get_status() is S.READY, (errors, statuses)

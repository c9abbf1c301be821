"""Process faults through the real runtime over aiortc: a killed runtime, a vanished client.

* The runtime is SIGKILLed mid-stream: at default settings the SDK leaves READY with a
  recoverable GPU_CONNECTION_ERROR once its link watchdog's ICE consent probes go unanswered
  (how fast: bench/link_detect.py), the widget shows it, and after the runtime restarts
  on the same port ``reconnect()`` resumes frames. The restarted runtime has no session, so the
  kept session id gets 404; product behaviour (documented in ``Reactor.reconnect``): in local
  mode reconnect falls back to a fresh session. Frames and the timeline recorded before the
  crash are intact.
* A client process is SIGKILLed: the runtime's keepalive closes the silent peer (ORPHANED),
  the orphan timeout reclaims the session (READY), and a new client connects with no cleanup.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from itertools import pairwise
from pathlib import Path
from typing import Any

from support import frame_index, health_state, record_figure
from testutil import FakeFrontEnd, poll_until

from reactor_notebook.frames import FrameBuffer
from reactor_notebook.sdk import Reactor, ReactorStatus
from reactor_notebook.widget import ReactorWidget

CLIENTS = Path(__file__).resolve().parent / "clients"
S = ReactorStatus


def _increasing(values: list[int | None]) -> bool:
    """In order and moving on (the runtime repeats its last frame when the model lags on a loaded machine)."""
    vals = [v for v in values if v is not None]
    return len(vals) >= 2 and all(b >= a for a, b in pairwise(vals)) and vals[-1] > vals[0]


def test_runtime_sigkill_is_detected_and_reconnect_resumes_after_restart(runtime_process: Any) -> None:
    rt = runtime_process("--orphan-timeout", "10")
    frames = FrameBuffer(max_frames=600)
    r = Reactor("testpattern", local=True, local_url=rt.url, frames=frames)  # default link_timeout
    errors: list[Any] = []
    r.on("error", errors.append)
    widget = ReactorWidget(r, subshell=False)
    front = FakeFrontEnd(widget)
    try:
        r.connect_sync()
        poll_until(lambda: frames.seq >= 30, 15, "30 frames before the kill")
        poll_until(lambda: front.frames >= 3, 10, "the widget pump delivering frames")
        before = frames.metas()
        assert _increasing([frame_index(f) for f, _ in frames.frames()])

        t_kill = time.monotonic()
        rt.kill()
        poll_until(lambda: r.get_status() is not S.READY, 10, "SDK status to leave READY")
        detect_s = time.monotonic() - t_kill
        poll_until(lambda: errors, 5, "a ReactorError")
        err = errors[-1]
        assert err.code == "GPU_CONNECTION_ERROR" and err.recoverable and err.component == "gpu", err
        assert "ICE consent probes unanswered" in err.message, err.message
        assert r.get_session_id() == "local"  # kept: reconnect() is possible
        poll_until(
            lambda: widget.status == "disconnected" and (widget.last_error or {}).get("code") == err.code,
            5, "the widget to show status and last_error",
        )
        assert widget.last_error["recoverable"] is True

        rt2 = runtime_process("--orphan-timeout", "10", port=rt.port)  # same port, fresh process
        assert rt2.port == rt.port
        seq_crash = frames.seq
        t_re = time.monotonic()
        r.reconnect_sync()
        reconnect_s = time.monotonic() - t_re
        assert r.get_status() is S.READY, r.get_last_error()
        poll_until(lambda: frames.seq >= seq_crash + 30, 15, "30 frames after reconnect")
        after = [m for m in frames.metas() if m.seq > seq_crash]
        assert _increasing([frame_index(f) for f, m in frames.frames() if m.seq > seq_crash])
        poll_until(lambda: widget.status == "ready" and widget.last_error is None, 5, "widget back to ready")

        # Nothing recorded before the crash was lost or reordered.
        metas = frames.metas()
        seqs = [m.seq for m in metas]
        assert seqs == list(range(seqs[0], seqs[-1] + 1)) and seqs[0] == 0
        assert [m.seq for m in metas[: len(before)]] == [m.seq for m in before]
        names = [(e.kind, e.name) for e in frames.timeline_entries()]
        want = [("status", "ready"), ("error", "GPU_CONNECTION_ERROR"), ("status", "disconnected"),
                ("event", "session_restarted"), ("status", "ready")]
        it = iter(names)
        assert all(w in it for w in want), names  # in this order
        record_figure(
            "runtime_sigkill", detect_s=round(detect_s, 2), link_timeout_s="default",
            reconnect_s=round(reconnect_s, 2), frames_before=len(before), frames_after=len(after),
        )
    finally:
        front.close()
        widget.close()
        r.disconnect_sync()


def test_vanished_client_session_is_reclaimed_and_a_new_client_connects(runtime_process: Any) -> None:
    rt = runtime_process("--orphan-timeout", "2", "--keepalive-timeout", "2", "--keepalive-check", "0.2")
    client = subprocess.Popen(
        [sys.executable, str(CLIENTS / "sdk_client.py"), rt.url],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True,
    )
    try:
        assert client.stdout is not None
        for line in client.stdout:  # the client prints "frames N" as frames arrive
            if line.startswith("frames 20"):
                break
        else:
            raise AssertionError(f"client exited early (rc={client.wait()})")
        assert health_state(rt.url) == "STREAMING"
        t_kill = time.monotonic()
        os.killpg(client.pid, signal.SIGKILL)
        client.wait(10)
    finally:
        if client.poll() is None:
            os.killpg(client.pid, signal.SIGKILL)
            client.wait(10)

    seen: list[str] = []

    def state_is(target: str) -> bool:
        s = health_state(rt.url)
        if not seen or seen[-1] != s:
            seen.append(s)
        return s == target

    poll_until(lambda: state_is("ORPHANED"), 2 + 5, "keepalive to orphan the session", interval=0.05)
    orphaned_s = time.monotonic() - t_kill
    poll_until(lambda: state_is("READY"), 2 + 5, "the orphan timeout to reclaim the session", interval=0.05)
    reclaimed_s = time.monotonic() - t_kill
    # CLOSING is the brief teardown step between ORPHANED and READY (protocol.md §2.5); a poll may catch it.
    assert seen in (["STREAMING", "ORPHANED", "READY"], ["STREAMING", "ORPHANED", "CLOSING", "READY"]), seen

    r = Reactor("testpattern", local=True, local_url=rt.url)
    try:
        r.connect_sync()
        seq = r.frames.seq
        poll_until(lambda: r.frames.seq >= seq + 10, 10, "frames for the new client")
        assert health_state(rt.url) == "STREAMING"
    finally:
        r.disconnect_sync()
    record_figure("client_sigkill", keepalive_timeout_s=2, orphan_timeout_s=2,
                  orphaned_after_s=round(orphaned_s, 2), reclaimed_after_s=round(reclaimed_s, 2))

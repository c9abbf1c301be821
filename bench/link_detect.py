"""Dead-link detection at default settings: how fast a killed runtime is noticed, and false alarms.

Run: ``python bench/link_detect.py [--kills 20] [--repeats 3] [--cloud]``.

* Kills: ``--kills`` times, a runtime subprocess streams the test pattern at 30 fps to a default
  ``Reactor`` (local mode; ``--cloud`` adds the same with an API key), is SIGKILLed, and the
  time until the SDK leaves READY is measured. Prints each time, then median, p90 and max.
* No-fault scenarios (``--repeats`` each), counting link-lost errors that should not happen:
  the model sends nothing for 10 s (its track paused), this benchmark's client process is
  stopped (SIGSTOP) for 5 s and continued, and a cell holds the GIL for 5 s.

Exit status 1 when a false alarm happens or a kill goes unnoticed. The figures depend on the
machine's load: quote them with it.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable

from soak import Runtime

from reactor_notebook.frames import FrameBuffer
from reactor_notebook.sdk import Reactor, ReactorStatus

KEY = "rk_bench_link_detect_0123456789"
S = ReactorStatus


def _wait(pred: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            return False
        threading.Event().wait(0.005)
    return True


def _reactor(rt: Runtime, cloud: bool) -> Reactor:
    if cloud:
        return Reactor("testpattern", api_key=KEY, api_url=rt.url, frames=FrameBuffer(max_frames=30))
    return Reactor("testpattern", local=True, local_url=rt.url, frames=FrameBuffer(max_frames=30))


def one_kill(cloud: bool) -> float | None:
    """Seconds from SIGKILL to the SDK leaving READY (None if not noticed within 30 s)."""
    rt = Runtime("testpattern", 30, ["--api-key", KEY] if cloud else [])
    r = _reactor(rt, cloud)
    try:
        r.connect_sync()
        if not _wait(lambda: r.frames.seq >= 30, 20):
            raise RuntimeError("no frames before the kill")
        t0 = time.monotonic()
        os.killpg(rt.proc.pid, signal.SIGKILL)
        noticed = _wait(lambda: r.get_status() is not S.READY, 30)
        return time.monotonic() - t0 if noticed else None
    finally:
        r.disconnect_sync()
        rt.stop()


class Alarms:
    """Counts link-lost errors and status changes of a Reactor."""

    def __init__(self, r: Reactor) -> None:
        self.lost: list[str] = []
        self.statuses: list[str] = []
        r.on("error", lambda e: self.lost.append(e.message) if e.code == "GPU_CONNECTION_ERROR" else None)
        r.on("status_changed", lambda s: self.statuses.append(s.value))


def paused_model(rt: Runtime) -> bool:
    """True on a false alarm: the only output track paused for 10 s on a live link."""
    r = _reactor(rt, False)
    r.connect_sync()
    try:
        _wait(lambda: r.frames.seq >= 10, 15)
        alarms = Alarms(r)
        asyncio.run(r.pause_track("main_video"))
        threading.Event().wait(10.0)  # the fault's duration
        asyncio.run(r.resume_track("main_video"))
        seq = r.frames.seq
        _wait(lambda: r.frames.seq >= seq + 30, 15)
        return bool(alarms.lost) or r.get_status() is not S.READY
    finally:
        r.disconnect_sync()


def gil_held(rt: Runtime) -> bool:
    """True on a false alarm: C code holding the GIL 5 s, then 3 s of streaming watched."""
    r = _reactor(rt, False)
    r.connect_sync()
    try:
        _wait(lambda: r.frames.seq >= 10, 15)
        alarms = Alarms(r)
        ctypes.PyDLL(None).sleep(5)  # no Python thread runs for 5 s
        seq = r.frames.seq
        _wait(lambda: r.frames.seq >= seq + 90, 20)
        return bool(alarms.lost) or r.get_status() is not S.READY
    finally:
        r.disconnect_sync()


def stopped_process(rt: Runtime) -> bool:
    """True on a false alarm: a client process SIGSTOPped 5 s, continued, then watched 3 s."""
    child = subprocess.Popen([sys.executable, __file__, "--child", rt.url], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True, start_new_session=True)
    assert child.stdin is not None and child.stdout is not None
    try:
        if child.stdout.readline().strip() != "ready":
            raise RuntimeError("child client did not connect")
        os.kill(child.pid, signal.SIGSTOP)
        threading.Event().wait(5.0)  # the fault's duration
        os.kill(child.pid, signal.SIGCONT)
        child.stdin.write("report\n")
        child.stdin.flush()
        report = json.loads(child.stdout.readline())
        return bool(report["lost"]) or report["status"] != "ready"
    finally:
        if child.poll() is None:
            child.stdin.close()
            try:
                child.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait(5)


def child_client(url: str) -> None:
    """The stopped process: connect, say ready; on 'report' watch 3 s of frames and print alarms."""
    r = Reactor("testpattern", local=True, local_url=url, frames=FrameBuffer(max_frames=30))
    r.connect_sync()
    _wait(lambda: r.frames.seq >= 10, 15)
    alarms = Alarms(r)
    print("ready", flush=True)
    if sys.stdin.readline().strip() == "report":
        seq = r.frames.seq
        _wait(lambda: r.frames.seq >= seq + 90, 20)
        print(json.dumps({"lost": alarms.lost, "status": r.get_status().value}), flush=True)
    r.disconnect_sync()


def summarize(label: str, times: list[float | None]) -> bool:
    got = sorted(t for t in times if t is not None)
    missed = len(times) - len(got)
    if got:
        p90 = got[min(len(got) - 1, round(0.9 * (len(got) - 1)))]
        print(f"{label}: {len(times)} kills, detected {len(got)}, median {statistics.median(got):.2f} s, "
              f"p90 {p90:.2f} s, min {got[0]:.2f} s, max {got[-1]:.2f} s", flush=True)
    return missed == 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--kills", type=int, default=20)
    p.add_argument("--repeats", type=int, default=3, help="runs of each no-fault scenario")
    p.add_argument("--cloud", action="store_true", help="also kill runtimes under cloud-mode clients")
    p.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child_client(args.child)
        return 0
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}", flush=True)
    ok = True
    for cloud in (False, True) if args.cloud else (False,):
        label = "cloud" if cloud else "local"
        times = []
        for i in range(args.kills):
            t = one_kill(cloud)
            times.append(t)
            print(f"{label} kill {i + 1:2d}: " + ("not noticed in 30 s" if t is None else f"{t:.2f} s"), flush=True)
        ok = summarize(f"{label} mode", times) and ok
    rt = Runtime("testpattern", 30)
    try:
        scenarios: dict[str, Callable[[Runtime], bool]] = {
            "model sends nothing 10 s": paused_model, "client process SIGSTOP 5 s": stopped_process,
            "GIL held 5 s": gil_held,
        }
        for name, run in scenarios.items():
            alarms = sum(run(rt) for _ in range(args.repeats))
            print(f"false alarms, {name}: {alarms}/{args.repeats}", flush=True)
            ok = ok and alarms == 0
    finally:
        rt.stop()
    print(f"load average after: {os.getloadavg()[0]:.1f}", flush=True)
    print("PASS" if ok else "FAIL", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

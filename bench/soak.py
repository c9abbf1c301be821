"""Soak: a long stream through the SDK and the widget pump, with memory sampled on both sides.

Run: ``python bench/soak.py [--minutes 10] [--sample 10] [--model helios] [--cycles 0] [--tracemalloc]``.

A runtime subprocess (``python -m reactor_notebook.runtime``, own process group, stopped by
its PID) streams the model at 24 fps; this process plays the notebook kernel: a ``Reactor``
feeds ``reactor.frames``, a ``ReactorWidget`` pumps frames to a fake front end that acks each
one like a browser (no browser needed). Helios runs generation with a prompt change every
chunk, so messages and state flow too. Every ``--sample`` seconds it prints the RSS of the
runtime and of this "kernel", the fps received and shown, and drop counters. It exits 1 when
either RSS grows by 50 MB or more between the first sample and the last (the flatness bound),
or when frames stop. ``--cycles N`` first runs N connect/stream/disconnect cycles (the 200-
cycle load figure) and reports fds, threads and RSS before and after. ``--tracemalloc`` also
traces this process's Python heap: each sample adds the traced size, and the end prints the
heap growth from the first sample to the last with the ten source lines that grew most (the
"heap flat under tracemalloc" figure; RSS alone mixes in allocator and codec buffers).
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import Sequence
from pathlib import Path

from reactor_notebook import framecode
from reactor_notebook.frames import FrameBuffer
from reactor_notebook.sdk import Reactor, ReactorStatus
from reactor_notebook.widget import ReactorWidget

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from testutil import FakeFrontEnd

LISTEN_RE = re.compile(r"listening on (http://\S+)")
GROWTH_LIMIT_MB = 50.0


def rss_mb(pid: int | str = "self") -> float:
    """Resident set size in MB from /proc."""
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def counts() -> dict[str, int]:
    """Open fds and OS threads of this process."""
    return {"fds": len(os.listdir("/proc/self/fd")), "threads": len(os.listdir("/proc/self/task"))}


class Runtime:
    """The runtime in its own process group; ``stop()`` signals that group by the recorded PID."""

    def __init__(
        self, model: str, fps: float, extra: Sequence[str] = (), launcher: Sequence[str] = ("-m", "reactor_notebook.runtime"),
        env: dict[str, str] | None = None,
    ) -> None:
        argv = [sys.executable, *launcher, "--port", "0", "--model", model, "--fps", str(fps), *extra]
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                     start_new_session=True, env=env)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        m = LISTEN_RE.search(line)
        if not m:
            self.stop()
            raise SystemExit(f"runtime did not start: {line!r}")
        self.url = m.group(1)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)


def run_cycles(url: str, model: str, n: int, runtime_pid: int) -> bool:
    """N connect/stream/disconnect cycles; print fds, threads and RSS before and after."""
    def one() -> None:
        r = Reactor(model, local=True, local_url=url, frames=FrameBuffer(max_frames=16))
        try:
            r.connect_sync()
            seq = r.frames.seq
            for _ in range(5):
                item = r.frames.wait_next(seq, 15.0)
                if item is None:
                    raise RuntimeError(f"no frames within 15 s (status {r.get_status().value}, {r.get_stats()})")
                seq = item[1].seq
        finally:
            r.disconnect_sync()

    one()
    before, rss0 = counts(), rss_mb()
    t0 = time.monotonic()
    ok = 0
    for i in range(n):
        try:
            one()
            ok += 1
        except Exception as exc:
            print(f"cycle {i + 1}: FAILED {type(exc).__name__}: {exc}", flush=True)
        if (i + 1) % 25 == 0:
            print(f"cycle {i + 1:4d}  kernel RSS {rss_mb():7.1f} MB  {counts()}", flush=True)
    threading.Event().wait(1.0)  # let the last peer's transports close before counting
    after, rss1 = counts(), rss_mb()
    print(f"runtime threads after the cycles: {len(os.listdir(f'/proc/{runtime_pid}/task'))}", flush=True)
    print(f"cycles: {ok}/{n} ok in {time.monotonic() - t0:.0f} s; before {before} RSS {rss0:.1f} MB; "
          f"after {after} RSS {rss1:.1f} MB", flush=True)
    return ok == n and after["fds"] <= before["fds"] and after["threads"] <= before["threads"]


def soak(url: str, model: str, minutes: float, sample_s: float, runtime_pid: int) -> bool:
    """Stream for ``minutes``; sample RSS every ``sample_s``; True if flat and always streaming."""
    r = Reactor(model, local=True, local_url=url, frames=FrameBuffer(max_frames=48))
    widget = ReactorWidget(r, subshell=False)
    peer = FakeFrontEnd(widget, keep=0)  # the browser half: acks every frame, keeps no copies
    r.connect_sync()
    if model == "helios":
        r.send_command_sync("set_seed", {"seed": 7})
        for chunk in range(100):  # a new prompt every chunk for the first 100 chunks (~2.3 min)
            r.send_command_sync("schedule_prompt", {"prompt": f"soak scene {chunk}", "chunk": chunk})
        r.send_command_sync("start", {})
    heap = tracemalloc.is_tracing()
    print(f"{'t (s)':>6} {'runtime MB':>11} {'kernel MB':>10} {'fps rx':>7} {'fps shown':>9} "
          f"{'buf drop':>8} {'pump drop':>9} {'index':>6} {'rt threads':>10}" + (f" {'heap MB':>8}" if heap else ""),
          flush=True)
    first_snapshot: tracemalloc.Snapshot | None = None
    heap_series: list[float] = []
    series: list[tuple[float, float, float]] = []
    t0 = time.monotonic()
    last_seq, last_shown, last_t = r.frames.seq, peer.frames, t0
    ok = True
    while time.monotonic() - t0 < minutes * 60:
        threading.Event().wait(sample_s)
        now = time.monotonic()
        seq, shown = r.frames.seq, peer.frames
        latest = r.frames.latest()
        index = framecode.read_index(latest) if latest is not None else -1
        rt_mb, k_mb = rss_mb(runtime_pid), rss_mb()
        series.append((now - t0, rt_mb, k_mb))
        pump = widget.pump.get_stats()
        print(f"{now - t0:6.0f} {rt_mb:11.1f} {k_mb:10.1f} {(seq - last_seq) / (now - last_t):7.1f} "
              f"{(shown - last_shown) / (now - last_t):9.1f} {r.frames.evicted:8d} {pump.get('dropped', 0):9d} "
              f"{index:6d} {len(os.listdir(f'/proc/{runtime_pid}/task')):10d}"
              + (f" {tracemalloc.get_traced_memory()[0] / 2**20:8.2f}" if heap else ""), flush=True)
        if heap:
            heap_series.append(tracemalloc.get_traced_memory()[0] / 2**20)
            if first_snapshot is None:
                first_snapshot = tracemalloc.take_snapshot()
        if seq == last_seq or r.get_status() is not ReactorStatus.READY:
            print(f"frames stopped (status {r.get_status().value}, last error {r.get_last_error()})", flush=True)
            ok = False
            break
        last_seq, last_shown, last_t = seq, shown, now
    peer.close()
    widget.close()
    r.disconnect_sync()
    if len(series) >= 2:
        rt_growth = series[-1][1] - series[0][1]
        k_growth = series[-1][2] - series[0][2]
        print(f"RSS growth from the first to the last sample: runtime {rt_growth:+.1f} MB, kernel {k_growth:+.1f} MB "
              f"(bound < {GROWTH_LIMIT_MB:.0f} MB)", flush=True)
        ok = ok and rt_growth < GROWTH_LIMIT_MB and k_growth < GROWTH_LIMIT_MB
    if heap and first_snapshot is not None and len(heap_series) >= 2:
        report_heap(first_snapshot, heap_series)
    return ok


def report_heap(first: tracemalloc.Snapshot, series: list[float]) -> None:
    """Heap growth (traced Python allocations) from the first sample to the last, and where it grew."""
    last = tracemalloc.take_snapshot()
    print(f"traced heap: first sample {series[0]:.2f} MB, last {series[-1]:.2f} MB, "
          f"growth {series[-1] - series[0]:+.2f} MB, peak {tracemalloc.get_traced_memory()[1] / 2**20:.2f} MB",
          flush=True)
    print("largest growth by source line:", flush=True)
    for stat in last.compare_to(first, "lineno")[:10]:
        print(f"  {stat.size_diff / 1024:+9.1f} KiB  {stat.count_diff:+6d} blocks  {stat.traceback}", flush=True)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=10.0, help="soak duration (default 10)")
    p.add_argument("--sample", type=float, default=10.0, help="seconds between RSS samples (default 10)")
    p.add_argument("--model", default="helios", choices=["helios", "testpattern"])
    p.add_argument("--fps", type=float, default=24.0)
    p.add_argument("--cycles", type=int, default=0, help="connect/stream/disconnect cycles to run first")
    p.add_argument("--tracemalloc", action="store_true", help="trace this process's Python heap (slower)")
    args = p.parse_args()
    if args.tracemalloc:
        tracemalloc.start(5)
    rt = Runtime(args.model, args.fps)
    print(f"runtime {rt.url} (pid {rt.proc.pid}), model {args.model} at {args.fps:g} fps", flush=True)
    ok = True
    try:
        if args.cycles:
            ok = run_cycles(rt.url, args.model, args.cycles, rt.proc.pid) and ok
        if args.minutes > 0:
            ok = soak(rt.url, args.model, args.minutes, args.sample, rt.proc.pid) and ok
    finally:
        rt.stop()
    print("PASS" if ok else "FAIL", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

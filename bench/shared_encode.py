"""Runtime CPU per rendered frame with 1, 2 and 3 connections: one shared encode vs one per connection.

The runtime encodes each output once per codec and fans the packets out to every connection
(``reactor_notebook/runtime/fanout.py``, the default). The reference in the same run is the
previous behaviour, one encoder per connection, obtained by starting the runtime with its
shared-encoder hook refused (``--per-connection-runtime``, for this bench only). The runtime runs
in its own process (testpattern); this process connects N SDK clients at default settings and
samples the runtime process's CPU. Prints a table; asserts nothing.

    python bench/shared_encode.py [--seconds 6] [--configs 640x384@24,1280x720@30] [--rounds 2]
"""

from __future__ import annotations

import argparse
import logging
import runpy
import statistics
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from proc_cpu import machine_load, process_cpu_s
from soak import Runtime

from reactor_notebook.sdk import Reactor

MODES = {
    "shared (default)": ("-m", "reactor_notebook.runtime"),
    "per connection (reference)": (__file__, "--per-connection-runtime"),
}
WARMUP_S = 3.0


def serve_per_connection(argv: list[str]) -> None:
    """Run the runtime CLI with the shared-encoder hook refused: every connection encodes alone."""
    from reactor_notebook.runtime import peer

    peer.install_packer = lambda sender, track: False
    sys.argv = ["reactor_notebook.runtime", *argv]
    runpy.run_module("reactor_notebook.runtime", run_name="__main__")


def measure(
    url: str, pid: int, fps: float, counts: list[int], seconds: float
) -> dict[int, tuple[float, float]]:
    """{connections: (runtime CPU ms per rendered frame, slowest client's fps)} as clients join one by one."""
    clients: list[Reactor] = []
    got: dict[int, tuple[float, float]] = {}
    try:
        for n in counts:
            while len(clients) < n:
                r = Reactor("testpattern", local=True, local_url=url)
                r.connect_sync()
                clients.append(r)
            time.sleep(WARMUP_S)  # key frame, ring filling, encoder settled
            seqs, cpu0, t0 = [c.frames.seq for c in clients], process_cpu_s(pid), time.monotonic()
            time.sleep(seconds)  # the measurement window
            cpu, dt = process_cpu_s(pid) - cpu0, time.monotonic() - t0
            slowest = min((c.frames.seq - s) / dt for c, s in zip(clients, seqs, strict=True))
            got[n] = (1000.0 * cpu / (fps * dt), slowest)
    finally:
        for c in clients:
            c.disconnect_sync()
    return got


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--per-connection-runtime":
        serve_per_connection(sys.argv[2:])
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=6.0, help="measurement window per connection count")
    ap.add_argument("--configs", default="640x384@24,1280x720@30")
    ap.add_argument("--rounds", type=int, default=2, help="rounds, alternating which mode goes first")
    ap.add_argument("--connections", default="1,2,3")
    args = ap.parse_args()
    counts = [int(x) for x in args.connections.split(",")]
    warnings.filterwarnings("ignore", message="joined session")  # the extra clients join on purpose
    logging.getLogger("reactor_notebook.sdk.joining").setLevel(logging.ERROR)
    print(f"load at start: {machine_load()}")
    results: dict[tuple[str, str, int], list[tuple[float, float]]] = {}
    for config in args.configs.split(","):
        size, fps_text = config.split("@")
        w, h = size.split("x")
        fps = float(fps_text)
        for rnd in range(args.rounds):
            order = list(MODES) if rnd % 2 == 0 else list(reversed(MODES))
            for mode in order:
                rt = Runtime(
                    "testpattern",
                    fps,
                    ["--model-option", f"width={w}", "--model-option", f"height={h}"],
                    launcher=MODES[mode],
                )
                try:
                    for n, value in measure(rt.url, rt.proc.pid, fps, counts, args.seconds).items():
                        results.setdefault((config, mode, n), []).append(value)
                finally:
                    rt.stop()
    print(f"load at end: {machine_load()}")
    print(f"runtime CPU ms per rendered frame (median of {args.rounds} rounds); fps = slowest client's")
    head = f"{'source':<14} {'conns':>5} {'shared (default)':>18} {'fps':>5} {'per connection':>15} {'fps':>5} {'ratio':>6}"
    print(head)
    print("-" * len(head))
    for config in args.configs.split(","):
        for n in counts:
            shared = results[(config, "shared (default)", n)]
            per = results[(config, "per connection (reference)", n)]
            s_ms, s_fps = statistics.median(v[0] for v in shared), statistics.median(v[1] for v in shared)
            p_ms, p_fps = statistics.median(v[0] for v in per), statistics.median(v[1] for v in per)
            print(
                f"{config:<14} {n:>5} {s_ms:>18.2f} {s_fps:>5.1f} {p_ms:>15.2f} {p_fps:>5.1f} {s_ms / p_ms:>6.2f}"
            )


if __name__ == "__main__":
    main()

"""Connect → READY of our SDK against our runtime, phase by phase, for one or two versions of the code.

Each round starts a version's runtime (testpattern, its own process) and a fresh client process of
the same version, which times ``import reactor_notebook.sdk``, then connects ``--connects`` times
at default settings (the first connect of a process pays any first-use cost; later ones do not),
reporting connect → READY and the SDK's own ``connection_timings`` (SDP answer polling, ICE
negotiation, data channels). A version is a git ref (unpacked with ``git archive``, as in
``bench/paired_receive.py``) or ``.`` (this checkout); rounds alternate the versions. Also printed:
how long the runtime takes to have an answer ready after the offer (the client polls every 1 ms in
a separate probe connect, so the figure is the runtime's, not the poll schedule's). Asserts nothing.

    python bench/connect_phases.py [--a REF] [--b .] [--rounds 3] [--connects 4] [--codec vp8]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

PHASES = ("sdp_polling_ms", "ice_negotiation_ms", "data_channel_ms")


def client(url: str, connects: int) -> None:
    """One client process: time the SDK import, connect ``connects`` times, print one JSON line each."""
    t0 = time.perf_counter()
    from reactor_notebook.sdk import Reactor

    print(json.dumps({"import_ms": (time.perf_counter() - t0) * 1000.0}), flush=True)
    for i in range(connects):
        r = Reactor("testpattern", local=True, local_url=url)
        t = time.perf_counter()
        r.connect_sync()
        ready_ms = (time.perf_counter() - t) * 1000.0
        timings = asyncio.run(r.collect_stats()).get("connection_timings") or {}
        r.disconnect_sync()
        print(json.dumps({"connect": i, "ready_ms": ready_ms, **{k: timings.get(k) for k in PHASES}}), flush=True)
    if connects == 0:  # the answer probe: how soon the runtime has the answer, polled every 1 ms
        r = Reactor("testpattern", local=True, local_url=url, sdp_poll=(0.001, 0.001, 5000))
        r.connect_sync()
        timings = asyncio.run(r.collect_stats()).get("connection_timings") or {}
        r.disconnect_sync()
        print(json.dumps({"answer_ready_ms": timings.get("sdp_polling_ms")}), flush=True)


def run_version(path: str, codec: str, connects: int) -> list[dict[str, Any]]:
    """A fresh runtime and client of one version; the client's JSON lines."""
    from soak import Runtime

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (path, os.environ.get("PYTHONPATH", "")) if p)}
    rt = Runtime("testpattern", 24, [] if codec == "default" else ["--codec", codec], env=env)
    try:
        lines = []
        for n in (connects, 0):
            out = subprocess.run(
                [sys.executable, __file__, "--client", rt.url, str(n)],
                env=env, capture_output=True, text=True, timeout=120, check=True,
            ).stdout
            lines += [json.loads(x) for x in out.splitlines() if x.startswith("{")]
        return lines
    finally:
        rt.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--a", default=None, help="reference version: a git ref, or . (default: none)")
    parser.add_argument("--b", default=".", help="version under test: a git ref, or . for this checkout")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connects", type=int, default=4, help="connects per client process")
    parser.add_argument("--codec", default="vp8", help="runtime codec preference: default, vp8, h264")
    parser.add_argument("--client", nargs=2, metavar=("URL", "CONNECTS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        client(args.client[0], int(args.client[1]))
        return

    from paired_receive import unpack
    from proc_cpu import machine_load

    versions = {name: ref for name, ref in (("a", args.a), ("b", args.b)) if ref is not None}
    print(f"# machine load at start: {machine_load()}", flush=True)
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in versions}
    with tempfile.TemporaryDirectory() as tmp:
        paths = {name: unpack(ref, Path(tmp) / name) for name, ref in versions.items()}
        for rnd in range(args.rounds):
            order = list(versions) if rnd % 2 == 0 else list(versions)[::-1]
            for name in order:
                lines = run_version(paths[name], args.codec, args.connects)
                results[name] += lines
                ready = [round(x["ready_ms"]) for x in lines if "ready_ms" in x]
                print(f"# round {rnd + 1} {name} ({versions[name]}): connect→READY {ready} ms", flush=True)
    print(f"# machine load at end: {machine_load()}")
    print(f"connect → READY against our runtime ({args.codec}), medians over {args.rounds} rounds, ms:")
    header = ["version", "SDK import", "first connect", "later connects", *PHASES, "runtime answer ready"]
    print("  ".join(f"{h:>18}" for h in header))

    def med(values: list[Any]) -> str:
        values = [v for v in values if v is not None]
        return f"{statistics.median(values):.1f}" if values else "-"

    for name, lines in results.items():
        later = [x for x in lines if x.get("connect", 0) > 0]
        row = [
            f"{name} {versions[name]}",
            med([x.get("import_ms") for x in lines]),
            med([x["ready_ms"] for x in lines if x.get("connect") == 0]),
            med([x["ready_ms"] for x in later]),
            *(med([x.get(k) for x in later]) for k in PHASES),
            med([x.get("answer_ready_ms") for x in lines]),
        ]
        print("  ".join(f"{v:>18}" for v in row))


if __name__ == "__main__":
    main()

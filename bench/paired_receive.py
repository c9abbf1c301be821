"""Client CPU per received frame of two versions of our SDK, streaming side by side from one runtime.

An A/B for receive-path changes on a machine whose speed drifts (a shared VM): both clients
stream at the same time from the same runtime, so both see the same load, and the ratio B/A
per round is what to read. A version is a git ref (its ``reactor_notebook/`` is unpacked with
``git archive`` into a temporary folder put first on the client's PYTHONPATH) or ``.`` (this
checkout). The runtime (testpattern) runs in its own process; each client connects at default
settings, warms up, then measures its own process CPU over the window. Prints each round and the
median ratio; asserts nothing.

    python bench/paired_receive.py --a HEAD~1 --b . [--codec vp8] [--config 640x384@24] [--rounds 4] [--seconds 12]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))


def client(url: str, seconds: float, warmup: float) -> None:
    """One client: connect, warm up, print ``RESULT <cpu ms per frame> <frames>``, then exit at once.

    It exits without disconnecting, so the other client's shared session keeps streaming.
    """
    import reactor_notebook
    from reactor_notebook.sdk import Reactor

    print(f"# client code: {Path(reactor_notebook.__file__).parent}", flush=True)
    r = Reactor("testpattern", local=True, local_url=url)
    r.connect_sync()
    seq = r.frames.seq

    def wait_until(deadline: float) -> int:
        nonlocal seq
        n = 0
        while time.monotonic() < deadline:
            item = r.frames.wait_next(seq, 5.0)
            if item is None:
                raise SystemExit(f"no frame within 5 s (status {r.get_status().value})")
            n += item[1].seq - seq
            seq = item[1].seq
        return n

    wait_until(time.monotonic() + warmup)
    cpu0 = time.process_time()
    frames = wait_until(time.monotonic() + seconds)
    print(f"RESULT {(time.process_time() - cpu0) * 1000.0 / max(frames, 1):.3f} {frames}", flush=True)
    os._exit(0)


def unpack(ref: str, into: Path) -> str:
    """The PYTHONPATH entry for version ``ref``: '' for this checkout, else its package unpacked from git."""
    if ref == ".":
        return ""
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", ref, "reactor_notebook"], check=True, capture_output=True
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return str(into)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--a", default="HEAD~1", help="reference version: a git ref, or . for this checkout")
    parser.add_argument("--b", default=".", help="version under test: a git ref, or . for this checkout")
    parser.add_argument("--codec", default="vp8", help="runtime codec preference: default, vp8, h264")
    parser.add_argument("--config", default="640x384@24")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=12.0)
    parser.add_argument("--warmup", type=float, default=6.0)
    parser.add_argument("--client", nargs=3, metavar=("URL", "SECONDS", "WARMUP"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        client(args.client[0], float(args.client[1]), float(args.client[2]))
        return

    from proc_cpu import machine_load
    from sdk_receive import parse_config
    from soak import Runtime

    width, height, fps = parse_config(args.config)
    extra = ["--model-option", f"width={width}", "--model-option", f"height={height}"]
    extra += [] if args.codec == "default" else ["--codec", args.codec]
    print(f"# machine load at start: {machine_load()}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        paths = {name: unpack(ref, Path(tmp) / name) for name, ref in (("a", args.a), ("b", args.b))}
        rt = Runtime("testpattern", fps, extra)
        results: dict[str, list[float]] = {"a": [], "b": []}
        try:
            for rnd in range(args.rounds):
                order = ["a", "b"] if rnd % 2 == 0 else ["b", "a"]  # alternate who connects first
                procs = {}
                for name in order:
                    env = {
                        **os.environ,
                        "PYTHONPATH": os.pathsep.join(
                            p for p in (paths[name], os.environ.get("PYTHONPATH", "")) if p
                        ),
                    }
                    argv = [sys.executable, __file__, "--client", rt.url, str(args.seconds), str(args.warmup)]
                    procs[name] = subprocess.Popen(
                        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
                    )
                for name, proc in procs.items():
                    out, _ = proc.communicate(timeout=args.seconds + args.warmup + 90)
                    line = next((x for x in out.splitlines() if x.startswith("RESULT ")), None)
                    if line is None:
                        raise SystemExit(f"client {name} ({getattr(args, name)}) printed no result:\n{out}")
                    results[name].append(float(line.split()[1]))
                a, b = results["a"][-1], results["b"][-1]
                print(f"# round {rnd + 1}: A {a:.3f}  B {b:.3f} ms/frame  B/A {b / a:.3f}", flush=True)
        finally:
            rt.stop()
    ratios = [b / a for a, b in zip(results["a"], results["b"], strict=True)]
    print(f"# machine load at end: {machine_load()}")
    print(
        f"{args.config} {args.codec}, client CPU ms per received frame, medians of {args.rounds} paired rounds:"
    )
    print(f"  A {args.a}: {statistics.median(results['a']):.3f}")
    print(f"  B {args.b}: {statistics.median(results['b']):.3f}")
    print(f"  B/A per round: {' '.join(f'{r:.3f}' for r in ratios)}; median {statistics.median(ratios):.3f}")


if __name__ == "__main__":
    main()

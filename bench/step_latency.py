"""Step latency, request → (N, H, W, 3) arrays: our SDK vs the official reactor-sdk 1.13.0, same run.

Our runtime hosts Helios in this process (a step is one 33-frame 640x384 chunk, 24.3 MB of RAW
RGB over the chunked data channel, unless ``--frames`` says otherwise). Each client runs in its
own subprocess through the same script (tests/interop/clients/py113_step.py; ``--sdk ours`` for
ours, 1.13.0 in its venv): it connects stepped, starts Helios in its first step, takes
``--steps`` more steps and reports each step's latency. Rounds alternate which client goes first.
Prints medians per client and the ours/1.13 ratio; asserts nothing.

    python bench/step_latency.py [--rounds 2] [--steps 3] [--frames 33]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
INTEROP = REPO / "tests" / "interop"
sys.path.insert(0, str(INTEROP))

from py113_env import PY113  # noqa: E402

from reactor_notebook.runtime import LocalRuntime  # noqa: E402

CLIENT = INTEROP / "clients" / "py113_step.py"


def run_client(which: str, url: str, steps: int, workdir: Path) -> list[float]:
    """One client session: a starting step, then ``steps`` timed steps; their latencies in ms."""
    plan = [{"state": {"prompt": "A lighthouse in a storm", "seed": 7}, "commands": [["start", {}]]}]
    plan += [{} for _ in range(steps)]
    plan_path, out = workdir / f"{which}.json", workdir / f"{which}.npz"
    plan_path.write_text(json.dumps(plan))
    if which == "ours":
        argv = [sys.executable, str(CLIENT), url, "helios", str(plan_path), str(out), "--sdk", "ours"]
        env = {**os.environ, "PYTHONPATH": str(REPO)}
    else:
        argv = [str(PY113.ensure()), str(CLIENT), url, "helios", str(plan_path), str(out)]
        env = dict(os.environ)
    done = subprocess.run(argv, capture_output=True, text=True, timeout=600, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"{which} client failed:\n{done.stderr[-2000:]}")
    lines = [json.loads(x) for x in done.stdout.splitlines() if x.startswith("{")]
    results = [x for x in lines if "latency_ms" in x]
    return [x["latency_ms"] for x in results[1:]]  # the starting step is not timed


def measure(rounds: int, steps: int, frames: int) -> dict[str, list[float]]:
    """Alternating rounds of both clients against one in-process Helios; every timed step's ms."""
    lat: dict[str, list[float]] = {"1.13.0": [], "ours": []}
    with (
        LocalRuntime(model="helios", port=0, model_options={"step_frames": frames}) as rt,
        tempfile.TemporaryDirectory() as tmp,
    ):
        for r in range(rounds):
            order = ["1.13.0", "ours"] if r % 2 == 0 else ["ours", "1.13.0"]
            for which in order:
                got = run_client(which, rt.url, steps, Path(tmp))
                lat[which] += got
                print(f"round {r + 1} {which:>6}: " + ", ".join(f"{x:.0f}" for x in got) + " ms", flush=True)
    return lat


def report(lat: dict[str, list[float]], frames: int) -> None:
    """Print medians per client and the ours/1.13 ratio."""
    mb = frames * 640 * 384 * 3 / 1e6
    print(
        f"step latency, request -> arrays ({frames} frames 640x384 RAW = {mb:.1f} MB per step), "
        f"runtime in this process, clients in subprocesses; median over {len(lat['ours'])} steps:"
    )
    for which, values in lat.items():
        print(
            f"  {which:>8}: {statistics.median(values):7.0f} ms  (min {min(values):.0f}, max {max(values):.0f})"
        )
    print(f"  ours/1.13: {statistics.median(lat['ours']) / statistics.median(lat['1.13.0']):.2f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--frames", type=int, default=33, help="Helios frames per step (33 = one chunk)")
    args = ap.parse_args()
    report(measure(args.rounds, args.steps, args.frames), args.frames)


if __name__ == "__main__":
    main()

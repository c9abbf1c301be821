"""Frame age through the SDK, with and without marker-bit early release (issue 9).

A testpattern runtime runs in-process, so render times and SDK arrival times share one
``time.monotonic`` clock: each received frame's index code (``framecode.read_index``) is looked
up in the render log, giving the render → ``reactor.frames`` age. Prints a table; asserts nothing.

    python bench/bench_sdk_latency.py [--seconds 8] [--fps 24]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

from reactor_notebook import framecode
from reactor_notebook.runtime import LocalRuntime
from reactor_notebook.sdk import Reactor


def hook_render(rt: LocalRuntime) -> dict[int, float]:
    """Record when each frame index finished rendering (model thread)."""
    model: Any = rt.model
    log: dict[int, float] = {}
    original = model.render

    def render() -> Any:
        index = model.frame_index
        out = original()
        log[index] = time.monotonic()
        return out

    model.render = render
    return log


async def measure(rt: LocalRuntime, log: dict[int, float], early: bool, seconds: float) -> dict[str, float]:
    r = Reactor("testpattern", local=True, local_url=rt.url, early_release=early)
    ages: list[float] = []
    await r.connect()
    try:
        await asyncio.sleep(1.0)  # warm-up: first keyframe, decoder start
        seq = r.frames.seq
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            item = await asyncio.to_thread(r.frames.wait_next, seq, 2.0)
            if item is None:
                continue
            frame, meta = item
            seq = meta.seq
            index = framecode.read_index(frame)
            if index is not None and index in log:
                ages.append((meta.arrival_mono - log[index]) * 1000.0)
        stats = r.get_stats()
    finally:
        await r.disconnect()
    ages.sort()
    return {
        "frames": len(ages),
        "median_ms": statistics.median(ages) if ages else float("nan"),
        "p90_ms": ages[int(0.9 * (len(ages) - 1))] if ages else float("nan"),
        "min_ms": ages[0] if ages else float("nan"),
        "decode_ms": stats.get("decode_ms") or float("nan"),
        "age_after_decode_ms": stats.get("frame_age_ms") or float("nan"),
        "dropped": stats.get("frames_dropped", 0),
    }


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--fps", type=float, default=24.0)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    with LocalRuntime(model="testpattern", port=0, fps=args.fps) as rt:
        log = hook_render(rt)
        rows = []
        for _ in range(args.rounds):
            for early in (False, True):
                rows.append((early, await measure(rt, log, early, args.seconds)))
    print(
        f"render -> reactor.frames age, testpattern 640x384 @ {args.fps:g} fps, loopback, in-process runtime"
    )
    print(
        f"{'early release':<14}{'frames':>8}{'median ms':>11}{'p90 ms':>9}{'min ms':>9}{'decode ms':>11}{'post-decode ms':>16}{'dropped':>9}"
    )
    for early, m in rows:
        print(
            f"{'on' if early else 'off (stock)':<14}{m['frames']:>8}{m['median_ms']:>11.1f}{m['p90_ms']:>9.1f}"
            f"{m['min_ms']:>9.1f}{m['decode_ms']:>11.2f}{m['age_after_decode_ms']:>16.2f}{m['dropped']:>9}"
        )


if __name__ == "__main__":
    asyncio.run(main())

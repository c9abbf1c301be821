"""Step a runtime with the official reactor-sdk 1.13.0 (runs in the PY113 venv, never ours).

Usage: ``py113_step.py URL MODEL PLAN.json OUT.npz``. ``PLAN.json`` is a list of steps, each
``{"state": {...}, "commands": [["name", {...}], ...]}``. Every step's frames of every track
are saved to ``OUT.npz`` as ``step{i}_{track}`` (N, H, W, 3) uint8 arrays; one JSON line per
step goes to stdout: ``{"step", "tracks", "elapsed", "latency_ms"}`` for a result, or
``{"error", "type", "entry"}`` when 1.13 raised (e.g. ``StepRefusedError``). Only the public
1.13 API is used (``Reactor(..., generation="stepped")``, ``step``, ``StepCommand``).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

import numpy as np
from reactor_sdk import Reactor, StepCommand


async def main(url: str, model: str, plan: list[dict], out_path: str) -> int:
    reactor = Reactor(model, local=True, api_url=url, generation="stepped", step_timeout=60)
    t0 = time.monotonic()
    await reactor.connect()
    print(json.dumps({"connected_ms": (time.monotonic() - t0) * 1000}), flush=True)
    arrays: dict[str, np.ndarray] = {}
    try:
        for i, step in enumerate(plan):
            commands = [StepCommand(name, data or None) for name, data in step.get("commands", [])]
            t = time.monotonic()
            try:
                result = await reactor.step(state=step.get("state"), commands=commands)
            except Exception as exc:
                print(json.dumps({"error": str(exc), "type": type(exc).__name__,
                                  "entry": getattr(exc, "entry", None)}), flush=True)
                continue
            tracks = {}
            for track in result.tracks:
                stack = np.stack([f.array for f in track.frames])
                arrays[f"step{i}_{track.name}"] = stack
                tracks[track.name] = list(stack.shape)
            latency = (time.monotonic() - t) * 1000
            print(json.dumps({"step": result.step, "tracks": tracks, "elapsed": result.elapsed,
                              "latency_ms": latency}), flush=True)
    finally:
        await reactor.disconnect()
    np.savez(out_path, **arrays)
    return 0


if __name__ == "__main__":
    with open(sys.argv[3]) as fh:
        steps = json.load(fh)
    sys.exit(asyncio.run(main(sys.argv[1], sys.argv[2], steps, sys.argv[4])))

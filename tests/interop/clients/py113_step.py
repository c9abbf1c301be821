"""Step a runtime with the official reactor-sdk 1.13.0 (in the PY113 venv), or with ours (``--sdk ours``).

Usage: ``py113_step.py URL MODEL PLAN.json OUT.npz [--sdk ours] [--cloud API_KEY]`` (``--cloud``:
cloud-like mode, ``/tokens`` then ``/sessions`` on URL, instead of local mode); ours runs with the project's
interpreter (bench/step_latency.py compares both clients through this one script). ``PLAN.json`` is a list of steps, each
``{"state": {...}, "commands": [["name", {...}], ...], "media": {"track": [[h, w, value], ...]}}``
(media frames are solid (h, w, 3) uint8 frames of ``value``; their tracks are published first). Every step's frames of every track
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

OURS = "--sdk" in sys.argv and sys.argv[sys.argv.index("--sdk") + 1] == "ours"
CLOUD_KEY = sys.argv[sys.argv.index("--cloud") + 1] if "--cloud" in sys.argv else None
if OURS:
    from reactor_notebook import Reactor
else:
    from reactor_sdk import Reactor, StepCommand


def track_arrays(result: object) -> dict[str, np.ndarray]:
    """Every track's frames as one (N, H, W, 3) array, from either SDK's result."""
    if OURS:
        return dict(result.frames)  # type: ignore[attr-defined]
    return {t.name: np.stack([f.array for f in t.frames]) for t in result.tracks}  # type: ignore[attr-defined]


async def main(url: str, model: str, plan: list[dict], out_path: str) -> int:
    if CLOUD_KEY:
        reactor = Reactor(model, api_key=CLOUD_KEY, api_url=url, generation="stepped", step_timeout=60)
    elif OURS:
        reactor = Reactor(model, local=True, local_url=url, generation="stepped", step_timeout=60)
    else:
        reactor = Reactor(model, local=True, api_url=url, generation="stepped", step_timeout=60)
    t0 = time.monotonic()
    await reactor.connect()
    print(json.dumps({"connected_ms": (time.monotonic() - t0) * 1000}), flush=True)
    arrays: dict[str, np.ndarray] = {}
    try:
        for name in sorted({t for step in plan for t in step.get("media", {})}):
            await reactor.track(name).publish()
        for i, step in enumerate(plan):
            media = {
                track: [np.full((h, w, 3), v, np.uint8) for h, w, v in frames]
                for track, frames in step.get("media", {}).items()
            } or None
            commands = [
                (name, data or {}) if OURS else StepCommand(name, data or None) for name, data in step.get("commands", [])
            ]
            t = time.monotonic()
            try:
                result = await reactor.step(state=step.get("state"), commands=commands, media=media)
            except Exception as exc:
                print(json.dumps({"error": str(exc), "type": type(exc).__name__,
                                  "entry": getattr(exc, "entry", None)}), flush=True)
                continue
            stacks = track_arrays(result)
            latency = (time.monotonic() - t) * 1000  # request -> (N, H, W, 3) arrays, for both SDKs
            tracks = {}
            for name, stack in stacks.items():
                arrays[f"step{i}_{name}"] = stack
                tracks[name] = list(stack.shape)
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

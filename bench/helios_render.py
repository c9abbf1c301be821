"""Per-frame cost of the simulated Helios renderer vs the 24 fps frame budget (41.7 ms).

Run: ``python bench/helios_render.py [--frames N]``. Times ``HeliosSim.step()`` (one
generated frame, including chunk-boundary latching and messages) for plain prompts,
a reference image (cut and blend) and 2x super-resolution, single-threaded.
"""

from __future__ import annotations

import argparse
import base64
import io
import statistics
import time

import numpy as np
from PIL import Image

from reactor_notebook.runtime.models.helios_sim import HeliosSim
from reactor_notebook.runtime.models.helios_spec import CHUNK_FRAMES

BUDGET_MS = 1000.0 / 24


def _image_b64() -> str:
    rng = np.random.default_rng(1)
    arr = rng.integers(0, 255, (600, 1000, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "PNG")
    return base64.b64encode(buf.getvalue()).decode()


def _case(sr: str, image: str | None, frames: int) -> tuple[list[float], list[float], tuple[int, ...]]:
    sim = HeliosSim(seed=1, max_sr_scale="4x")
    sim.apply("set_sr_scale", {"sr_scale": sr})
    for k in range(0, frames // CHUNK_FRAMES + 2, 2):  # a new prompt every other chunk
        sim.apply("schedule_prompt", {"prompt": f"scene number {k}", "chunk": k})
    if image is not None:
        sim.apply("set_image", {"image_b64": _image_b64(), "transition": image})
    sim.apply("start")
    sim.step()  # warm caches (fonts, first scene)
    times, cpu = [], []
    shape: tuple[int, ...] = ()
    for _ in range(frames):
        if image == "blend" and sim.current_frame % CHUNK_FRAMES == 0:
            sim.apply("set_image", {"image_b64": _image_b64(), "transition": "blend"})
        t0, c0 = time.perf_counter(), time.thread_time()
        frame, _ = sim.step()
        cpu.append((time.thread_time() - c0) * 1000)
        times.append((time.perf_counter() - t0) * 1000)
        shape = frame.shape
    return times, cpu, shape


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=330, help="frames per case (default 330 = 10 chunks)")
    args = ap.parse_args()
    print(f"helios render cost per frame, {args.frames} frames per case, budget {BUDGET_MS:.1f} ms (24 fps)")
    print("wall = elapsed time (includes waiting for a busy CPU); cpu = this thread's CPU time (the cost on one core)")
    head = ("case", "size", "wall p50", "wall p95", "wall max", "cpu p50", "cpu p95", "cpu p95 % budget")
    print(f"{head[0]:<22} {head[1]:>10} " + " ".join(f"{h:>9}" for h in head[2:7]) + f" {head[7]:>17}")
    for label, sr, image in [
        ("prompts only", "off", None),
        ("image cut", "off", "cut"),
        ("image blend", "off", "blend"),
        ("sr 2x prompts only", "2x", None),
        ("sr 2x image blend", "2x", "blend"),
        ("sr 4x prompts only", "4x", None),
    ]:
        times, cpu, shape = _case(sr, image, args.frames)
        w50, w95 = statistics.median(times), statistics.quantiles(times, n=20)[18]
        c50, c95 = statistics.median(cpu), statistics.quantiles(cpu, n=20)[18]
        size = f"{shape[1]}x{shape[0]}"
        cols = " ".join(f"{v:9.2f}" for v in (w50, w95, max(times), c50, c95))
        print(f"{label:<22} {size:>10} {cols} {100 * c95 / BUDGET_MS:16.1f}%")


if __name__ == "__main__":
    main()

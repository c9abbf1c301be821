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

from reactor_notebook.runtime.models.helios_sim import CHUNK_FRAMES, HeliosSim

BUDGET_MS = 1000.0 / 24


def _image_b64() -> str:
    rng = np.random.default_rng(1)
    arr = rng.integers(0, 255, (600, 1000, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "PNG")
    return base64.b64encode(buf.getvalue()).decode()


def _case(sr: str, image: str | None, frames: int) -> tuple[list[float], tuple[int, ...]]:
    sim = HeliosSim(seed=1, max_sr_scale="4x")
    sim.apply("set_sr_scale", {"sr_scale": sr})
    for k in range(0, frames // CHUNK_FRAMES + 2, 2):  # a new prompt every other chunk
        sim.apply("schedule_prompt", {"prompt": f"scene number {k}", "chunk": k})
    if image is not None:
        sim.apply("set_image", {"image_b64": _image_b64(), "transition": image})
    sim.apply("start")
    sim.step()  # warm caches (fonts, first scene)
    times = []
    shape: tuple[int, ...] = ()
    for _ in range(frames):
        if image == "blend" and sim.current_frame % CHUNK_FRAMES == 0:
            sim.apply("set_image", {"image_b64": _image_b64(), "transition": "blend"})
        t0 = time.perf_counter()
        frame, _ = sim.step()
        times.append((time.perf_counter() - t0) * 1000)
        shape = frame.shape
    return times, shape


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=330, help="frames per case (default 330 = 10 chunks)")
    args = ap.parse_args()
    print(f"helios render cost per frame, {args.frames} frames per case, budget {BUDGET_MS:.1f} ms (24 fps)")
    print(f"{'case':<24} {'size':>10} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'p95 % budget':>13}")
    for label, sr, image in [
        ("prompts only", "off", None),
        ("image cut", "off", "cut"),
        ("image blend", "off", "blend"),
        ("sr 2x prompts only", "2x", None),
        ("sr 2x image blend", "2x", "blend"),
        ("sr 4x prompts only", "4x", None),
    ]:
        times, shape = _case(sr, image, args.frames)
        q = statistics.quantiles(times, n=20)
        p50, p95 = statistics.median(times), q[18]
        size = f"{shape[1]}x{shape[0]}"
        print(f"{label:<24} {size:>10} {p50:8.2f} {p95:8.2f} {max(times):8.2f} {100 * p95 / BUDGET_MS:12.1f}%")


if __name__ == "__main__":
    main()

"""Cost of the frame buffer on the receive path and of the analysis exports, at 640x384.

Run: ``python bench/frames_buffer.py [--frames N]``. Prints a table: ``push`` per frame (the
SDK's cost per decoded frame, with and without an active recording), peak memory held by the ring
vs its bound, ``record`` stacking, ``to_dataframe``, and ``save_mp4``/``save_gif``/``save_npz``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Callable

import numpy as np

from reactor_notebook.framecode import draw_index
from reactor_notebook.frames import MB, FrameBuffer, save_gif, save_mp4, save_npz

H, W = 384, 640


def frames(n: int) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, (H, W, 3), dtype=np.uint8)
    out = []
    for i in range(n):
        f = np.roll(base, i * 4, axis=1)
        draw_index(f, i)
        out.append(f)
    return out


def per_call_us(fn: Callable[[], object], n: int) -> tuple[float, float]:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1e6)
    return statistics.median(times), sorted(times)[int(0.99 * (len(times) - 1))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--frames", type=int, default=240)
    n = ap.parse_args().frames
    src = frames(n)
    rows: list[tuple[str, str]] = []

    buf = FrameBuffer(max_frames=60, max_mb=100)
    it = iter(src * 4)
    med, p99 = per_call_us(lambda: buf.push(next(it)), len(src) * 4)
    rows.append(("push (ring of 60)", f"median {med:.1f} us, p99 {p99:.1f} us"))
    rows.append(("ring held / bound", f"{buf.nbytes / MB:.1f} MB in {len(buf)} frames / 60 frames, 100 MB"))

    async def with_recording() -> tuple[float, float, float]:
        task = asyncio.create_task(buf.arecord(n=len(src)))
        await asyncio.sleep(0)
        it2 = iter(src)
        med2, p992 = per_call_us(lambda: buf.push(next(it2)), len(src))
        t = time.perf_counter()
        await task
        return med2, p992, (time.perf_counter() - t) * 1e3

    med2, p992, stack_ms = asyncio.run(with_recording())
    rows.append(("push while recording", f"median {med2:.1f} us, p99 {p992:.1f} us"))
    rows.append((f"record -> array ({n} frames)", f"{stack_ms:.0f} ms to stack {n * H * W * 3 / MB:.0f} MB"))

    buf.to_dataframe()  # import pandas outside the timing
    t = time.perf_counter()
    df = buf.to_dataframe()
    rows.append((f"to_dataframe ({len(df)} rows)", f"{(time.perf_counter() - t) * 1e3:.1f} ms"))

    arr = np.stack(src)
    with tempfile.TemporaryDirectory() as d:
        for name, fn in (
            ("save_mp4", lambda p: save_mp4(arr, p + ".mp4", fps=24)),
            ("save_gif", lambda p: save_gif(arr[:48], p + ".gif", fps=24)),
            ("save_npz", lambda p: save_npz(arr, p + ".npz")),
        ):
            t = time.perf_counter()
            path = fn(os.path.join(d, name))
            ms = (time.perf_counter() - t) * 1e3
            count = 48 if name == "save_gif" else n
            rows.append(
                (name, f"{ms / count:.2f} ms/frame, {os.path.getsize(path) / count / 1024:.0f} KiB/frame")
            )

    width = max(len(a) for a, _ in rows)
    print(f"frame buffer at {W}x{H} ({H * W * 3 / MB:.2f} MB/frame)")
    for a, b in rows:
        print(f"  {a:<{width}}  {b}")


if __name__ == "__main__":
    main()

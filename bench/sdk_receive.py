"""Receiving video: our SDK vs the official reactor-sdk 0.8.0 (PY08), same runtime, same run.

A testpattern runtime runs in this process with its render step logged (frame index code →
CLOCK_MONOTONIC time). Each client runs in its own subprocess through the same JSON-lines driver
(tests/interop/clients/py08_driver.py; ``--sdk ours`` for ours, PY08 in its venv), which reports
every decoded frame's arrival time and index code, so frame age = arrival - render on one clock.
Per client and configuration it measures delivered fps, frame age p50/p95, client CPU time per
frame, connect→READY time and RSS growth over the window (and its second half: our SDK keeps a
240-frame FrameBuffer ring by default, so its RSS grows until the ring is full), then prints a
table with ratios.
Prints numbers only; asserts nothing.

    python bench/sdk_receive.py [--seconds 15] [--configs 640x384@24,1280x720@30] [--rounds 1]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
INTEROP = REPO / "tests" / "interop"
sys.path.insert(0, str(INTEROP))

from harness import ClientProcess  # noqa: E402
from py08_env import ensure_py08_venv  # noqa: E402

from reactor_notebook import framecode  # noqa: E402
from reactor_notebook.runtime import LocalRuntime  # noqa: E402

DRIVER = INTEROP / "clients" / "py08_driver.py"
WARMUP = 2.0  # seconds after READY before the window opens (first keyframe, decoder start)


def parse_config(text: str) -> tuple[int, int, float]:
    """``"640x384@24"`` → (640, 384, 24.0)."""
    size, fps = text.split("@")
    width, height = size.lower().split("x")
    return int(width), int(height), float(fps)


def hook_render(rt: LocalRuntime) -> dict[int, float]:
    """Log when each frame index finished rendering (read back from the frame's own code)."""
    model: Any = rt.model
    log: dict[int, float] = {}
    original = model.render

    def render() -> Any:
        out = original()
        now = time.monotonic()
        for frame in out.values():
            log[framecode.read_index(frame)] = now
            break
        return out

    model.render = render
    return log


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run_client(
    sdk: str, python: Path, rt: LocalRuntime, log: dict[int, float], seconds: float
) -> dict[str, float]:
    """One client for one window: connect, warm up, measure, disconnect."""
    argv = [str(python), str(DRIVER), "--sdk", sdk, "--mode", "local", "--local-url", rt.url, "--no-trace"]
    with ClientProcess(argv) as client:
        client.wait_for("hello", 30)
        t_connect = time.monotonic()
        client.send("connect")
        ready = client.wait_for(
            lambda e: e.get("ev") == "status" and e["status"] == "ready", 30, what="READY"
        )
        connect_ms = (ready["t"] - t_connect) * 1000.0
        client.wait_frames(1, 15, start=client.mark())
        time.sleep(WARMUP)  # benchmark warm-up window, not synchronisation
        before = client.call("usage", 10)
        mark = client.mark()
        t0 = time.monotonic()
        time.sleep(seconds / 2)  # the measured window, first half
        middle = client.call("usage", 10)
        time.sleep(seconds / 2)  # second half
        t1 = time.monotonic()
        after = client.call("usage", 10)
        frames = [e for e in client.since(mark, "frame") if t0 <= e["t"] <= t1]
        client.call("disconnect", 15)
    ages = [(f["t"] - log[f["index"]]) * 1000.0 for f in frames if f["index"] in log]
    received = after["frames"] - before["frames"]
    return {
        "fps": len(frames) / (t1 - t0),
        "age_p50": percentile(ages, 0.5),
        "age_p95": percentile(ages, 0.95),
        "cpu_ms": (after["cpu"] - before["cpu"]) * 1000.0 / max(received, 1),
        "connect_ms": connect_ms,
        "rss_mb": (after["rss_kb"] - before["rss_kb"]) / 1024.0,
        "rss2_mb": (after["rss_kb"] - middle["rss_kb"]) / 1024.0,
        "frames": float(len(frames)),
        "matched": float(len(ages)),
    }


COLUMNS = [
    ("fps", "fps", "{:.1f}"),
    ("age_p50", "age p50 ms", "{:.1f}"),
    ("age_p95", "age p95 ms", "{:.1f}"),
    ("cpu_ms", "CPU ms/frame", "{:.2f}"),
    ("connect_ms", "connect→READY ms", "{:.0f}"),
    ("rss_mb", "RSS growth MB", "{:+.1f}"),
    ("rss2_mb", "2nd half MB", "{:+.1f}"),
    ("frames", "frames", "{:.0f}"),
]


def print_table(rows: list[tuple[str, str, dict[str, float]]]) -> None:
    header = ["config", "client", *[title for _, title, _ in COLUMNS]]
    lines = [header]
    by_config: dict[str, dict[str, dict[str, float]]] = {}
    for config, client, values in rows:
        by_config.setdefault(config, {})[client] = values
    for config, clients in by_config.items():
        for client, values in clients.items():
            lines.append([config, client, *[fmt.format(values[key]) for key, _, fmt in COLUMNS]])
        if "ours" in clients and "py08" in clients:
            ratio = []
            for key, _, _ in COLUMNS:
                a, b = clients["ours"][key], clients["py08"][key]
                ratio.append(f"{a / b:.2f}" if b and not key.startswith("rss") else "-")
            lines.append([config, "ours/py08", *ratio])
    widths = [max(len(row[i]) for row in lines) for i in range(len(header))]
    for n, row in enumerate(lines):
        print(
            "  ".join(
                cell.rjust(w) if i > 1 else cell.ljust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            )
        )
        if n == 0:
            print("  ".join("-" * w for w in widths))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--configs", default="640x384@24,1280x720@30")
    parser.add_argument("--rounds", type=int, default=1, help="repeat, alternating which client goes first")
    args = parser.parse_args()

    pythons = {"py08": ensure_py08_venv(), "ours": Path(sys.executable)}
    results: list[tuple[str, str, dict[str, float]]] = []
    for text in args.configs.split(","):
        width, height, fps = parse_config(text)
        options = {"width": width, "height": height}
        with LocalRuntime(model="testpattern", port=0, fps=fps, model_options=options) as rt:
            log = hook_render(rt)
            per_client: dict[str, list[dict[str, float]]] = {"py08": [], "ours": []}
            for rnd in range(args.rounds):
                order = ["py08", "ours"] if rnd % 2 == 0 else ["ours", "py08"]
                for sdk in order:
                    values = run_client(sdk, pythons[sdk], rt, log, args.seconds)
                    per_client[sdk].append(values)
                    print(
                        f"# {text} round {rnd + 1} {sdk}: "
                        + ", ".join(f"{k}={v:.1f}" for k, v in values.items()),
                        flush=True,
                    )
            for sdk in ("py08", "ours"):
                runs = per_client[sdk]
                merged = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
                results.append((text, sdk, merged))
    print()
    print(
        f"testpattern runtime in-process, clients in subprocesses, {args.seconds:.0f} s windows, medians of {args.rounds} round(s)"
    )
    print_table(results)


if __name__ == "__main__":
    main()

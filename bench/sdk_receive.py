"""Receiving video: our SDK vs reactor-sdk 1.13.0 (PY113) and 0.8.0 (PY08), same runtime, same run.

A testpattern runtime runs in this process with its render step logged (frame index code →
CLOCK_MONOTONIC time). Each client runs in its own subprocess and speaks the same JSON-lines
protocol (tests/interop/clients/py08_driver.py for 0.8.0 in its venv and, with ``--sdk ours``, for
ours at default settings; bench/clients/py113_receive.py for 1.13.0 in its venv, frames from
``Track.on_frame``, which hands RGB arrays), reporting every delivered RGB frame's arrival time,
index code and centre pixel, so everything is timed on one clock. Per client and configuration,
after a warm-up (first keyframe, and long enough for our SDK's ``reactor.frames`` ring to fill):

* delivered fps, and frames lost: rendered frames (between the first and last index received)
  that never reached the client's frame callback;
* frame age p50/p95: render done → frame callback;
* command→reply p50: ``set_color`` sent → the client's API hands over the model's reply (ours
  ``send_command_and_wait``, 1.13 the value ``send_command`` returns, 0.8.0 the ``color_set``
  message event);
* command→pixel p50/p95: ``set_color`` sent → first frame whose centre shows the colour
  (includes waiting for the next render tick, ~half a frame interval on average);
* client CPU time per delivered frame (user+sys of the whole client process) in steady state;
* connect→READY: the ``connect`` operation → the READY status event, in a client that has
  imported its SDK and built its ``Reactor`` (every client says ``hello`` only then);
* runtime CPU %: CPU of this process minus the bench's own threads (the in-process runtime:
  render, encode, send) while that one client streams, in % of one core;
* RSS: what our ring holds (``reactor.frames``, bounded: 120 frames / 256 MB by default) and the
  RSS growth *beyond* the ring over the measured window (``--minutes`` for a long window).

Each configuration runs twice: the runtime's default codec choice (it follows each client's
offer: 1.13 offers no H264) and VP8 for every client. Rounds alternate which client goes first;
tables show medians over rounds and ours/1.13, ours/0.8.0 ratios. Then step latency on Helios
(bench/step_latency.py). The machine's load average is printed at start and end.
Prints numbers only; asserts nothing.

    python bench/sdk_receive.py [--seconds 15] [--rounds 3] [--commands 25] [--codecs default,vp8]
                                [--configs 640x384@24,1280x720@30] [--clients py113,py08,ours]
                                [--step-rounds 2] [--minutes 5]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
INTEROP = REPO / "tests" / "interop"
sys.path.insert(0, str(INTEROP))
sys.path.insert(0, str(REPO / "bench"))

import step_latency  # noqa: E402
from harness import ClientError, ClientProcess  # noqa: E402
from proc_cpu import machine_load  # noqa: E402
from py08_env import ensure_py08_venv  # noqa: E402
from py113_env import PY113  # noqa: E402

from reactor_notebook import framecode  # noqa: E402
from reactor_notebook.runtime import LocalRuntime  # noqa: E402

DRIVER = INTEROP / "clients" / "py08_driver.py"
DRIVER_113 = REPO / "bench" / "clients" / "py113_receive.py"
WARMUP = 8.0  # s after the first frame: keyframe, decoder start, our 120-frame ring full (5 s at 24 fps)
COLOURS = [(0, 255, 0), (0, 0, 255), (255, 255, 0), (0, 255, 255), (255, 0, 255), (255, 255, 255)]
COLOUR_TOLERANCE = 48  # per channel, H.264 at the patch centre is within a few levels


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


def shows(event: dict[str, Any], colour: tuple[int, int, int]) -> bool:
    px = event.get("px") or []
    return bool(px) and all(abs(a - b) <= COLOUR_TOLERANCE for a, b in zip(px[0], colour, strict=True))


def command_latencies(
    client: ClientProcess, sdk: str, count: int, rng: random.Random
) -> tuple[list[float], list[float]]:
    """Send ``count`` set_color commands; ms from each send to its reply and to the first frame showing it.

    The reply is what each client's API hands back: ours ``send_command_and_wait``, 1.13 the value
    ``send_command`` returns, 0.8.0 (fire and forget) the ``color_set`` message event.
    """
    replies: list[float] = []
    pixels: list[float] = []
    previous: tuple[int, int, int] | None = None
    for i in range(count):
        colour = COLOURS[i % len(COLOURS)]
        if colour == previous:
            colour = COLOURS[(i + 1) % len(COLOURS)]
        previous = colour
        mark = client.mark()
        t_send = time.monotonic()
        data = dict(zip("rgb", colour, strict=True))
        if sdk == "py08":
            client.send("send_command", command="set_color", data=data)
            reply = client.wait_for(
                lambda e: e.get("ev") == "message" and (e.get("message") or {}).get("type") == "color_set",
                10,
                start=mark,
                what="the color_set message",
            )
        else:
            op_id = client.send("command_wait", command="set_color", data=data)
            reply = client.wait_for(
                lambda e, i=op_id: e.get("ev") in ("op_done", "op_failed") and e.get("id") == i,
                15,
                start=mark,
                what="the command's reply",
            )
            if reply["ev"] == "op_failed":
                raise ClientError(f"command_wait failed: {reply.get('error')}")
        hit = client.wait_for(
            lambda e, c=colour, t=t_send: e.get("ev") == "frame" and e["t"] >= t and shows(e, c),
            10,
            start=mark,
            what=f"a frame showing {colour}",
        )
        replies.append((reply["t"] - t_send) * 1000.0)
        pixels.append((hit["t"] - t_send) * 1000.0)
        time.sleep(rng.uniform(0.15, 0.35))  # random phase against the render clock, not synchronisation
    return replies, pixels


def thread_cpu(thread: threading.Thread) -> float:
    """CPU seconds one live thread of this process has used."""
    try:
        return time.clock_gettime(time.pthread_getcpuclockid(thread.ident or 0))
    except (OSError, ValueError):
        return 0.0


def runtime_cpu(client: ClientProcess) -> float:
    """CPU seconds of this process minus the bench's own threads: the in-process runtime's share."""
    times = os.times()
    bench_threads = [threading.main_thread(), *client._threads]  # the harness's reader threads
    return times.user + times.system - sum(thread_cpu(t) for t in bench_threads)


def client_argv(sdk: str, python: Path, rt: LocalRuntime, probe: str) -> list[str]:
    """The driver command line for one client kind (1.13 has its own driver, same protocol)."""
    if sdk == "py113":
        return [str(python), str(DRIVER_113), "--local-url", rt.url, "--probe", probe]
    return [
        str(python), str(DRIVER), "--sdk", sdk, "--mode", "local", "--local-url", rt.url,
        "--no-trace", "--probe", probe,
    ]  # fmt: skip


def run_client(
    sdk: str,
    python: Path,
    rt: LocalRuntime,
    log: dict[int, float],
    size: tuple[int, int],
    seconds: float,
    commands: int,
    rng: random.Random,
) -> dict[str, float]:
    """One client: connect, warm up, measure a window (CPU, ages, losses, RSS), then command→pixel."""
    probe = f"{size[0] // 2},{size[1] // 2}"
    with ClientProcess(client_argv(sdk, python, rt, probe)) as client:
        client.wait_for("hello", 30)
        t_connect = time.monotonic()
        client.send("connect")
        ready = client.wait_for(
            lambda e: e.get("ev") == "status" and e["status"] == "ready", 30, what="READY"
        )
        connect_ms = (ready["t"] - t_connect) * 1000.0
        client.wait_frames(1, 15, start=client.mark())
        start = client.call("usage", 10)
        time.sleep(WARMUP)  # benchmark warm-up, not synchronisation
        before = client.call("usage", 10)
        rt_before = runtime_cpu(client)
        mark = client.mark()
        t0 = time.monotonic()
        samples = [before]
        end = t0 + seconds
        while (left := end - time.monotonic()) > 0:
            time.sleep(min(10.0, left))  # the measured window, sampled every 10 s
            samples.append(client.call("usage", 10))
        t1 = time.monotonic()
        rt_after = runtime_cpu(client)
        after = samples[-1]
        frames = [e for e in client.since(mark, "frame") if t0 <= e["t"] <= t1]
        c2r, c2p = command_latencies(client, sdk, commands, rng) if commands else ([], [])
        client.call("disconnect", 15)
    ages = [(f["t"] - log[f["index"]]) * 1000.0 for f in frames if f["index"] in log]
    received = after["frames"] - before["frames"]
    indices = {f["index"] for f in frames if f["index"] is not None}
    lost = 0
    if indices:
        lo, hi = min(indices), max(indices)
        lost = sum(1 for i in range(lo, hi + 1) if i in log and i not in indices)
    ring_mb = after.get("ring_kb", 0) / 1024.0
    ring_growth = (after.get("ring_kb", 0) - before.get("ring_kb", 0)) / 1024.0
    rss = [s["rss_kb"] / 1024.0 for s in samples]
    if len(rss) > 3:  # long windows: the series shows a trend (leak) apart from allocator noise
        print(
            f"#   {sdk} RSS every 10 s from window start (MB): " + " ".join(f"{v:.0f}" for v in rss),
            flush=True,
        )
    return {
        "fps": len(frames) / (t1 - t0),
        "lost": float(lost),
        "age_p50": percentile(ages, 0.5),
        "age_p95": percentile(ages, 0.95),
        "c2r_p50": percentile(c2r, 0.5),
        "c2p_p50": percentile(c2p, 0.5),
        "c2p_p95": percentile(c2p, 0.95),
        "cpu_ms": (after["cpu"] - before["cpu"]) * 1000.0 / max(received, 1),
        "rt_cpu": (rt_after - rt_before) * 100.0 / (t1 - t0),
        "connect_ms": connect_ms,
        "ring_mb": ring_mb,
        "fill_mb": (before["rss_kb"] - start["rss_kb"]) / 1024.0,
        "growth_mb": rss[-1] - rss[0] - ring_growth,
        "swing_mb": max(rss) - min(rss),
        "frames": float(len(frames)),
        "c2p_n": float(len(c2p)),
    }


COLUMNS = [
    ("fps", "fps", "{:.1f}"),
    ("lost", "lost", "{:.0f}"),
    ("age_p50", "age p50", "{:.1f}"),
    ("age_p95", "age p95", "{:.1f}"),
    ("c2r_p50", "cmd→reply p50", "{:.1f}"),
    ("c2p_p50", "cmd→px p50", "{:.1f}"),
    ("c2p_p95", "cmd→px p95", "{:.1f}"),
    ("cpu_ms", "CPU ms/frame", "{:.2f}"),
    ("connect_ms", "connect→READY", "{:.0f}"),
    ("rt_cpu", "runtime CPU %", "{:.0f}"),
    ("ring_mb", "ring MB", "{:.0f}"),
    ("fill_mb", "warm-up RSS MB", "{:+.1f}"),
    ("growth_mb", "RSS growth MB", "{:+.1f}"),
]
RATIO_KEYS = {"fps", "age_p50", "age_p95", "c2r_p50", "c2p_p50", "c2p_p95", "cpu_ms", "connect_ms", "rt_cpu"}


def print_table(rows: list[tuple[str, str, dict[str, float]]]) -> None:
    header = ["config", "client", *[title for _, title, _ in COLUMNS]]
    lines = [header]
    by_config: dict[str, dict[str, dict[str, float]]] = {}
    for config, client, values in rows:
        by_config.setdefault(config, {})[client] = values
    for config, clients in by_config.items():
        for client, values in clients.items():
            lines.append([config, client, *[fmt.format(values[key]) for key, _, fmt in COLUMNS]])
        for other in ("py113", "py08"):
            if "ours" in clients and other in clients:
                ratio = []
                for key, _, _ in COLUMNS:
                    a, b = clients["ours"][key], clients[other][key]
                    ratio.append(f"{a / b:.2f}" if b and key in RATIO_KEYS else "-")
                lines.append([config, f"ours/{other}", *ratio])
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


def load() -> str:
    """The 1/5/15-minute load averages and core count: the bench runs on a shared machine."""
    return machine_load()


def measure_config(
    args: argparse.Namespace,
    text: str,
    codec: str,
    names: list[str],
    pythons: dict[str, Path],
    seconds: float,
    rng: random.Random,
) -> dict[str, list[dict[str, float]]]:
    """All rounds of every client against one runtime (size, fps, codec preference)."""
    width, height, fps = parse_config(text)
    options = {"width": width, "height": height}
    encoder = {} if codec == "default" else {"codec": codec}
    per_client: dict[str, list[dict[str, float]]] = {name: [] for name in names}
    with LocalRuntime(model="testpattern", port=0, fps=fps, model_options=options, **encoder) as rt:
        log = hook_render(rt)
        for rnd in range(args.rounds):
            order = names if rnd % 2 == 0 else names[::-1]
            for sdk in order:
                for attempt in (1, 2):  # a busy shared machine can break one run; say so and retry once
                    try:
                        values = run_client(
                            sdk, pythons[sdk], rt, log, (width, height), seconds, args.commands, rng
                        )
                        break
                    except ClientError as exc:
                        print(
                            f"# {text} {codec} round {rnd + 1} {sdk}: run {attempt} failed: {str(exc).splitlines()[0]}"
                        )
                        if attempt == 2:
                            raise
                per_client[sdk].append(values)
                print(
                    f"# {text} {codec} round {rnd + 1} {sdk}: "
                    + ", ".join(f"{k}={v:.2f}" for k, v in values.items()),
                    flush=True,
                )
    return per_client


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=15.0, help="measured window per client and round")
    parser.add_argument(
        "--minutes", type=float, default=None, help="long window (RSS over minutes); overrides --seconds"
    )
    parser.add_argument("--configs", default="640x384@24,1280x720@30")
    parser.add_argument("--rounds", type=int, default=3, help="repeat, alternating which client goes first")
    parser.add_argument("--commands", type=int, default=25, help="set_color commands per client and round")
    parser.add_argument("--clients", default="py113,py08,ours")
    parser.add_argument(
        "--codecs", default="default,vp8", help="runtime codec preference per row: default, vp8, h264"
    )
    parser.add_argument("--step-rounds", type=int, default=2, help="step latency rounds on Helios (0: skip)")
    parser.add_argument("--seed", type=int, default=9)
    args = parser.parse_args()
    seconds = args.minutes * 60.0 if args.minutes else args.seconds
    rng = random.Random(args.seed)

    names = args.clients.split(",")
    pythons = {
        "py08": ensure_py08_venv() if "py08" in names else Path(),
        "py113": PY113.ensure() if "py113" in names else Path(),
        "ours": Path(sys.executable),
    }
    print(f"# machine load at start: {load()}", flush=True)
    results: list[tuple[str, str, dict[str, float]]] = []
    for text in args.configs.split(","):
        for codec in args.codecs.split(","):
            label = f"{text} {codec}"
            per_client = measure_config(args, text, codec, names, pythons, seconds, rng)
            for sdk in names:
                runs = per_client[sdk]
                merged = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
                results.append((label, sdk, merged))
    print()
    print(
        f"testpattern runtime in-process, clients in subprocesses; {WARMUP:.0f} s warm-up, "
        f"{seconds:.0f} s windows, {args.commands} commands; medians of {args.rounds} round(s)"
    )
    print(
        "times in ms; lost = rendered frames never delivered; ring MB = what reactor.frames holds "
        "(ours; filled during warm-up); warm-up RSS = first frame → window start; "
        "RSS growth = over the window, beyond the ring's own growth"
    )
    print(f"machine load at end: {load()}")
    print_table(results)
    if args.step_rounds:
        print()
        step_latency.report(step_latency.measure(args.step_rounds, 3, 33), 33)


if __name__ == "__main__":
    main()

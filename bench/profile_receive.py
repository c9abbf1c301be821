"""Profile our SDK's receive path: py-spy on a client process streaming from an embedded runtime.

A testpattern runtime runs in this process; our SDK runs at default settings in its own
process (tests/interop/clients/py08_driver.py with ``--sdk ours``, as bench/sdk_receive.py
launches it). After a warm-up, ``py-spy record`` samples the client for ``--seconds`` and writes
a speedscope profile (``--rate 0``: nothing attached). Printed for the same window: the
client's CPU per delivered frame, split per thread (user, sys; from /proc, native threads too)
and the CPU of threads that ended within the window, and UDP datagrams per frame.

    python bench/profile_receive.py [--config 640x384@24] [--codec default|vp8|h264] [--seconds 15]
                                    [--rate 200] [--out /tmp/recv.speedscope.json] [--native] [--idle]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "interop"))
sys.path.insert(0, str(REPO / "bench"))

from harness import ClientProcess  # noqa: E402
from proc_cpu import thread_cpu_s  # noqa: E402
from sdk_receive import client_argv, parse_config  # noqa: E402

from reactor_notebook.runtime import LocalRuntime  # noqa: E402

WARMUP_S = 8.0


def udp_in() -> int:
    """UDP datagrams received on this host so far, IPv4 and IPv6 (/proc/net/snmp, /proc/net/snmp6)."""
    lines = [
        line.split() for line in Path("/proc/net/snmp").read_text().splitlines() if line.startswith("Udp:")
    ]
    v6 = [line.split() for line in Path("/proc/net/snmp6").read_text().splitlines()]
    return int(lines[1][lines[0].index("InDatagrams")]) + sum(int(v) for k, v in v6 if k == "Udp6InDatagrams")


def thread_names(profile: Path) -> dict[str, str]:
    """Thread id → Python thread name, from the speedscope profile's names (``Thread 123 "name"``)."""
    names: dict[str, str] = {}
    for entry in json.loads(profile.read_text()).get("profiles", []):
        parts = entry.get("name", "").split(" ", 2)
        if len(parts) == 3 and parts[0] == "Thread":
            names[parts[1]] = parts[2].strip('"')
    return names


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Stream from an embedded runtime; py-spy (or sleep) over the window; usage and /proc before/after."""
    width, height, fps = parse_config(args.config)
    encoder = {} if args.codec == "default" else {"codec": args.codec}
    options = {"width": width, "height": height}
    with LocalRuntime(model="testpattern", port=0, fps=fps, model_options=options, **encoder) as rt:
        argv = client_argv("ours", Path(sys.executable), rt, f"{width // 2},{height // 2}")
        with ClientProcess(argv) as client:
            pid = client.wait_for("hello", 30)["pid"]
            client.send("connect")
            client.wait_for(lambda e: e.get("ev") == "status" and e["status"] == "ready", 30, what="READY")
            client.wait_frames(1, 15, start=client.mark())
            time.sleep(WARMUP_S)  # benchmark warm-up (keyframe, ring fill), not synchronisation
            before = {"usage": client.call("usage", 10), "threads": thread_cpu_s(pid), "udp": udp_in()}
            spy = [
                "py-spy", "record", "-r", str(args.rate), "--format", "speedscope",
                "-o", args.out, "-d", str(int(args.seconds)), "-p", str(pid),
            ]  # fmt: skip
            spy += ["--native"] if args.native else ["--nonblocking"]  # --native needs to pause the process
            spy += ["--idle"] * args.idle
            if args.rate:
                subprocess.run(spy, check=True, stdout=subprocess.DEVNULL)
            else:
                time.sleep(args.seconds)  # per-thread CPU only, nothing attached
            after = {"usage": client.call("usage", 10), "threads": thread_cpu_s(pid), "udp": udp_in()}
            client.call("disconnect", 15)
    return {"before": before, "after": after}


def report(args: argparse.Namespace, before: dict[str, Any], after: dict[str, Any]) -> None:
    """CPU per delivered frame: the whole process, then each thread (user, sys), then datagrams."""
    frames = after["usage"]["frames"] - before["usage"]["frames"]
    per_frame = 1000.0 / max(frames, 1)
    cpu_ms = (after["usage"]["cpu"] - before["usage"]["cpu"]) * per_frame
    spy = "attached" if args.rate else "off"
    print(f"{args.config} {args.codec}: {frames} frames, {cpu_ms:.2f} ms CPU per frame (py-spy {spy})")
    names = thread_names(Path(args.out)) if args.rate else {}
    used = {
        tid: tuple(
            (a - b) * per_frame for a, b in zip(t, before["threads"].get(tid, (0.0, 0.0)), strict=True)
        )
        for tid, t in after["threads"].items()
    }
    for tid, (user, system) in sorted(used.items(), key=lambda kv: -sum(kv[1])):
        if user + system >= 0.005:
            label = names.get(tid, "native (no Python frames)")
            print(f"  thread {tid} {label}: {user + system:.2f} ms ({user:.2f} user, {system:.2f} sys)")
    print(f"  threads that ended in the window: {cpu_ms - sum(sum(v) for v in used.values()):.2f} ms")
    udp = (after["udp"] - before["udp"]) / max(frames, 1)
    print(f"  UDP datagrams received on this host per frame (both directions): {udp:.1f}")
    if args.rate:
        print(f"profile: {args.out}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config", default="640x384@24")
    parser.add_argument("--codec", default="default", help="runtime codec preference: default, vp8, h264")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--rate", type=int, default=200, help="py-spy samples per second (0: no py-spy)")
    parser.add_argument("--out", default="/tmp/recv.speedscope.json")
    parser.add_argument("--native", action="store_true", help="py-spy --native (C frames too)")
    parser.add_argument("--idle", action="store_true", help="py-spy --idle (idle samples too)")
    args = parser.parse_args()
    report(args, **measure(args))


if __name__ == "__main__":
    main()

"""What the rolling recorder costs the runtime: encode CPU per frame, disk per second, and whole-runtime CPU.

1. Encoder alone: simulated Helios frames (640x384, generating) fed to one track's recorder as
   fast as it takes them; CPU per frame (process CPU while the main thread only waits) and the
   bytes it writes per second of media.
2. Whole runtime, recording on vs off in the same run: a Helios runtime subprocess per round
   (``--no-recording`` alternating), our SDK connected and the model generating; runtime CPU
   (user+sys from /proc) per rendered frame after a warm-up. Rounds alternate on/off; medians.

    python bench/recorder_cost.py [--rounds 2] [--seconds 8]

Prints numbers; asserts nothing. Run it on a quiet machine for figures worth quoting.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from proc_cpu import process_cpu_s

from reactor_notebook.runtime.media import to_yuv420
from reactor_notebook.runtime.models import create_model
from reactor_notebook.runtime.recording import SegmentPolicy, TrackRecording
from reactor_notebook.sdk import Reactor


def helios_frames(count: int) -> list:
    """I420 frames of the simulated Helios model while it generates (what the worker hands the recorder)."""
    model = create_model("helios", fps=24)
    model.handle_command("set_prompt", {"prompt": "A foggy harbour at dawn"}, {})
    model.handle_command("start", {}, {})
    return [to_yuv420(model.render()["main_video"]) for _ in range(count)]


def encoder_alone(frames: list, repeat: int) -> tuple[float, float]:
    """(CPU ms per frame, bytes per media second) of one track's recorder at the default policy."""
    with tempfile.TemporaryDirectory() as tmp:
        rec = TrackRecording("main_video", Path(tmp) / "t", 24.0, SegmentPolicy())
        c0 = time.process_time()
        n = 0
        for _ in range(repeat):
            for yuv in frames:
                rec.offer(yuv)
                n += 1
                while rec.frames_written < n - 4:
                    time.sleep(0.001)
        rec.stop()
        cpu = time.process_time() - c0
        size = sum(p.stat().st_size for p in Path(tmp, "t").glob("chunk_*.m4s"))
        kept = sum(rec.duration(i) for i in range(rec.oldest, (rec.available() or (0, -1))[1] + 1))
    return cpu * 1000 / n, size / max(kept, 1e-9)


def runtime_round(recording: bool, warmup: float, seconds: float) -> tuple[float, int]:
    """(runtime CPU ms per rendered frame, frames received) with recording on or off."""
    cmd = [sys.executable, "-m", "reactor_notebook.runtime", "--model", "helios", "--port", "0"]
    if not recording:
        cmd.append("--no-recording")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        url = re.search(r"(http://\S+)", proc.stdout.readline()).group(1)  # type: ignore[union-attr]
        reactor = Reactor("helios", local=True, local_url=url)
        reactor.connect_sync()
        try:
            reactor.send_command_sync("schedule_prompt", {"prompt": "A foggy harbour at dawn", "chunk": 0})
            reactor.send_command_sync("start", {})
            count = [0]

            @reactor.on_frame
            def _count(frame: object) -> None:
                count[0] += 1

            time.sleep(warmup)
            n0, cpu0 = count[0], process_cpu_s(proc.pid)
            time.sleep(seconds)  # the measurement window
            cpu, got = process_cpu_s(proc.pid) - cpu0, count[0] - n0
        finally:
            reactor.disconnect_sync()
        return cpu * 1000 / max(got, 1), got
    finally:
        proc.terminate()
        proc.wait(15)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--warmup", type=float, default=3.0)
    args = ap.parse_args()

    frames = helios_frames(96)
    ms, rate = encoder_alone(frames, 3)
    print(f"recorder encode alone (helios 640x384, x264 ultrafast crf 26, 2 s segments): {ms:.2f} ms CPU/frame, "
          f"{rate * 8 / 1e6:.2f} Mbit/s -> {rate * 120 / 1e6:.1f} MB per 120 s window")

    results: dict[bool, list[float]] = {True: [], False: []}
    for r in range(args.rounds):
        for recording in ((False, True) if r % 2 == 0 else (True, False)):
            per_frame, n = runtime_round(recording, args.warmup, args.seconds)
            results[recording].append(per_frame)
            print(f"  round {r + 1} recording={'on ' if recording else 'off'}: {per_frame:.2f} ms CPU/frame ({n} frames)")
    off, on = statistics.median(results[False]), statistics.median(results[True])
    print(f"runtime CPU per delivered frame (helios 640x384@24, one client): off {off:.2f} ms, on {on:.2f} ms, "
          f"recorder +{on - off:.2f} ms ({(on / off - 1) * 100:+.0f} %)")


if __name__ == "__main__":
    main()

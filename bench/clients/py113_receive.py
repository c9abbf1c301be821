"""bench/sdk_receive.py's reactor-sdk 1.13.0 client: JSON lines on stdin/stdout, as py08_driver.py.

Runs inside the PY113 venv. Speaks the subset of tests/interop/clients/py08_driver.py's protocol
that bench/sdk_receive.py uses, so the three clients are measured through one harness: ``connect``,
``send_command`` (fire and forget), ``command_wait`` (awaits 1.13's correlated reply),
``usage`` (process CPU, RSS, frames) and ``disconnect``; events ``hello``, ``status`` and one
``frame`` per RGB array that ``Track.on_frame`` hands over (arrival time on CLOCK_MONOTONIC,
decoded frame index code, probe pixels). Only the public 1.13 API is used.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import reactor_sdk

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "interop" / "clients"))
from driver_io import current_rss_kb, emit, emit_frame, report_op


class Driver:
    """Owns one 1.13 Reactor and executes operations read from stdin."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.probes = [tuple(int(v) for v in p.split(",")) for p in args.probe]
        self.frames = 0
        self.reactor = reactor_sdk.Reactor(args.model, local=True, api_url=args.local_url)
        self.reactor.on("status_changed", lambda s: emit("status", status=getattr(s, "value", str(s))))
        self.reactor.track(args.track).on_frame(self._on_frame)

    def _on_frame(self, image: np.ndarray) -> None:
        now = time.monotonic()
        self.frames += 1
        emit_frame(self.frames, image, self.probes, now)

    async def run_op(self, op: dict[str, Any]) -> None:
        """Execute one operation; report ``op_done`` (or ``op_failed``) with its id."""
        await report_op(op, self._dispatch)

    async def _dispatch(self, name: str | None, op: dict[str, Any]) -> Any:
        r = self.reactor
        if name == "connect":
            await r.connect()
            return {"status": r.get_status().value}
        if name in ("send_command", "command_wait"):
            reply = await r.send_command(op["command"], op.get("data", {}))
            return {"reply": reply} if name == "command_wait" else None
        if name == "disconnect":
            await r.disconnect()
            return {"status": r.get_status().value}
        if name == "usage":
            cpu = os.times()
            return {"cpu": cpu.user + cpu.system, "rss_kb": current_rss_kb(), "frames": self.frames}
        raise ValueError(f"unknown op {name!r}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--local-url", required=True)
    parser.add_argument("--model", default="testpattern")
    parser.add_argument("--track", default="main_video", help="the model's output track")
    parser.add_argument("--probe", action="append", default=[], help="x,y pixel to report per frame")
    args = parser.parse_args()
    driver = Driver(args)  # the Reactor is built before "hello", as in the other clients
    emit("hello", sdk="py113", version=reactor_sdk.__version__, pid=os.getpid())
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    pending: set[asyncio.Task[None]] = set()
    while (line := await reader.readline()) and (op := json.loads(line)).get("op") != "exit":
        task = asyncio.create_task(driver.run_op(op))
        pending.add(task)
        task.add_done_callback(pending.discard)
    for task in list(pending):
        task.cancel()
    if driver.reactor.get_status().value != "disconnected":
        await asyncio.wait_for(driver.reactor.disconnect(), 10)
    emit("bye", frames=driver.frames)


if __name__ == "__main__":
    asyncio.run(main())

"""Drive the official reactor-sdk 1.13.0 (PY113, wire v1) from a test over stdin/stdout JSON lines.

Runs inside the PY113 venv. Operations arrive as JSON lines on stdin (``{"op": "connect"}``,
``{"op": "send_command", "command": ..., "data": ...}``, ...); events go to stdout as JSON lines:
status changes, decoded frames of ``main_video`` (index code, shape, probe pixels), messages,
runtime messages, errors, and ``op_done``/``op_failed`` with the operation's result or the
exception's class, code and text. Only the public 1.13 API is used.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
from typing import Any

import numpy as np
from driver_io import emit, framecode, report_op, serve_ops


class Driver:
    """Owns one 1.13 Reactor and executes operations."""

    def __init__(self, args: argparse.Namespace) -> None:
        import reactor_sdk

        self.sdk = reactor_sdk
        self.args = args
        self.probes = [tuple(int(v) for v in p.split(",")) for p in args.probe]
        self.frames = 0
        kwargs: dict[str, Any] = {"api_url": args.api_url, "local": args.mode == "local"}
        if args.api_key:
            kwargs["api_key"] = args.api_key
        if args.generation != "streamed":
            kwargs["generation"] = args.generation
        self.reactor = reactor_sdk.Reactor(args.model, **kwargs)
        r = self.reactor
        r.on("status_changed", lambda s: emit("status", status=str(getattr(s, "value", s))))
        r.on("message", lambda m: emit("message", message=m))
        r.on("runtime_message", lambda m: emit("runtime_message", message=m))
        r.on("error", lambda e: emit("error", code=getattr(e, "code", None), message=str(e)))
        r.track("main_video").on_frame(self._on_frame)

    def _on_frame(self, image: np.ndarray) -> None:
        self.frames += 1
        if self.frames % self.args.frame_every:
            return
        h, w = image.shape[:2]
        px = [image[min(y, h - 1), min(x, w - 1)].tolist() for x, y in self.probes]
        emit("frame", n=self.frames, index=framecode.read_index(image), shape=list(image.shape), px=px)

    async def run_op(self, op: dict[str, Any]) -> None:
        """Execute one operation; report ``op_done`` (or ``op_failed``) with its id."""
        await report_op(op, self._dispatch)

    async def _dispatch(self, name: str | None, op: dict[str, Any]) -> Any:
        r = self.reactor
        if name == "connect":
            await r.connect()
            return {"status": str(r.status.value), "session_id": r.session_id}
        if name == "send_command":
            data = dict(op.get("data") or {})
            if op.get("file_key"):
                data[op["file_key"]] = self.ref
            return await r.send_command(op["command"], data)
        if name == "request_schema":
            return await r.request_schema()
        if name == "publish":
            self.input = await r.publish_track(op["name"])
            return {"published": self.input.published}
        if name == "push_frames":
            image = np.zeros((op.get("height", 240), op.get("width", 320), 3), np.uint8)
            image[:] = op.get("color", [0, 200, 0])
            for _ in range(int(op["count"])):
                self.input.push_frame(image)
                await asyncio.sleep(1 / 15)
            return None
        if name == "unpublish":
            r.unpublish_track(op["name"])
            return None
        if name == "pause":
            await r.track(op["name"]).pause()
            return sorted(r.paused_tracks)
        if name == "resume":
            await r.track(op["name"]).resume()
            return sorted(r.paused_tracks)
        if name == "get_stats":
            stats = await r.get_stats()
            return dataclasses.asdict(stats) if dataclasses.is_dataclass(stats) else str(stats)
        if name == "upload":
            self.ref = await r.upload_file(bytes.fromhex(op["hex"]), name=op["name"], mime_type=op["mime_type"])
            return dataclasses.asdict(self.ref)
        if name == "step":
            result = await r.step(state=op.get("state"), commands=op.get("commands"))
            return {"step": getattr(result, "step", None)}
        if name == "request_recording":
            return dataclasses.asdict(await r.request_recording())
        if name == "request_clip":
            return dataclasses.asdict(await r.request_clip(float(op["duration"])))
        if name == "state":
            return {"status": str(r.status.value), "frames": self.frames}
        if name == "disconnect":
            await r.disconnect()
            return None
        raise ValueError(f"unknown op {name!r}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mode", choices=["local", "cloud"], required=True)
    parser.add_argument("--model", default="testpattern")
    parser.add_argument("--api-url", required=True)
    parser.add_argument("--api-key", default=None)
    parser.add_argument("--probe", action="append", default=[], help="x,y pixel to report per frame")
    parser.add_argument("--frame-every", type=int, default=1)
    parser.add_argument("--generation", choices=["streamed", "stepped"], default="streamed")
    args = parser.parse_args()
    import reactor_sdk

    driver = Driver(args)  # the Reactor is built before "hello", as in the other clients
    emit("hello", sdk="py113", version=getattr(reactor_sdk, "__version__", "?"), pid=os.getpid())
    await serve_ops(driver.run_op, driver.reactor.disconnect)
    emit("bye", frames=driver.frames)


if __name__ == "__main__":
    asyncio.run(main())

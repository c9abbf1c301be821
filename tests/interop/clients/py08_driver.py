"""Drive the official reactor-sdk 0.8.0 (PY08) from a test over stdin/stdout JSON lines.

Runs inside the PY08 venv (never the project's interpreter); ``--sdk ours`` drives
``reactor_notebook.sdk.Reactor`` (same public API) with the project's interpreter instead, so
bench/sdk_receive.py compares both clients through one identical harness. The test writes operations as JSON
lines on stdin (``{"op": "connect"}``, ``{"op": "send_command", ...}``, ...) and reads events as
JSON lines on stdout: status changes, every received frame (decoded frame index, shape, probe
pixels, arrival time on CLOCK_MONOTONIC), application and runtime messages, errors, and a trace of
every HTTP exchange PY08 makes (method, path, status, a few body fields; never header values).
Only the public PY08 API is used; the HTTP trace wraps aiohttp without changing what is sent.
"""

from __future__ import annotations

import argparse
import asyncio
import fractions
import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
from aiortc import VideoStreamTrack
from av import VideoFrame
from driver_io import current_rss_kb, emit, emit_frame, framecode, report_op, serve_ops
from yarl import URL

REPO = Path(__file__).resolve().parents[3]


# ---------------------------------------------------------------------------------------------
# HTTP trace: observe PY08's requests without altering them
# ---------------------------------------------------------------------------------------------
_BODY_FIELDS = ("session_id", "state", "connection_id", "detail")


def install_http_trace() -> None:
    """Wrap aiohttp.ClientSession._request to report every exchange as an ``http`` event."""
    original = aiohttp.ClientSession._request

    async def traced(self: aiohttp.ClientSession, method: str, str_or_url: Any, **kwargs: Any) -> Any:
        headers = {k.lower() for k in (kwargs.get("headers") or {})}
        response = await original(self, method, str_or_url, **kwargs)
        info: dict[str, Any] = {
            "method": method.upper(),
            "path": URL(str(str_or_url)).path,
            "status": response.status,
            "headers": sorted(headers),
        }
        try:
            body = await response.read()  # cached by aiohttp, the client reads it again
            if body:
                parsed = json.loads(body)
                if isinstance(parsed, dict):
                    info["body"] = {k: parsed[k] for k in _BODY_FIELDS if k in parsed}
                    info["keys"] = sorted(parsed)
                else:
                    info["body"] = parsed if parsed is None else type(parsed).__name__
        except Exception:
            pass
        emit("http", **info)
        return response

    aiohttp.ClientSession._request = traced  # type: ignore[method-assign]


# ---------------------------------------------------------------------------------------------
# A numpy-sourced input track for publish_track
# ---------------------------------------------------------------------------------------------
class NumpyTrack(VideoStreamTrack):
    """Solid-colour 320x240 frames at 15 fps, each stamped with its index code."""

    def __init__(self, color: tuple[int, int, int], width: int = 320, height: int = 240) -> None:
        super().__init__()
        self.color = color
        self.size = (height, width)
        self.count = 0

    async def recv(self) -> VideoFrame:
        pts, _ = await self.next_timestamp()
        image = np.empty((*self.size, 3), np.uint8)
        image[:] = self.color
        framecode.draw_index(image, self.count)
        self.count += 1
        frame = VideoFrame.from_ndarray(image, format="rgb24")
        frame.pts = pts
        frame.time_base = fractions.Fraction(1, 90000)
        return frame


# ---------------------------------------------------------------------------------------------
# The driver
# ---------------------------------------------------------------------------------------------
class Driver:
    """Owns one PY08 Reactor and executes operations read from stdin."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.probes = [tuple(int(v) for v in p.split(",")) for p in args.probe]
        self.frames = 0
        self.tracks: dict[str, NumpyTrack] = {}
        if args.sdk == "ours":
            self.reactor = self._ours(args)
        else:
            self.reactor = self._py08(args)
        self._wire()

    def _ours(self, args: argparse.Namespace) -> Any:
        """reactor_notebook.sdk.Reactor with the same arguments (explicit local base URL)."""
        sys.path.insert(0, str(REPO))
        from reactor_notebook.sdk import Reactor

        self.sdk = None
        kwargs: dict[str, Any] = {"model_name": args.model, "local": args.mode == "local"}
        if args.api_key is not None:
            kwargs["api_key"] = args.api_key
        if args.mode == "cloud":
            kwargs["api_url"] = args.api_url
        else:
            kwargs["local_url"] = args.local_url or "http://localhost:8080"
        return Reactor(**kwargs)

    def _py08(self, args: argparse.Namespace) -> Any:
        """The official PY08 Reactor, optionally with forged version headers or a local base URL."""
        import reactor_sdk
        import reactor_sdk.reactor

        if args.local_url:
            # Explicit opt-in only: PY08 hard-codes http://localhost:8080 for local mode.
            reactor_sdk.reactor.LOCAL_API_URL = args.local_url
        if args.forge_api_version is not None:
            # Version-negotiation tests: make PY08 announce another API version in its headers.
            import reactor_sdk.coordinator.client as coordinator
            import reactor_sdk.coordinator.local_client as local_coordinator

            coordinator.REACTOR_API_VERSION = args.forge_api_version
            local_coordinator.REACTOR_API_VERSION = args.forge_api_version
        if args.forge_webrtc_version is not None:
            reactor_sdk.reactor.REACTOR_WEBRTC_VERSION = args.forge_webrtc_version
        self.sdk = reactor_sdk
        kwargs: dict[str, Any] = {"model_name": args.model, "local": args.mode == "local"}
        if args.api_key is not None:
            kwargs["api_key"] = args.api_key
        if args.mode == "cloud":
            kwargs["api_url"] = args.api_url
        return reactor_sdk.Reactor(**kwargs)

    def _wire(self) -> None:
        r = self.reactor
        r.on("status_changed", lambda s: emit("status", status=getattr(s, "value", str(s))))
        r.on("session_id_changed", lambda sid: emit("session_id", session_id=sid))
        r.on("message", lambda m: emit("message", message=m))
        r.on("runtime_message", lambda m: emit("runtime_message", message=m))
        r.on("track_received", lambda name, track: emit("track_received", name=name, kind=track.kind))
        r.on("capabilities_received", self._on_caps)
        r.on(
            "error",
            lambda e: emit(
                "error", code=e.code, message=e.message, component=e.component, recoverable=e.recoverable
            ),
        )
        r.set_frame_callback(self._on_frame)

    def _on_caps(self, caps: Any) -> None:
        caps = caps or {}
        emit(
            "capabilities",
            tracks=caps.get("tracks"),
            commands=[c.get("name") for c in caps.get("commands") or []],
            keys=sorted(caps),
        )

    def _on_frame(self, image: np.ndarray) -> None:
        now = time.monotonic()
        self.frames += 1
        if self.frames % self.args.frame_every:
            return
        emit_frame(self.frames, image, self.probes, now)

    async def run_op(self, op: dict[str, Any]) -> None:
        """Execute one operation; report ``op_done`` (or ``op_failed``) with its id."""
        await report_op(op, self._dispatch)

    async def _dispatch(self, name: str | None, op: dict[str, Any]) -> Any:
        r = self.reactor
        if name == "connect":
            await r.connect()
            return {"status": r.get_status().value, "session_id": r.get_session_id()}
        if name == "send_command":
            if self.sdk is None:  # ours: application scope only
                await r.send_command(op["command"], op.get("data", {}))
                return None
            scope = self.sdk.MessageScope(op.get("scope", "application"))
            await r.send_command(op["command"], op.get("data", {}), scope)
            return None
        if name == "command_wait":  # ours only: await the model's correlated reply
            done = await r.send_command_and_wait(op["command"], op.get("data", {}))
            return {"reply": done.reply, "confirmed": done.confirmed}
        if name == "publish":
            track = NumpyTrack(tuple(op.get("color", (0, 200, 0))))
            self.tracks[op["name"]] = track
            await r.publish_track(op["name"], track)
            return {"status": r.get_status().value}
        if name == "unpublish":
            await r.unpublish_track(op["name"])
            return None
        if name == "pause_track":
            await r.pause_track(op["name"])
            return None
        if name == "resume_track":
            await r.resume_track(op["name"])
            return None
        if name == "reconnect":
            await r.reconnect()
            return {"status": r.get_status().value}
        if name == "disconnect":
            await r.disconnect(recoverable=bool(op.get("recoverable", False)))
            return {"status": r.get_status().value, "session_id": r.get_session_id()}
        if name == "usage":
            usage = resource.getrusage(resource.RUSAGE_SELF)
            rss_kb = current_rss_kb()
            out = {"cpu": usage.ru_utime + usage.ru_stime, "rss_kb": rss_kb, "frames": self.frames}
            if self.sdk is None:  # ours: what reactor.frames holds, and frames the reader skipped
                out["ring_kb"] = r.frames.nbytes // 1024
                out["dropped"] = r.get_stats()["frames_dropped"]
            return out
        if name == "state":
            err = r.get_last_error()
            return {
                "status": r.get_status().value,
                "session_id": r.get_session_id(),
                "last_error": err.code if err else None,
                "frames": self.frames,
            }
        raise ValueError(f"unknown op {name!r}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mode", choices=["local", "cloud"], required=True)
    parser.add_argument("--sdk", choices=["py08", "ours"], default="py08")
    parser.add_argument("--model", default="testpattern")
    parser.add_argument("--api-url", default=None)
    parser.add_argument("--api-key", default=None)
    parser.add_argument("--local-url", default=None, help="override PY08's fixed http://localhost:8080")
    parser.add_argument("--forge-api-version", type=int, default=None, help="announce this API version")
    parser.add_argument("--forge-webrtc-version", default=None, help="announce this WebRTC version")
    parser.add_argument("--probe", action="append", default=[], help="x,y pixel to report per frame")
    parser.add_argument("--frame-every", type=int, default=1, help="report every Nth frame")
    parser.add_argument("--no-trace", action="store_true")
    args = parser.parse_args()
    if not args.no_trace:
        install_http_trace()

    driver = Driver(args)  # imports the SDK and builds the Reactor: "hello" means ready for ops
    if args.sdk == "py08":
        import reactor_sdk

        emit("hello", sdk="py08", version=reactor_sdk.__version__, pid=os.getpid())
    else:
        emit("hello", sdk="ours", pid=os.getpid())

    async def close() -> None:
        if driver.reactor.get_status().value != "disconnected" or driver.reactor.get_session_id():
            await driver.reactor.disconnect()

    await serve_ops(driver.run_op, close)
    emit("bye", frames=driver.frames)


if __name__ == "__main__":
    asyncio.run(main())

"""Helpers for SDK tests: SDK-loop tasks, a numpy video source, frame waits (the recorder is testutil.Recorder)."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
from aiortc import VideoStreamTrack
from av import VideoFrame

from reactor_notebook.sdk import Reactor
from reactor_notebook.sdk.loop import get_sdk_loop


def sdk_tasks() -> list[asyncio.Task[Any]]:
    """Tasks alive on the SDK loop (other than the probe itself)."""

    async def probe() -> list[asyncio.Task[Any]]:
        me = asyncio.current_task()
        return [t for t in asyncio.all_tasks() if t is not me and not t.done()]

    return get_sdk_loop().run_sync(probe(), timeout=5)


class NumpyTrack(VideoStreamTrack):
    """A video source made of numpy frames (what a notebook user would publish as a webcam)."""

    def __init__(self, width: int = 320, height: int = 240) -> None:
        super().__init__()
        self.count = 0
        self.size = (height, width)

    async def recv(self) -> VideoFrame:
        pts, time_base = await self.next_timestamp()
        arr = np.full((*self.size, 3), (self.count * 7) % 256, dtype=np.uint8)
        self.count += 1
        frame = VideoFrame.from_ndarray(arr, format="rgb24")
        frame.pts, frame.time_base = pts, time_base
        return frame


async def next_frames(reactor: Reactor, n: int, timeout: float = 10.0) -> list[tuple[np.ndarray, Any]]:
    """The next ``n`` distinct frames pushed to ``reactor.frames`` (latest wins between waits)."""
    out: list[tuple[np.ndarray, Any]] = []
    seq = reactor.frames.seq
    for _ in range(n):
        item = await asyncio.to_thread(reactor.frames.wait_next, seq, timeout)
        assert item is not None, f"no frame within {timeout} s (status {reactor.get_status().value})"
        seq = item[1].seq
        out.append(item)
    return out

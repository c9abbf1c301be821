"""Helpers for SDK tests: thread-safe event recorder, numpy video source, frame waits."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from aiortc import VideoStreamTrack
from av import VideoFrame

from reactor_notebook.sdk import Reactor
from reactor_notebook.sdk.loop import get_sdk_loop


class Recorder:
    """Collects (event, payload) pairs from any thread; ``wait`` blocks on a predicate with a timeout."""

    def __init__(self) -> None:
        self.items: list[tuple[str, Any]] = []
        self._cond = threading.Condition()

    def add(self, event: str, payload: Any) -> None:
        with self._cond:
            self.items.append((event, payload))
            self._cond.notify_all()

    def of(self, event: str) -> list[Any]:
        with self._cond:
            return [p for e, p in self.items if e == event]

    def wait(self, pred: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
        end = time.monotonic() + timeout
        with self._cond:
            while not pred():
                left = end - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"timed out after {timeout} s waiting for {what}; got {self.items[-10:]}"
                    )
                self._cond.wait(left)

    async def await_(self, pred: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
        await asyncio.to_thread(self.wait, pred, timeout, what)

    def attach(self, reactor: Reactor) -> Recorder:
        for event in (
            "status_changed",
            "session_id_changed",
            "message",
            "runtime_message",
            "track_received",
            "error",
            "session_expiration_changed",
            "capabilities_received",
            "stats_update",
        ):
            reactor.on(event, lambda *args, _e=event: self.add(_e, args[0] if len(args) == 1 else args))
        return self


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

"""Model thread, frame producer and media tracks of one session.

:class:`ModelWorker` runs every model call on one dedicated thread (a single-worker executor,
so calls keep their submission order), drives ``render()`` at the model's fps and fans each
frame out to its sinks, latest frame wins: one shared encoder per output and codec
(:mod:`.fanout`), or a connection's raw :class:`OutputTrack` where no shared encoder applies. Input frames
are handed to ``on_input_frame`` the same way, dropping stale ones when the model lags.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol, TypeVar

import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import VideoFrame

from ..media import VIDEO_TIME_BASE, PtsClock, is_rgb_frame
from .encoding import EncoderSettings
from .fanout import EncodedTrack, EncoderPool
from .models.base import Model

log = logging.getLogger(__name__)

T = TypeVar("T")


def to_yuv420(frame: np.ndarray) -> np.ndarray:
    """RGB (H, W, 3) uint8 → planar I420 as one (H*3/2, W) array, converted once per frame."""
    if not is_rgb_frame(frame):
        raise ValueError(f"model frames must be (H, W, 3) uint8 RGB, got {frame.shape} {frame.dtype}")
    h, w = frame.shape[:2]
    if h % 2 or w % 2:
        frame = frame[: h - h % 2, : w - w % 2]
    vf = VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
    return vf.reformat(format="yuv420p").to_ndarray()


class OutputTrack(MediaStreamTrack):
    """One connection's copy of a model output: latest frame wins, last frame repeats when idle."""

    kind = "video"

    def __init__(self, name: str, fps: float) -> None:
        super().__init__()
        self.name = name
        self.period = 1.0 / max(fps, 1.0)
        self.paused = False
        self.frames_sent = 0
        self._latest: np.ndarray | None = None
        self._fresh = asyncio.Event()
        self._resumed = asyncio.Event()
        self._resumed.set()
        self._clock = PtsClock()

    def push(self, yuv: np.ndarray) -> None:
        """Offer a new frame (event-loop thread); an unsent older one is simply replaced."""
        self._latest = yuv
        self._fresh.set()

    def pause(self) -> None:
        """Stop sending (frames are dropped, not queued) until :meth:`resume`."""
        self.paused = True
        self._resumed.clear()

    def resume(self) -> None:
        """Send again after :meth:`pause`; the next frame is the newest one, not a backlog."""
        self.paused = False
        self._resumed.set()

    def stop(self) -> None:
        """End the track and wake a waiting :meth:`recv` so it raises instead of hanging."""
        super().stop()
        self._fresh.set()
        self._resumed.set()

    async def recv(self) -> VideoFrame:
        """aiortc's pull: the newest frame, or the last one again after 1.5 periods without a new one.
        Waits while paused or before the first frame; raises MediaStreamError once stopped."""
        while True:
            if self.readyState != "live":
                raise MediaStreamError
            if self.paused:
                await self._resumed.wait()
                continue
            if self._latest is None:
                await self._fresh.wait()
                self._fresh.clear()
                continue
            try:
                # a new frame, or after a little more than a period the last one again (keeps decoders warm)
                await asyncio.wait_for(self._fresh.wait(), timeout=self.period * 1.5)
            except asyncio.TimeoutError:
                pass
            self._fresh.clear()
            if self.readyState != "live":
                raise MediaStreamError
            if self.paused:
                continue
            return self._make_frame(self._latest)

    def _make_frame(self, yuv: np.ndarray) -> VideoFrame:
        frame = VideoFrame.from_ndarray(yuv, format="yuv420p")
        frame.pts = self._clock.stamp(time.monotonic())
        frame.time_base = VIDEO_TIME_BASE
        self.frames_sent += 1
        return frame


class FrameSink(Protocol):
    """What the worker feeds rendered I420 frames to: a raw output track or a shared encoder."""

    name: str

    def push(self, yuv: np.ndarray) -> None:
        """Take the newest frame of output ``name``; an older unsent one may be replaced."""


OutgoingTrack = OutputTrack | EncodedTrack
"""A connection's output track: encoded once per session (shared) or per connection (raw frames)."""


class ModelWorker:
    """One model thread per session: renders at fps, runs commands and input frames in order."""

    def __init__(self, model: Model, loop: asyncio.AbstractEventLoop, encoder: EncoderSettings | None = None) -> None:
        self.model = model
        self.loop = loop
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"reactor-model-{model.name}")
        self.encoders = EncoderPool(encoder or EncoderSettings(), model.fps)
        self._outputs: dict[str, set[FrameSink]] = {}
        self._latest: dict[str, np.ndarray] = {}
        self._producer: asyncio.Task[None] | None = None
        self._pending_input: dict[str, VideoFrame] = {}
        self._input_pumps: dict[str, asyncio.Task[None]] = {}
        self._error_counts: dict[str, int] = {}
        self.frames_rendered = 0
        self.closed = False
        self.tap: Callable[[str, np.ndarray], None] | None = None  # sees every rendered I420 frame (recorder)

    # --- running things on the model thread ---------------------------------------------
    def submit(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """Queue a call on the model thread now (keeps arrival order); errors are logged."""
        fut = self.loop.run_in_executor(self._executor, fn, *args)
        fut.add_done_callback(self._log_failure)
        return fut

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` on the model thread and await its result."""
        return await self.loop.run_in_executor(self._executor, fn, *args)

    @staticmethod
    def _log_failure(fut: asyncio.Future[Any] | Future[Any]) -> None:
        if fut.cancelled():
            return
        exc = fut.exception()
        if exc is not None:
            log.error("model call failed: %s: %s", type(exc).__name__, exc)

    # --- output ------------------------------------------------------------------------
    def start(self) -> None:
        """Start the frame producer (idempotent)."""
        if self._producer is None and not self.closed:
            self._producer = self.loop.create_task(self._produce(), name="reactor-producer")

    def attach(self, track: OutgoingTrack) -> None:
        """Feed a connection's output track: through its codec's shared encoder, or raw frames."""
        if isinstance(track, EncodedTrack):
            shared, created = self.encoders.attach(track)
            if created:
                self.subscribe(shared)
        else:
            self.subscribe(track)

    def detach(self, track: OutgoingTrack) -> None:
        """Stop feeding a connection's output track (it closed or was renegotiated away)."""
        if isinstance(track, EncodedTrack):
            shared = self.encoders.detach(track)
            if shared is not None:
                self.unsubscribe(shared)
        else:
            self.unsubscribe(track)

    def subscribe(self, sink: FrameSink) -> None:
        """Feed ``sink`` every rendered frame of its output; it gets the latest frame at once."""
        self._outputs.setdefault(sink.name, set()).add(sink)
        latest = self._latest.get(sink.name)
        if latest is not None:
            sink.push(latest)

    def unsubscribe(self, sink: FrameSink) -> None:
        """Stop feeding ``sink``."""
        self._outputs.get(sink.name, set()).discard(sink)

    def _log_limited(self, key: str, message: str) -> None:
        """Log a repeating per-frame error on its 1st, 100th, 200th... occurrence only."""
        n = self._error_counts.get(key, 0) + 1
        self._error_counts[key] = n
        if n == 1 or n % 100 == 0:
            log.error("%s (%d times so far)", message, n)

    def _render(self) -> dict[str, np.ndarray]:
        try:
            frames = self.model.render()
        except Exception as exc:
            self._log_limited("render", f"model render failed: {type(exc).__name__}: {exc}")
            return {}
        out = {}
        for name, frame in frames.items():
            try:
                out[name] = to_yuv420(np.asarray(frame))
            except ValueError as exc:
                self._log_limited(f"output:{name}", f"model output {name!r}: {exc}")
        return out

    async def _produce(self) -> None:
        period = 1.0 / max(self.model.fps, 0.1)
        next_t = self.loop.time()
        while not self.closed:
            frames = await self.call(self._render)
            self.frames_rendered += 1
            for name, yuv in frames.items():
                self._latest[name] = yuv
                if self.tap is not None:
                    self.tap(name, yuv)
                for track in list(self._outputs.get(name, ())):
                    track.push(yuv)
            next_t += period
            delay = next_t - self.loop.time()
            if delay < -period:  # fell behind (slow model or busy CPU): resync instead of bursting
                next_t = self.loop.time()
                delay = 0.0
            await asyncio.sleep(max(delay, 0.0))

    # --- input ------------------------------------------------------------------------------
    def offer_input(self, track: str, frame: VideoFrame) -> None:
        """Hand an input frame to the model; if it is still busy, only the newest waits."""
        if self.closed:
            return
        self._pending_input[track] = frame
        pump = self._input_pumps.get(track)
        if pump is None or pump.done():
            self._input_pumps[track] = self.loop.create_task(self._pump_input(track))

    async def _pump_input(self, track: str) -> None:
        while not self.closed and track in self._pending_input:
            frame = self._pending_input.pop(track)
            try:
                await self.call(self._deliver_input, track, frame)
            except RuntimeError:  # executor shut down
                return
            except Exception as exc:
                self._log_limited(f"input:{track}", f"model on_input_frame({track!r}) failed: {type(exc).__name__}: {exc}")

    def _deliver_input(self, track: str, frame: VideoFrame) -> None:
        rgb: np.ndarray = frame.to_ndarray(format="rgb24")
        self.model.on_input_frame(track, rgb)

    # --- shutdown -------------------------------------------------------------------------------
    async def close(self, final: Callable[[], Any] | None = None) -> None:
        """Stop producing, run ``final`` (e.g. the disconnected hook) on the model thread, end the thread."""
        if self.closed:
            return
        self.closed = True
        await self.encoders.aclose()
        tasks = [t for t in [self._producer, *self._input_pumps.values()] if t is not None]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._pending_input.clear()
        if final is not None:
            try:
                await self.call(final)
            except Exception as exc:
                log.error("model shutdown hook failed: %s: %s", type(exc).__name__, exc)
        self._executor.shutdown(wait=False, cancel_futures=True)
        await self.loop.run_in_executor(None, self._executor.shutdown, True)

"""The display pump: kernel→browser frames with ack-window flow control, adaptive quality and stats.

Python decides when and what to send; the browser only draws and acknowledges. The pump
runs on its own thread so a busy cell does not freeze the view: it waits until the ack
window has room, then takes the *newest* frame from the FrameBuffer (latest wins, never a
queue), encodes it and sends it. Frames that arrive while the window is full are skipped
before encoding. Acks may arrive on any thread (main shell, a subshell), so all state sits
behind one lock. A frame not acked within an RTT-adaptive deadline (at most ``ack_timeout``)
counts as lost and frees its slot, which keeps frames flowing when acks stall (e.g. a cell blocks
the shell without subshells). The window and the quality ladder live in ``flow.py``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np

from ..framecode import has_index_code
from ..frames import FrameBuffer, FrameMeta
from .encode import Encoded, JpegEncoder, downscale, encode_png
from .flow import DEFAULT_LEVEL, LEVELS, AdaptiveQuality, FlowWindow, PumpConfig, percentile
from .messages import FrameMsg

log = logging.getLogger(__name__)

SendFn = Callable[[FrameMsg, list[bytes]], None]

__all__ = ["DEFAULT_LEVEL", "LEVELS", "AdaptiveQuality", "FlowWindow", "FramePump", "PumpConfig", "SendFn"]


class FramePump:
    """Reads the newest frames from a FrameBuffer and sends them to the browser under flow control."""

    def __init__(
        self,
        frames: FrameBuffer,
        send: SendFn,
        config: PumpConfig | None = None,
        *,
        encoder: JpegEncoder | None = None,
        clock: Callable[[], float] = time.monotonic,
        on_stats: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.frames = frames
        self._send = send
        self.config = config or PumpConfig()
        self.encoder = encoder or JpegEncoder()
        self.clock = clock
        self.on_stats = on_stats
        self._lock = threading.Condition()
        self.window = FlowWindow(
            int(self.config.window), float(self.config.ack_timeout), float(self.config.min_ack_timeout)
        )
        self.adapt = AdaptiveQuality(self.config.level)
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._last_seq = -1
        self._count_from = frames.seq
        self._last_sent: tuple[Any, FrameMeta] | None = None
        self._last_sent_png = False
        self._last_send_time = 0.0
        self._force = False
        self._paused = False  # every view is hidden (or closed): encode nothing
        self._last_progress = clock()  # last ack or view (re)render
        self._sent_since_progress = 0
        self.sent = 0
        self.skipped = 0  # frames superseded before they could be sent (latest wins)
        self.unchanged = 0  # identical frames not resent
        self.errors = 0
        self.last_error: str | None = None
        self._sent_log: deque[tuple[float, int]] = deque(maxlen=512)  # (time, bytes)
        self._ack_log: deque[float] = deque(maxlen=512)
        self._rtts: deque[float] = deque(maxlen=200)
        self._encode_ms: deque[float] = deque(maxlen=200)
        self._src_log: deque[tuple[float, int]] = deque(maxlen=512)  # (time, seq)
        self._full_time = 0.0
        self._period_start = clock()
        self._created = self._period_start
        self._period_acked = 0
        self._period_lost0 = 0
        self._period_late0 = 0
        self._period_rtts: list[float] = []

    # --- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        """Start the pump thread (idempotent)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="reactor-widget-pump", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop the thread and wait for it (at most ``timeout`` s)."""
        self._stop.set()
        with self._lock:
            self._lock.notify_all()
        t = self._thread
        if t is not None and t is not threading.current_thread():
            t.join(timeout)
        self._thread = None

    @property
    def running(self) -> bool:
        """Whether the pump's thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.step(0.1)
            except Exception as exc:  # never let the view die silently: count, log and go on
                self.errors += 1
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("widget pump step failed")
                self._stop.wait(0.2)

    # --- browser events (any thread) -----------------------------------------------------------
    def on_ack(self, fid: Any, frames: Any = 1) -> None:
        """The browser handled frame ``fid`` (and every older one); ``frames``: how many it drew or dropped."""
        if not isinstance(fid, int) or isinstance(fid, bool):
            return
        count = frames if isinstance(frames, int) and not isinstance(frames, bool) else 1
        count = max(1, min(count, 64))
        with self._lock:
            now = self.clock()
            rtt = self.window.ack(fid, now)
            if rtt is not None:
                self._last_progress = now
                self._sent_since_progress = 0
                self._rtts.append(rtt)
                self._period_rtts.append(rtt)
                self._ack_log.extend([now] * count)
                self._period_acked += 1
            self._lock.notify_all()

    def on_view_ready(self) -> None:
        """A view (re)rendered: forget what was in flight and resend the current frame at once."""
        with self._lock:
            self.window.reset()
            self._force = True
            self._last_progress = self.clock()
            self._sent_since_progress = 0
            self._lock.notify_all()

    def set_paused(self, paused: bool) -> None:
        """Pause while no view can be seen (hidden tab, scrolled away, output cleared); resume at once."""
        with self._lock:
            if self._paused and not paused:
                self._force = True
                self._last_progress = self.clock()
                self._sent_since_progress = 0
            self._paused = bool(paused)
            self._lock.notify_all()

    @property
    def stalled(self) -> bool:
        """No ack for ``stall_after`` s although a full window went out (view gone or shell blocked)."""
        cfg = self.config
        return (
            cfg.stall_after is not None
            and self._sent_since_progress >= self.window.size
            and self.clock() - self._last_progress > cfg.stall_after
        )

    def set_track(self, track: str | None) -> None:
        """Show another output track (None: the first); the next frame goes out at once."""
        with self._lock:
            self.config.track = track or None
            self._force = True
            self._lock.notify_all()

    # --- one iteration (the thread calls this; tests call it directly) --------------------------
    def step(self, timeout: float = 0.25) -> bool:
        """Send at most one frame; return True if one was sent."""
        self._publish_period_stats()
        slot = self._wait_for_slot(timeout)
        if slot is None:
            return False
        force, after = slot
        item: tuple[Any, FrameMeta] | None = None
        if force:  # a view appeared or came back: show the newest frame now, changed or not
            item = self.frames.latest_ref() or self._last_sent
        if item is None:  # (also when forced before any frame exists: wait, never spin)
            item = self.frames.wait_next(after, timeout)
        if item is None:
            return self._maybe_send_still()
        frame, meta = item
        taken = self._take(frame, meta, force)
        if taken is None:
            return False
        quality, scale, unchanged = taken
        if unchanged:  # a static picture (idle card, pause): upgrade it to a lossless still once
            return self._maybe_send_still()
        t0 = time.perf_counter()
        enc = self.encoder.encode(downscale(frame, scale), quality)
        encode_ms = (time.perf_counter() - t0) * 1000.0
        self._emit(enc, frame, meta, encode_ms, quality, scale, still=False)
        return True

    def _publish_period_stats(self) -> None:
        with self._lock:
            stats = self._maybe_end_period(self.clock())
        if stats is not None and self.on_stats is not None:
            try:
                self.on_stats(stats)
            except Exception:
                log.exception("widget stats callback failed")

    def _wait_for_slot(self, timeout: float) -> tuple[bool, int] | None:
        """``(force, last seq)`` when a frame may go out now; else wait (at most ``timeout``) and return None."""
        cfg = self.config
        with self._lock:
            now = self.clock()
            if self._paused:
                self._lock.wait(timeout)
                return None
            if self.stalled and not self._force:
                wait = cfg.probe_interval - (now - self._last_send_time)
                if wait > 1e-6:
                    self._lock.wait(min(timeout, wait))
                    return None
            if not self.window.has_room(now):
                wait = min(timeout, max(0.001, self.window.time_to_room(now)))
                t0 = self.clock()
                self._lock.wait(wait)
                self._full_time += max(0.0, self.clock() - t0)
                return None
            if cfg.max_fps and self._last_send_time and not self._force:
                gap = 1.0 / cfg.max_fps - (now - self._last_send_time)
                if gap > 1e-6:
                    self._lock.wait(min(gap, timeout))
                    return None
            return self._force, self._last_seq

    def _take(self, frame: Any, meta: FrameMeta, force: bool) -> tuple[int, float, bool] | None:
        """Count the source frame; return ``(quality, scale, unchanged)`` to send it at, or None (other track)."""
        cfg = self.config
        with self._lock:
            self._force = False
            if meta.seq > self._last_seq:
                # Frames older than the pump itself are not "skipped" (nobody could have shown them).
                self.skipped += max(0, meta.seq - max(self._last_seq, self._count_from) - 1)
                self._last_seq = meta.seq
                self._src_log.append((self.clock(), meta.seq))
            if cfg.track and meta.track != cfg.track:
                return None
            if (
                not force
                and cfg.skip_unchanged
                and self._last_sent is not None
                and self._last_sent[0].shape == frame.shape
                and np.array_equal(self._last_sent[0], frame)
            ):
                self.unchanged += 1
                return self.adapt.quality, self.adapt.scale, True
            return self.adapt.quality, self.adapt.scale, False

    def _maybe_send_still(self) -> bool:
        """After a quiet spell, replace the last lossy frame with a lossless PNG of it."""
        still_after = self.config.still_after
        with self._lock:
            last = self._last_sent
            idle = self.clock() - self._last_send_time
            if still_after is None or last is None or self._last_sent_png or idle < still_after:
                return False
            if not self.window.has_room(self.clock()):
                return False
        t0 = time.perf_counter()
        enc = encode_png(last[0])
        self._emit(enc, last[0], last[1], (time.perf_counter() - t0) * 1000.0, 100, 1.0, still=True)
        return True

    def _emit(
        self,
        enc: Encoded,
        frame: Any,
        meta: FrameMeta,
        encode_ms: float,
        quality: int,
        scale: float,
        still: bool,
    ) -> None:
        with self._lock:
            now = self.clock()
            fid = self.window.sent(now)
            self.sent += 1
            self._sent_since_progress += 1
            self._sent_log.append((now, len(enc.data)))
            self._encode_ms.append(encode_ms)
            self._last_sent = (frame, meta)
            self._last_sent_png = still
            self._last_send_time = now
        content: FrameMsg = {
            "type": "frame",
            "id": fid,
            "seq": meta.seq,
            "index": meta.frame_index,
            "code": has_index_code(frame),  # the view covers the frame-index code unless asked to show it
            "track": meta.track,
            "width": meta.width,
            "height": meta.height,
            "mime": enc.mime,
            "quality": quality,
            "scale": scale,
            "still": still,
            "sent_at": time.time() * 1000.0,  # wall clock ms, for latency measured in the page
        }
        try:
            self._send(content, [enc.data])
        except Exception:
            with self._lock:  # nothing went out: free the slot again
                self.window.in_flight.pop(fid, None)
                self.sent -= 1
                self._sent_since_progress -= 1
            raise

    def _maybe_end_period(self, now: float) -> dict[str, Any] | None:
        """Close an adaptation period (lock held): feed the controller; return stats to publish."""
        if now - self._period_start < self.config.period:
            return None
        span = now - self._period_start
        late = self.window.late_acks - self._period_late0
        lost = max(0, self.window.lost - self._period_lost0 - late)  # late acks were not really lost
        rtt_ms = percentile(self._period_rtts, 50)
        if self.config.adaptive:
            self.adapt.evaluate(
                full_fraction=min(1.0, self._full_time / span),
                rtt_ms=None if rtt_ms is None else rtt_ms * 1000.0,
                acked=self._period_acked,
                lost=lost,
            )
        self._period_start = now
        self._period_acked = 0
        self._period_lost0 = self.window.lost
        self._period_late0 = self.window.late_acks
        self._period_rtts = []
        self._full_time = 0.0
        return self._stats_locked(now) if self.on_stats is not None else None

    # --- stats -------------------------------------------------------------------------------------
    def get_stats(self) -> dict[str, Any]:
        """Counters, rates over the last 2 s, ack round trip and encode time percentiles."""
        with self._lock:
            return self._stats_locked(self.clock())

    def _stats_locked(self, now: float, span: float = 2.0) -> dict[str, Any]:
        span = max(1e-3, min(span, now - self._created)) if now > self._created else span
        sent_recent = [(t, b) for t, b in self._sent_log if now - t <= span]
        acks_recent = [t for t in self._ack_log if now - t <= span]
        src_recent = [(t, s) for t, s in self._src_log if now - t <= span]
        fps_source = None
        if len(src_recent) >= 2 and src_recent[-1][0] > src_recent[0][0]:
            fps_source = (src_recent[-1][1] - src_recent[0][1]) / (src_recent[-1][0] - src_recent[0][0])
        rtts = list(self._rtts)
        p50 = percentile(rtts, 50)
        p95 = percentile(rtts, 95)
        enc50 = percentile(list(self._encode_ms), 50)
        return {
            "sent": self.sent,
            "acked": self.window.acked,
            "lost": self.window.lost,
            "late_acks": self.window.late_acks,
            "ack_timeout_ms": round(self.window.timeout * 1000.0),
            "skipped": self.skipped,
            "unchanged": self.unchanged,
            "dropped": self.skipped + self.window.lost,
            "in_flight": len(self.window.in_flight),
            "window": self.window.size,
            "fps_sent": round(len(sent_recent) / span, 2),
            "fps_shown": round(len(acks_recent) / span, 2),
            "fps_source": None if fps_source is None else round(fps_source, 2),
            "bytes_per_s": round(sum(b for _, b in sent_recent) / span),
            "ack_ms_p50": None if p50 is None else round(p50 * 1000.0, 1),
            "ack_ms_p95": None if p95 is None else round(p95 * 1000.0, 1),
            "encode_ms_p50": None if enc50 is None else round(enc50, 2),
            "quality": self.adapt.quality,
            "scale": self.adapt.scale,
            "level": self.adapt.level,
            "encoder": self.encoder.backend,
            "errors": self.errors,
            "paused": self._paused,
            "stalled": self.stalled,
        }

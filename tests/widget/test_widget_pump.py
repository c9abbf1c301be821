"""The display pump's state machine: ack window, time-based fallback, latest-wins drops, stats, adaptation."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pytest
from widget_support import Clock

from reactor_notebook.framecode import draw_index, read_index
from reactor_notebook.frames import FrameBuffer
from reactor_notebook.widget.encode import decode_image
from reactor_notebook.widget.pump import LEVELS, AdaptiveQuality, FlowWindow, FramePump, PumpConfig


def frame(i: int, h: int = 48, w: int = 320) -> np.ndarray:
    f = np.full((h, w, 3), (i * 7) % 256, np.uint8)
    draw_index(f, i)
    return f


class Sink:
    """A fake transport recording what the pump sends."""

    def __init__(self) -> None:
        self.msgs: list[tuple[dict[str, Any], list[bytes]]] = []

    def __call__(self, content: dict[str, Any], buffers: list[bytes]) -> None:
        self.msgs.append((content, buffers))

    @property
    def ids(self) -> list[int]:
        return [c["id"] for c, _ in self.msgs]


def make_pump(**cfg: Any) -> tuple[FramePump, FrameBuffer, Sink, Clock]:
    fb = FrameBuffer(max_frames=16)
    sink = Sink()
    clock = Clock()
    cfg.setdefault("still_after", None)
    pump = FramePump(fb, sink, PumpConfig(**cfg), clock=clock)
    return pump, fb, sink, clock


# --- FlowWindow -------------------------------------------------------------------------------------
def test_window_fills_and_frees_on_ack() -> None:
    w = FlowWindow(size=2, timeout=1.0)
    a = w.sent(0.0)
    w.sent(0.0)
    assert not w.has_room(0.1)
    assert w.ack(a, 0.2) == pytest.approx(0.2)
    assert w.has_room(0.2)
    assert w.ack(a, 0.3) is None and w.duplicate_acks == 1


def test_window_times_out_unacked_frames_as_lost() -> None:
    w = FlowWindow(size=1, timeout=1.0)
    w.sent(10.0)
    assert not w.has_room(10.5)
    assert w.time_to_room(10.5) == pytest.approx(0.5)
    assert w.has_room(11.0)
    assert w.lost == 1 and w.in_flight == {}


def test_ack_of_newer_frame_frees_older_ones() -> None:
    w = FlowWindow(size=4, timeout=1.0)
    ids = [w.sent(0.0) for _ in range(3)]
    w.ack(ids[2], 0.1)
    assert w.in_flight == {}
    assert w.acked == 1


# --- FramePump ---------------------------------------------------------------------------------------
def test_sends_latest_frame_with_metadata_and_decodable_jpeg() -> None:
    pump, fb, sink, _ = make_pump()
    for i in range(3):
        fb.push(frame(i))
    assert pump.step(0)
    content, buffers = sink.msgs[0]
    assert content["type"] == "frame" and content["seq"] == 2 and content["mime"] == "image/jpeg"
    assert (content["width"], content["height"]) == (320, 48)
    assert read_index(decode_image(buffers[0])) == 2  # latest wins, index survives JPEG
    assert pump.skipped == 2  # frames 0 and 1 were superseded, never encoded


def test_window_limits_frames_in_flight_and_acks_release() -> None:
    pump, fb, sink, clock = make_pump(window=2)
    for i in range(5):
        fb.push(frame(i))
        pump.step(0)
        clock.advance(0.01)
    assert len(sink.msgs) == 2  # the third and later had no room
    pump.on_ack(sink.ids[0])
    fb.push(frame(5))
    assert pump.step(0)
    assert sink.msgs[-1][0]["seq"] == 5
    st = pump.get_stats()
    assert st["sent"] == 3 and st["acked"] == 1 and st["in_flight"] == 2


def test_time_based_fallback_keeps_frames_flowing_without_acks() -> None:
    pump, fb, sink, clock = make_pump(window=1, ack_timeout=1.0)
    fb.push(frame(0))
    assert pump.step(0)
    fb.push(frame(1))
    assert not pump.step(0)  # window full, no ack
    clock.advance(1.0)  # ack overdue: assume lost
    assert pump.step(0)
    assert [c["seq"] for c, _ in sink.msgs] == [0, 1]
    assert pump.get_stats()["lost"] == 1


def test_never_queues_frames_while_window_full() -> None:
    pump, fb, sink, _ = make_pump(window=1)
    fb.push(frame(0))
    pump.step(0)
    for i in range(1, 10):
        fb.push(frame(i))
        pump.step(0)
    pump.on_ack(sink.ids[0])
    pump.step(0)
    assert [c["seq"] for c, _ in sink.msgs] == [0, 9]  # one newest frame, not a backlog
    assert pump.get_stats()["skipped"] == 8


def test_unchanged_frame_not_resent_until_view_ready() -> None:
    pump, fb, sink, _ = make_pump()
    f = frame(3)
    fb.push(f)
    pump.step(0)
    fb.push(f.copy())
    assert not pump.step(0)
    assert pump.unchanged == 1
    pump.on_view_ready()  # a new view must get the current picture at once
    assert pump.step(0)
    assert len(sink.msgs) == 2 and sink.msgs[1][0]["seq"] == 1


def test_lossless_png_still_after_idle() -> None:
    pump, fb, sink, clock = make_pump(still_after=0.5)
    fb.push(frame(4))
    pump.step(0)
    pump.on_ack(sink.ids[0])
    clock.advance(0.6)
    assert pump.step(0)
    content, buffers = sink.msgs[-1]
    assert content["mime"] == "image/png" and content["still"] is True
    assert np.array_equal(decode_image(buffers[0]), frame(4))
    clock.advance(1.0)
    assert not pump.step(0)  # only one still per idle spell


def test_track_filter() -> None:
    pump, fb, sink, _ = make_pump(track="main_video")
    fb.push(frame(1), track="other")
    assert not pump.step(0)
    fb.push(frame(2), track="main_video")
    assert pump.step(0)
    assert sink.msgs[0][0]["track"] == "main_video"


def test_max_fps_caps_send_rate() -> None:
    pump, fb, sink, clock = make_pump(max_fps=10)
    for i in range(6):
        fb.push(frame(i))
        pump.step(0)
        pump.on_ack(sink.ids[-1])
        clock.advance(0.05)
    assert len(sink.msgs) == 3


def test_send_failure_frees_the_slot() -> None:
    fb = FrameBuffer()
    calls = []

    def bad_send(content: dict[str, Any], buffers: list[bytes]) -> None:
        calls.append(content)
        raise RuntimeError("comm closed")

    pump = FramePump(fb, bad_send, PumpConfig(window=1, still_after=None), clock=Clock())
    fb.push(frame(0))
    with pytest.raises(RuntimeError):
        pump.step(0)
    assert pump.window.in_flight == {} and pump.sent == 0


def test_stats_rates_and_percentiles() -> None:
    pump, fb, sink, clock = make_pump(window=4)
    for i in range(20):
        fb.push(frame(i))
        pump.step(0)
        clock.advance(0.02)
        pump.on_ack(sink.ids[-1])
        clock.advance(0.03)
    st = pump.get_stats()
    assert st["sent"] == 20 and st["acked"] == 20 and st["dropped"] == 0
    assert st["ack_ms_p50"] == pytest.approx(20.0, abs=0.5)
    assert st["fps_sent"] == pytest.approx(20.0, abs=1.0)  # one frame per 50 ms over the last 2 s
    assert st["fps_shown"] == pytest.approx(20.0, abs=1.0)
    assert st["bytes_per_s"] > 0 and st["encode_ms_p50"] is not None
    assert st["encoder"] in ("simplejpeg", "pillow")


def test_pump_thread_runs_and_stops() -> None:
    fb = FrameBuffer()
    got = threading.Event()
    seqs: list[int] = []

    def send(content: dict[str, Any], buffers: list[bytes]) -> None:
        seqs.append(content["seq"])
        pump.on_ack(content["id"])
        if content["seq"] >= 5:
            got.set()

    pump = FramePump(fb, send, PumpConfig(still_after=None))
    pump.start()
    try:
        for i in range(6):
            fb.push(frame(i))
            if i < 5:
                assert pump.frames.seq == i
        assert got.wait(5.0)
    finally:
        pump.stop()
    assert not pump.running
    assert seqs == sorted(seqs) and seqs[-1] == 5


# --- adaptation ------------------------------------------------------------------------------------------
def test_adaptive_quality_steps_down_when_behind_and_up_when_keeping_up() -> None:
    a = AdaptiveQuality(level=1, up_after=3)
    assert a.evaluate(full_fraction=0.8, rtt_ms=400, acked=5, lost=0) == 1
    assert a.level == 2 and a.quality == LEVELS[2][0]
    assert a.evaluate(full_fraction=0.0, rtt_ms=20, acked=5, lost=1) == 1  # losses also mean behind
    for _ in range(2):
        assert a.evaluate(full_fraction=0.0, rtt_ms=20, acked=20, lost=0) == 0
    assert a.evaluate(full_fraction=0.0, rtt_ms=20, acked=20, lost=0) == -1
    assert a.level == 2


def test_adaptive_quality_ignores_periods_without_acks() -> None:
    a = AdaptiveQuality(level=1)
    assert a.evaluate(full_fraction=1.0, rtt_ms=None, acked=0, lost=4) == 0  # shell blocked / view hidden
    assert a.level == 1


def test_adaptive_quality_bottoms_out_at_cheapest_level() -> None:
    a = AdaptiveQuality(level=len(LEVELS) - 1)
    assert a.evaluate(full_fraction=1.0, rtt_ms=900, acked=1, lost=0) == 0
    assert a.scale == LEVELS[-1][1]


def test_pump_adapts_down_on_slow_acks_and_sends_smaller_frames() -> None:
    pump, fb, sink, clock = make_pump(window=2, period=1.0)
    start_level = pump.adapt.level
    for i in range(40):  # acks take 400 ms: a browser that cannot keep up
        fb.push(frame(i, h=96, w=640))
        if pump.step(0):
            fid = sink.ids[-1]
            clock.advance(0.4)
            pump.on_ack(fid)
        clock.advance(0.05)
    assert pump.adapt.level > start_level
    assert sink.msgs[-1][0]["quality"] < sink.msgs[0][0]["quality"] or sink.msgs[-1][0]["scale"] < 1.0


def test_config_rejects_bad_values() -> None:
    with pytest.raises(ValueError, match="window"):
        PumpConfig(window=0)
    with pytest.raises(ValueError, match="ack_timeout"):
        PumpConfig(ack_timeout=0)
    with pytest.raises(ValueError, match="level"):
        PumpConfig(level=99)


def test_static_stream_gets_one_lossless_still() -> None:
    pump, fb, sink, clock = make_pump(still_after=0.5)
    f = frame(8)
    fb.push(f)
    pump.step(0)
    pump.on_ack(sink.ids[-1])
    for _ in range(10):  # the runtime repeats the idle card: identical frames keep arriving
        clock.advance(0.1)
        fb.push(f.copy())
        pump.step(0)
    mimes = [c["mime"] for c, _ in sink.msgs]
    assert mimes == ["image/jpeg", "image/png"]
    assert pump.unchanged == 10


def test_deadline_adapts_to_round_trip_and_late_acks_push_it_up() -> None:
    w = FlowWindow(size=4, timeout=1.0, min_timeout=0.25)
    assert w.timeout == 1.0  # no samples yet: the configured bound
    t = 0.0
    for _ in range(8):  # fast browser: 20 ms round trips
        fid = w.sent(t)
        w.ack(fid, t + 0.02)
        t += 0.05
    assert w.timeout == pytest.approx(0.25)  # 3 x 20 ms clamped up to the floor
    stalled = [w.sent(t) for _ in range(4)]
    assert not w.has_room(t + 0.2)
    assert w.has_room(t + 0.26) and w.lost == 4  # a stall costs 250 ms, not a second
    for fid in stalled:  # the acks come after all: late, but they show the browser is slow
        assert w.ack(fid, t + 0.6) == pytest.approx(0.6)
    assert w.late_acks == 4 and w.duplicate_acks == 0
    assert w.timeout == pytest.approx(1.0)  # p90 0.6 s x 3, clamped to the upper bound
    assert w.ack(stalled[0], t + 0.7) is None and w.duplicate_acks == 1


def test_pump_keeps_a_quarter_second_deadline_when_acks_stall() -> None:
    pump, fb, sink, clock = make_pump(window=2, ack_timeout=1.0, min_ack_timeout=0.25)
    for i in range(6):  # healthy phase: acks after 10 ms
        fb.push(frame(i))
        assert pump.step(0)
        clock.advance(0.01)
        pump.on_ack(sink.ids[-1])
        clock.advance(0.03)
    n = len(sink.msgs)
    for i in range(6, 46):  # the shell blocks: no acks for 2 s while frames keep coming at 20 fps
        fb.push(frame(i))
        pump.step(0)
        clock.advance(0.05)
    sent_while_stalled = len(sink.msgs) - n
    assert 14 <= sent_while_stalled <= 18  # window 2 per 250 ms ≈ 8 fps, vs 2 fps with a fixed 1 s
    assert pump.get_stats()["ack_timeout_ms"] == 250


def test_paused_pump_encodes_nothing_and_resumes_with_the_current_frame() -> None:
    pump, fb, sink, _clock = make_pump()
    fb.push(frame(0))
    assert pump.step(0)
    pump.set_paused(True)
    for i in range(1, 5):
        fb.push(frame(i))
        assert not pump.step(0)
    assert len(sink.msgs) == 1 and pump.get_stats()["paused"] is True
    pump.set_paused(False)
    assert pump.step(0)
    assert sink.msgs[-1][0]["seq"] == 4  # straight to the newest frame


def test_stalled_view_gets_only_probe_frames_until_an_ack() -> None:
    pump, fb, sink, clock = make_pump(window=2, ack_timeout=0.5, stall_after=5.0, probe_interval=2.0)
    for i in range(200):  # 10 s at 20 fps and nobody acks (output cleared, page gone)
        fb.push(frame(i))
        pump.step(0)
        clock.advance(0.05)
    st = pump.get_stats()
    assert st["stalled"] is True
    # 5 s of fallback (2 frames per 0.5 s) then about one probe per 2 s
    assert 20 <= st["sent"] <= 26
    pump.on_ack(sink.ids[-1])  # someone is watching again
    fb.push(frame(300))
    assert pump.step(0) and not pump.get_stats()["stalled"]


def test_view_ready_before_any_frame_waits_instead_of_spinning() -> None:
    pump, fb, sink, _ = make_pump()
    waits: list[float | None] = []
    real_wait = fb.wait_next

    def spy(after: int, timeout: float | None = None) -> Any:
        waits.append(timeout)
        return real_wait(after, timeout)

    fb.wait_next = spy  # type: ignore[method-assign]
    pump.on_view_ready()
    assert not pump.step(0.01)  # no frame yet: it blocks in wait_next (bounded), it does not spin
    assert waits == [0.01]
    fb.push(frame(1))
    assert pump.step(0)
    assert sink.msgs[0][0]["seq"] == 0


def test_one_coalesced_ack_frees_older_frames_and_counts_every_frame_shown() -> None:
    pump, fb, sink, clock = make_pump(window=4)
    for i in range(4):
        fb.push(frame(i))
        pump.step(0)
        clock.advance(0.04)
    assert len(sink.msgs) == 4 and pump.get_stats()["in_flight"] == 4
    pump.on_ack(sink.ids[1], 2)  # the browser acks frames 1 and 2 in one message
    pump.on_ack(sink.ids[3], 2)
    st = pump.get_stats()
    assert st["in_flight"] == 0 and st["lost"] == 0 and st["acked"] == 2
    assert st["fps_shown"] == st["fps_sent"] > 0  # four sent, four shown: the coalesced count is kept
    pump.on_ack(sink.ids[3], True)  # a malformed count counts as one (and a duplicate id frees nothing)
    assert pump.get_stats()["in_flight"] == 0

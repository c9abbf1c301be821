"""Unit tests of SDK pieces that need no runtime: SDP patching, readers, callback dispatch, stats, API surface."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import numpy as np
import pytest
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import VideoFrame

from reactor_notebook.sdk import Reactor, ReactorError, ReactorStatus
from reactor_notebook.sdk.decoding import StampedQueue
from reactor_notebook.sdk.reader import CallbackDispatcher, FrameReader, FrameTiming
from reactor_notebook.sdk.sdp import patch_answer
from reactor_notebook.sdk.session import local_base_url
from reactor_notebook.sdk.stats import summarize_report

ANSWER = "\r\n".join(
    [
        "v=0",
        "o=- 1 1 IN IP4 0.0.0.0",
        "s=-",
        "t=0 0",
        "a=group:BUNDLE 0 1 2",
        "m=video 9 UDP/TLS/RTP/SAVPF 97",
        "a=mid:0",
        "a=rtcp-mux",
        "a=candidate:1 1 udp 2130706431 10.0.0.1 5000 typ host",
        "a=end-of-candidates",
        "m=video 9 UDP/TLS/RTP/SAVPF 97",
        "a=mid:1",
        "m=application 9 UDP/DTLS/SCTP webrtc-datachannel",
        "a=mid:2",
        "a=candidate:2 1 udp 1 10.0.0.2 6000 typ host",
        "",
    ]
)


def test_patch_answer_copies_first_candidates_and_adds_rtcp_mux() -> None:
    out = patch_answer(ANSWER)
    sections = out.split("m=")[1:]
    assert all("a=rtcp-mux" in s for s in sections)
    assert "10.0.0.1 5000" in sections[1] and "a=end-of-candidates" in sections[1]
    assert "10.0.0.1" not in sections[2] and "10.0.0.2 6000" in sections[2]  # had its own: untouched
    assert out.endswith("\r\n") and "\n\n" not in out.replace("\r\n", "\n")
    assert patch_answer(out) == out  # idempotent
    assert patch_answer("v=0\r\n") == "v=0\r\n"


class FakeTrack(MediaStreamTrack):
    """A remote-track stand-in: frames are queued on ``_queue`` like aiortc's RemoteStreamTrack."""

    kind = "video"

    def __init__(self) -> None:
        super().__init__()
        self._queue: asyncio.Queue[Any] = StampedQueue()

    async def recv(self) -> Any:
        frame = await self._queue.get()
        if frame is None:
            raise MediaStreamError
        return frame


def vf(value: int) -> VideoFrame:
    frame = VideoFrame.from_ndarray(np.full((16, 32, 3), value, dtype=np.uint8), format="rgb24")
    frame.pts = value
    return frame.reformat(format="yuv420p")


async def test_reader_skips_to_newest_frame_and_counts_drops() -> None:
    track = FakeTrack()
    got: list[tuple[int, str, FrameTiming]] = []
    done = asyncio.Event()
    reader = FrameReader(
        track, "main_video", lambda a, n, t: got.append((int(a[0, 0, 0]), n, t)), lambda _n: done.set()
    )
    for v in (10, 50, 90):  # three decoded frames waiting before the reader runs
        track._queue.put_nowait(vf(v))
    reader.start()
    for _ in range(10_000):  # until the reader has taken all three (it keeps only the newest)
        if track._queue.empty():
            break
        await asyncio.sleep(0)
    assert track._queue.empty()
    track._queue.put_nowait(vf(200))
    track._queue.put_nowait(None)  # end of track
    await asyncio.wait_for(done.wait(), 5)
    values = [v for v, _, _ in got]
    assert len(values) == 2 and abs(values[0] - 90) <= 3 and abs(values[1] - 200) <= 3
    assert reader.stats.frames_dropped == 2 and reader.stats.frames_received == 2
    assert got[0][1] == "main_video"
    assert got[0][2].age_ms is not None and got[0][2].age_ms >= 0 and got[0][2].convert_ms > 0
    assert not reader.running


def test_dispatcher_latest_wins_and_reports_errors() -> None:
    errors: list[tuple[str, str]] = []
    seen: list[int] = []
    gate, entered, two_seen = threading.Event(), threading.Event(), threading.Event()

    def slow(frame: Any) -> None:
        entered.set()
        gate.wait(5)
        seen.append(frame)
        if len(seen) == 2:
            two_seen.set()

    def bad(frame: Any) -> None:
        raise KeyError("oops")

    d = CallbackDispatcher(lambda exc, cb: errors.append((type(exc).__name__, cb.__name__)))
    d.submit(0)  # no callbacks: ignored, no thread
    assert d._thread is None
    d.set_callbacks([slow, bad])
    d.submit(1)
    assert entered.wait(5)  # the thread took frame 1 and is blocked in it
    for i in range(2, 10):
        d.submit(i)  # slow callback blocked: only the newest survives
    gate.set()
    assert two_seen.wait(5)
    d.stop()
    assert seen == [1, 9]
    assert d.dropped == 7
    assert errors[0] == ("KeyError", "bad") and len(errors) == 2


def test_summarize_report() -> None:
    class S:
        def __init__(self, **kw: Any) -> None:
            self.__dict__.update(kw)

    report = {
        "a": S(type="inbound-rtp", kind="video", packetsReceived=90, packetsLost=10, jitter=900),
        "b": S(type="remote-inbound-rtp", kind="video", roundTripTime=0.025),
        "c": S(type="transport"),
    }
    out = summarize_report(report)
    assert out["packet_loss_ratio"] == pytest.approx(0.1)
    assert out["jitter"] == pytest.approx(0.01)
    assert out["rtt"] == pytest.approx(25.0)
    assert out["packets_received"] == 90
    assert summarize_report({})["packet_loss_ratio"] is None


def test_constructor_repr_and_local_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REACTOR_LOCAL_URL", "http://10.1.2.3:9000/")
    assert local_base_url() == "http://10.1.2.3:9000"
    assert local_base_url("http://h:1") == "http://h:1"
    r = Reactor("helios", local=True)
    assert r.base_url == "http://10.1.2.3:9000" and r.local
    monkeypatch.delenv("REACTOR_LOCAL_URL")
    assert Reactor("helios", local=True).base_url == "http://localhost:8080"
    cloud = Reactor("helios", api_key="rk_topsecret_123", api_url="http://x")
    assert "rk_topsecret_123" not in repr(cloud) and "rk_topsecret_123" not in str(vars(cloud))
    assert cloud.get_status() is ReactorStatus.DISCONNECTED and cloud.get_state().last_error is None
    assert ReactorStatus.READY == "ready" and str(ReactorStatus.WAITING) == "waiting"
    with pytest.raises(ValueError, match="model_name"):
        Reactor("", local=True)
    with pytest.raises(TypeError):
        Reactor("helios", local=True, apikey="x")  # type: ignore[call-arg]


def test_events_and_decorators_register() -> None:
    r = Reactor("helios", local=True)
    calls: list[Any] = []
    with pytest.raises(ValueError, match="unknown event 'statusChanged'"):
        r.on("statusChanged", print)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        r.on("message", 42)  # type: ignore[arg-type]

    @r.on_status(ReactorStatus.READY)
    def ready(status: ReactorStatus) -> None:
        calls.append(("ready", status))

    @r.on_status
    def any_status(status: ReactorStatus) -> None:
        calls.append(("any", status))

    @r.on_track("main_video")
    def track(t: Any) -> None:
        calls.append(("track", t))

    @r.on_error
    def err(e: ReactorError) -> None:
        calls.append(("error", e.code))

    def failing(msg: Any) -> None:
        raise RuntimeError("handler bug")

    r.on("message", failing)
    r._emit("status_changed", ReactorStatus.WAITING)
    r._emit("status_changed", ReactorStatus.READY)
    r._emit("track_received", "other", "t0")
    r._emit("track_received", "main_video", "t1")
    r._emit("message", {"type": "x"})  # raises in the handler → CALLBACK_ERROR error event
    assert calls[:5] == [
        ("any", ReactorStatus.WAITING),
        ("ready", ReactorStatus.READY),
        ("any", ReactorStatus.READY),
        ("track", "t1"),
        ("error", "CALLBACK_ERROR"),
    ]
    assert r.get_last_error() is not None and "handler bug" in r.get_last_error().message  # type: ignore[union-attr]
    r.off("message", failing)
    r._emit("message", {"type": "x"})
    assert len(calls) == 5
    assert [e.kind for e in r.frames.timeline_entries()] == ["error"]


def test_dispatcher_stop_never_blocks_and_restarts_cleanly() -> None:
    gate, first, second = threading.Event(), threading.Event(), threading.Event()
    seen: list[tuple[str, int]] = []

    def blocking(frame: int) -> None:
        seen.append((threading.current_thread().name, frame))
        (first if frame == 1 else second).set()
        gate.wait(30)

    d = CallbackDispatcher(lambda exc, cb: None)
    d.set_callbacks([blocking])
    d.submit(1)
    assert first.wait(5)
    old = d._thread
    d.stop()  # the callback is still blocked in frame 1
    # stop() returned without waiting for it: the callback is still blocked (the gate never opened).
    assert old is not None and old.is_alive() and not gate.is_set()
    d.submit(2)  # a fresh thread serves the new generation
    assert second.wait(5)
    assert [f for _, f in seen] == [1, 2] and d._thread is not old
    gate.set()
    old.join(5)
    assert not old.is_alive()  # the retired thread exits once its callback returns
    d.stop()


def test_failing_frame_callback_reports_are_throttled() -> None:
    from reactor_notebook.sdk.loop import get_sdk_loop

    r = Reactor("helios", local=True)
    errors: list[ReactorError] = []
    r.on("error", errors.append)

    def cb(frame: Any) -> None: ...

    for _ in range(50):  # as the dispatcher thread would, for a callback failing on every frame
        r._on_callback_error(ValueError("bad pixel"), cb)

    async def flush() -> None:
        await asyncio.sleep(0)

    get_sdk_loop().run_sync(flush(), timeout=5)
    assert (
        len(errors) == 1
        and errors[0].code == "CALLBACK_ERROR"
        and "cb raised ValueError" in errors[0].message
    )
    r._callback_errors[id(cb)] = (time.monotonic() - 2, 49)  # a second later the next one reports the count
    r._on_callback_error(ValueError("bad pixel"), cb)
    get_sdk_loop().run_sync(flush(), timeout=5)
    assert len(errors) == 2 and "49 more times" in errors[1].message


def test_the_frame_ring_takes_the_models_client_profile() -> None:
    """Helios frames get Helios' state columns; a model without a profile gets the generic table."""
    assert Reactor("helios", local=True).frames.profile.name == "helios"
    generic = Reactor("testpattern", local=True).frames.profile
    assert generic.name == "testpattern" and generic.state_columns == ()

"""The SDK against a real embedded runtime over real aiortc WebRTC on loopback."""

from __future__ import annotations

import asyncio
import gc
import logging
import threading

import aiohttp
import numpy as np
import pytest
from aiortc import RTCPeerConnection
from sdk_support import NumpyTrack, next_frames, sdk_tasks
from testutil import Recorder

from reactor_notebook import framecode
from reactor_notebook.runtime import LocalRuntime
from reactor_notebook.schema import CommandValidationError
from reactor_notebook.sdk import (
    ApiError,
    MessageSendError,
    NotReadyError,
    Reactor,
    ReactorStatus,
    TrackPublishError,
)
from reactor_notebook.sdk.jitter import MarkerJitterBuffer

S = ReactorStatus


async def health(url: str) -> dict:
    async with aiohttp.ClientSession() as http, http.get(f"{url}/health") as resp:
        return await resp.json()


async def test_local_lifecycle_frames_and_clean_disconnect(runtime: LocalRuntime) -> None:
    r = Reactor("testpattern", local=True, local_url=runtime.url)
    rec = Recorder().attach(r)
    assert r.get_status() is S.DISCONNECTED
    tasks_before = set(sdk_tasks())  # other tests' Reactors may share the SDK loop
    peers_before = {id(o) for o in gc.get_objects() if isinstance(o, RTCPeerConnection)}
    await r.connect()  # awaited from pytest's loop: the work runs on the SDK thread
    assert r.get_status() is S.READY
    assert rec.of("status_changed") == [S.CONNECTING, S.WAITING, S.READY]
    assert rec.of("session_id_changed") == ["local"] and r.get_session_id() == "local"
    caps = rec.of("capabilities_received")[0]
    assert [t["name"] for t in caps["tracks"]] == ["main_video", "webcam"]
    assert [c.name for c in r.commands] == ["set_color"]
    assert set(r.get_remote_tracks()) == {"main_video"}
    assert rec.of("track_received")[0][0] == "main_video"

    frames = await next_frames(r, 8)
    indices = [framecode.read_index(f) for f, _ in frames]
    assert all(f.shape == (384, 640, 3) and f.dtype == np.uint8 for f, _ in frames)
    assert all(m.track == "main_video" for _, m in frames)
    assert all(i is not None for i in indices)
    assert indices == sorted(indices) and len(set(indices)) == len(indices), indices
    assert [e.name for e in r.frames.timeline_entries() if e.kind == "status"] == [
        "connecting",
        "waiting",
        "ready",
    ]

    # Early release is wired into the real receiver and releases frames on their marker packet.
    transport = r._transport
    assert transport is not None
    buf = transport.entries["main_video"].transceiver.receiver._RTCRtpReceiver__jitter_buffer
    assert isinstance(buf, MarkerJitterBuffer) and buf.early_frames > 0

    pc = transport.pc
    assert (await health(runtime.url))["state"] == "STREAMING"
    await r.disconnect()
    assert rec.of("status_changed")[-1] is S.DISCONNECTED
    assert rec.of("session_id_changed")[-1] is None and rec.of("session_expiration_changed") == [None]
    assert r.get_session_id() is None and r.get_capabilities() is None and r.get_remote_tracks() == {}
    assert pc is not None and pc.connectionState == "closed"
    assert set(sdk_tasks()) <= tasks_before
    assert (await health(runtime.url))["state"] == "READY"  # stop_session ended it
    gc.collect()
    live = [
        o
        for o in gc.get_objects()
        if isinstance(o, RTCPeerConnection) and id(o) not in peers_before and o.connectionState != "closed"
    ]
    assert live == []  # neither our peer nor the runtime's end of it
    await r.disconnect()  # idempotent


async def test_set_color_changes_pixels_and_messages_arrive(local_reactor: tuple[Reactor, Recorder]) -> None:
    r, rec = local_reactor
    await r.send_command("set_color", {"r": 250, "g": 10, "b": 20})
    await rec.await_(lambda: any(m.get("type") == "color_set" for m in rec.of("message")), what="color_set")
    assert {"type": "color_set", "data": {"r": 250, "g": 10, "b": 20}} in rec.of("message")

    def red_patch() -> bool:
        ref = r.frames.latest_ref()
        return ref is not None and ref[0][192, 320, 0] > 200 and ref[0][192, 320, 1] < 60

    for _ in range(60):  # the patch turns red within a few frames of the command
        if red_patch():
            break
        await next_frames(r, 1)
    frame = r.frames.latest()
    assert frame is not None
    assert (
        abs(int(frame[192, 320, 0]) - 250) < 16
        and int(frame[192, 320, 1]) < 40
        and int(frame[192, 320, 2]) < 45
    )
    sent = [e for e in r.frames.timeline_entries() if e.kind == "command"]
    assert [(e.name, e.data) for e in sent] == [("set_color", {"r": 250, "g": 10, "b": 20})]
    assert any(e.kind == "message" and e.name == "color_set" for e in r.frames.timeline_entries())

    # A JSON string is parsed before validation and sending.
    await r.send_command("set_color", '{"r": 0, "g": 255, "b": 0}')
    await rec.await_(lambda: {"type": "color_set", "data": {"r": 0, "g": 255, "b": 0}} in rec.of("message"))


@pytest.mark.parametrize(
    ("command", "data", "reason", "field"),
    [
        ("paint", {}, "unknown_command", None),
        ("set_color", {"r": 1, "g": 2}, "missing_field", "b"),
        ("set_color", {"r": 1, "g": 2, "b": 3, "alpha": 1}, "unexpected_field", "alpha"),
        ("set_color", {"r": "red", "g": 2, "b": 3}, "wrong_type", "r"),
        ("set_color", {"r": 1, "g": 256, "b": 3}, "out_of_range", "g"),
        ("set_color", {"r": 1.5, "g": 2, "b": 3}, "wrong_type", "r"),
        ("set_color", "{not json", "wrong_type", None),
    ],
)
async def test_validation_errors_are_raised_before_sending(
    local_reactor: tuple[Reactor, Recorder], command: str, data: object, reason: str, field: str | None
) -> None:
    r, rec = local_reactor
    with pytest.raises(CommandValidationError) as info:
        await r.send_command(command, data)
    assert info.value.reason == reason and info.value.field == field
    assert info.value.command == command and command in str(info.value)
    if reason == "unknown_command":
        assert "set_color" in str(info.value)  # lists the known commands
    # Nothing reached the runtime: a follow-up valid command is the first thing it answers.
    await r.send_command("set_color", {"r": 1, "g": 2, "b": 3})
    await rec.await_(lambda: len(rec.of("message")) >= 1, what="reply to the valid command")
    assert [m["type"] for m in rec.of("message")] == ["color_set"]
    assert [e.name for e in r.frames.timeline_entries() if e.kind == "command"] == ["set_color"]


async def test_runtime_command_error_reaches_message_event(local_reactor: tuple[Reactor, Recorder]) -> None:
    r, rec = local_reactor
    await r.send_command("set_color", {"r": 999, "g": 0, "b": 0}, validate=False)
    await rec.await_(
        lambda: any(m.get("type") == "command_error" for m in rec.of("message")), what="command_error"
    )
    err = next(m for m in rec.of("message") if m.get("type") == "command_error")["data"]
    assert err["command"] == "set_color" and err["reason"] == "out_of_range" and err["field"] == "r"
    assert "999" in err["message"]


async def test_request_capabilities_and_schema(runtime: LocalRuntime) -> None:
    r = Reactor("testpattern", local=True, local_url=runtime.url, wire="v0")  # the v0 runtime requests
    rec = Recorder().attach(r)
    await r.connect()
    try:
        await _capabilities_and_schema(r, rec)
    finally:
        await r.disconnect()


async def _capabilities_and_schema(r: Reactor, rec: Recorder) -> None:
    caps = await r.request_capabilities()
    assert [c["name"] for c in caps["commands"]] == ["set_color"]
    assert caps["commands"][0]["schema"]["r"]["maximum"] == 255
    assert any(m.get("type") == "modelCapabilities" for m in rec.of("runtime_message"))
    schema = await r.request_schema()
    assert "/events/set_color" in schema["paths"]
    assert r.commands[0].param("g").maximum == 255  # type: ignore[union-attr]


async def test_commands_before_ready_raise_clearly(runtime: LocalRuntime) -> None:
    r = Reactor("testpattern", local=True, local_url=runtime.url)
    with pytest.raises(NotReadyError, match="status is 'disconnected'"):
        await r.send_command("set_color", {"r": 1, "g": 1, "b": 1})
    with pytest.raises(NotReadyError):
        await r.publish_track("webcam", NumpyTrack())
    with pytest.raises(RuntimeError, match="no session to reconnect"):
        await r.reconnect()


async def test_recoverable_disconnect_and_reconnect_resume_frames(
    local_reactor: tuple[Reactor, Recorder],
) -> None:
    r, rec = local_reactor
    before = await next_frames(r, 2)
    await r.disconnect(recoverable=True)
    assert r.get_status() is S.DISCONNECTED and r.get_session_id() == "local"
    assert rec.of("session_id_changed") == ["local"]  # kept
    n_status = len(rec.of("status_changed"))
    await r.reconnect()
    assert r.get_status() is S.READY
    assert rec.of("status_changed")[n_status:] == [S.CONNECTING, S.READY]  # WAITING skipped
    after = await next_frames(r, 3)
    assert after[0][1].seq > before[-1][1].seq
    idx = [framecode.read_index(f) for f, _ in after]
    assert idx == sorted(idx)
    await r.send_command("set_color", {"r": 5, "g": 6, "b": 7})
    await rec.await_(lambda: any(m.get("type") == "color_set" for m in rec.of("message")))
    await r.reconnect()  # no-op when READY
    assert rec.of("status_changed")[-1] is S.READY
    assert not rec.of("error")


async def test_server_stop_is_a_recoverable_disconnect_and_reconnect_starts_a_fresh_local_session(
    local_reactor: tuple[Reactor, Recorder], runtime: LocalRuntime
) -> None:
    r, rec = local_reactor
    async with aiohttp.ClientSession() as http, http.post(f"{runtime.url}/stop_session") as resp:
        assert resp.status == 200
    await rec.await_(lambda: S.DISCONNECTED in rec.of("status_changed"), what="disconnect after server stop")
    assert r.get_session_id() == "local" and not rec.of("error")
    # The runtime answers 404 for the kept session; in local mode reconnect() starts a fresh one
    # (product choice: what users want after a runtime restart or an orphan timeout).
    await r.reconnect()
    assert r.get_status() is S.READY and r.get_session_id() == "local"
    assert not [e for e in rec.of("error") if e.code == "RECONNECTION_FAILED"]
    assert any(e.name == "session_restarted" for e in r.frames.timeline_entries())
    await next_frames(r, 2)


async def test_publish_numpy_track_on_webcam(local_reactor: tuple[Reactor, Recorder]) -> None:
    r, rec = local_reactor
    with pytest.raises(TrackPublishError, match="input tracks: webcam"):
        await r.publish_track("main_video", NumpyTrack())
    with pytest.raises(TrackPublishError, match="not a track of this model"):
        await r.publish_track("mic", NumpyTrack())
    track = NumpyTrack()
    await r.publish_track("webcam", track)

    def input_frames() -> int:
        stats = [m["data"] for m in rec.of("message") if m.get("type") == "input_stats"]
        return max((s["frames"] for s in stats if s.get("track") == "webcam"), default=0)

    await rec.await_(lambda: input_frames() >= 5, timeout=15, what="input_stats from the runtime")
    assert track.count >= 5
    await r.unpublish_track("webcam")
    await rec.await_(
        lambda: (
            {"type": "input_changed", "data": {"track": "webcam", "published": False}} in rec.of("message")
        ),
        what="input_changed(published=False)",
    )
    assert [e.code for e in rec.of("error") if e.code == "TRACK_PUBLISH_FAILED"] == [
        "TRACK_PUBLISH_FAILED"
    ] * 2


async def test_cloud_like_mode_and_secrets(runtime: LocalRuntime, caplog: pytest.LogCaptureFixture) -> None:
    key = "rk_cloud_like_secret_9f8e7d"
    caplog.set_level(logging.DEBUG)
    r = Reactor("testpattern", api_key=key, api_url=runtime.url)
    rec = Recorder().attach(r)
    await r.connect()
    sid = r.get_session_id()
    assert sid and sid != "local"
    assert rec.of("status_changed") == [S.CONNECTING, S.WAITING, S.READY]
    frames = await next_frames(r, 3)
    assert framecode.read_index(frames[-1][0]) is not None
    jwt = r._api.jwt.reveal()  # type: ignore[union-attr]
    await r.send_command("set_color", {"r": 1, "g": 2, "b": 3})
    await r.disconnect()
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{runtime.url}/sessions/{sid}", headers={"Authorization": f"Bearer {jwt}"}) as resp,
    ):
        state = (await resp.json()).get("state") if resp.status == 200 else resp.status
    assert state in ("CLOSED", 404)  # DELETEd by the creator
    for text in (repr(r), str(r), repr(r.get_state()), repr(r._api)):
        assert key not in text and jwt not in text
    sdk_records = [rec for rec in caplog.records if not rec.name.startswith("reactor_notebook.runtime")]
    assert sdk_records, "expected DEBUG logs from the SDK"
    assert all(key not in x.getMessage() and jwt not in x.getMessage() for x in sdk_records)


async def test_unreachable_runtime_fails_cleanly(unused_tcp_port: int) -> None:
    r = Reactor("testpattern", local=True, local_url=f"http://127.0.0.1:{unused_tcp_port}", connect_timeout=5)
    rec = Recorder().attach(r)
    with pytest.raises(ApiError):
        await r.connect()
    assert rec.of("status_changed") == [S.CONNECTING, S.DISCONNECTED]
    assert [e.code for e in rec.of("error")] == ["CONNECTION_FAILED"]
    assert r.get_last_error() is not None and r.get_last_error().code == "CONNECTION_FAILED"  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="api_key is required"):
        Reactor("helios")


async def test_frame_callbacks_slow_and_raising_never_stall_the_stream(
    local_reactor: tuple[Reactor, Recorder],
) -> None:
    r, rec = local_reactor
    seen: list[tuple[int, ...]] = []
    release = threading.Event()

    @r.on_frame
    def slow(frame: np.ndarray) -> None:
        seen.append(frame.shape)
        release.wait(0.5)

    def boom(frame: np.ndarray) -> None:
        raise ValueError("bad callback")

    r.set_frame_callback(boom)
    start = r.frames.seq
    await rec.await_(lambda: any(e.code == "CALLBACK_ERROR" for e in rec.of("error")), what="CALLBACK_ERROR")
    err = next(e for e in rec.of("error") if e.code == "CALLBACK_ERROR")
    assert "boom" in err.message and "ValueError" in err.message
    await next_frames(r, 20, timeout=10)  # the reader keeps going while callbacks block
    # boom fails on every frame it sees; reports are throttled to about one a second
    assert len([e for e in rec.of("error") if e.code == "CALLBACK_ERROR"]) <= 3
    assert r.frames.seq - start >= 20
    assert len(seen) < r.frames.seq - start  # latest wins: the slow callback skipped frames
    assert seen[0] == (384, 640, 3)
    assert r.get_stats()["callback_frames_dropped"] > 0
    release.set()
    r.set_frame_callback(None)  # removes every frame callback, the decorated one too
    assert r.get_status() is S.READY


async def test_stats_update_every_two_seconds(local_reactor: tuple[Reactor, Recorder]) -> None:
    r, rec = local_reactor
    await rec.await_(lambda: len(rec.of("stats_update")) >= 1, timeout=6, what="stats_update")
    stats = rec.of("stats_update")[0]
    for key in (
        "timestamp",
        "rtt",
        "frames_per_second",
        "jitter",
        "packet_loss_ratio",
        "candidate_type",
        "available_outgoing_bitrate",
        "connection_timings",
        "frame_age_ms",
        "decode_ms",
        "frames_received",
        "frames_dropped",
    ):
        assert key in stats, key
    assert stats["frames_per_second"] is not None and stats["frames_per_second"] > 1
    assert stats["frames_received"] > 0 and stats["decode_ms"] > 0
    assert stats["candidate_type"] == "host"
    assert stats["packets_received"] > 0 and stats["packet_loss_ratio"] is not None
    assert stats["connection_timings"]["total_ms"] > 0
    assert stats["rtt"] is not None and stats["rtt"] >= 0
    live = r.get_stats()
    assert live["frames_received"] >= stats["frames_received"]


def test_sync_twins_from_a_plain_thread_and_awaits_from_another_loop(runtime: LocalRuntime) -> None:
    r = Reactor("testpattern", local=True, local_url=runtime.url)
    rec = Recorder().attach(r)
    failures: list[BaseException] = []

    def worker() -> None:
        try:
            r.connect_sync()
            r.send_command_sync("set_color", {"r": 9, "g": 9, "b": 9})
            assert r.frames.wait_next(-1, 10) is not None
            r.disconnect_sync(recoverable=True)
            r.reconnect_sync()
            assert r.get_status() is S.READY
            track = NumpyTrack()
            r.publish_track_sync("webcam", track)
            r.unpublish_track_sync("webcam")

            async def other_loop() -> None:  # a second, unrelated event loop awaiting the SDK
                await r.send_command("set_color", {"r": 1, "g": 1, "b": 1})
                await r.disconnect()

            asyncio.run(other_loop())
        except BaseException as exc:
            failures.append(exc)

    t = threading.Thread(target=worker)
    t.start()
    t.join(60)
    assert not t.is_alive() and failures == []
    assert rec.of("status_changed") == [
        S.CONNECTING,
        S.WAITING,
        S.READY,
        S.DISCONNECTED,
        S.CONNECTING,
        S.READY,
        S.DISCONNECTED,
    ]
    rec.wait(
        lambda: {"type": "color_set", "data": {"r": 9, "g": 9, "b": 9}} in rec.of("message"), what="color_set"
    )


async def test_sync_call_from_a_handler_on_the_sdk_thread_is_refused(
    local_reactor: tuple[Reactor, Recorder],
) -> None:
    r, rec = local_reactor
    got: list[str] = []

    def handler(message: dict) -> None:
        try:
            r.send_command_sync("set_color", {"r": 0, "g": 0, "b": 0})
        except RuntimeError as exc:
            got.append(str(exc))

    r.on("message", handler)
    await r.send_command("set_color", {"r": 3, "g": 3, "b": 3})
    await rec.await_(lambda: bool(got), what="handler ran")
    assert "SDK event-loop thread" in got[0]


async def test_oversized_message_is_refused_with_message_send_failed(
    local_reactor: tuple[Reactor, Recorder],
) -> None:
    r, rec = local_reactor
    with pytest.raises(MessageSendError, match="262144"):
        await r.send_command("set_color", {"r": 1, "g": 2, "b": 3, "pad": "x" * 300_000}, validate=False)
    assert [e.code for e in rec.of("error")] == ["MESSAGE_SEND_FAILED"]
    assert not [e for e in r.frames.timeline_entries() if e.kind == "command"]
    await r.send_command("set_color", {"r": 1, "g": 2, "b": 3})  # the channel still works
    await rec.await_(lambda: any(m.get("type") == "color_set" for m in rec.of("message")))


async def test_pause_and_resume_output_track(local_reactor: tuple[Reactor, Recorder]) -> None:
    r, _ = local_reactor
    await next_frames(r, 2)
    with pytest.raises(ValueError, match="not an output track"):
        await r.pause_track("webcam")
    await r.pause_track("main_video")

    def quiet_for(seconds: float) -> bool:
        """True once no frame arrived for ``seconds`` (frames in flight at the pause may still land)."""
        for _ in range(10):
            if r.frames.wait_next(r.frames.seq, seconds) is None:
                return True
        return False

    assert await asyncio.to_thread(quiet_for, 0.5)
    await r.resume_track("main_video")
    resumed = await next_frames(r, 3, timeout=5)
    idx = [framecode.read_index(f) for f, _ in resumed]
    assert idx == sorted(idx)

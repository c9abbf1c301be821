"""Today's official client, reactor-sdk 1.13.0 (wire v1 on both data channels), against our runtime.

Each test drives a PY113 subprocess (its own venv, tests/interop/clients/py113_driver.py) and
asserts on what 1.13 itself reports: command replies and errors, messages, the schema, decoded
pixels; and on what our runtime saw (input frames counted by testpattern, paused outputs,
trickled candidates). Local mode (``local=True`` with ``api_url``) and cloud-like mode (any key).
"""

from __future__ import annotations

import asyncio
import io
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from harness import CLIENTS, ClientProcess, client_pool, http_json
from py113_env import PY113
from test_py08 import COLOR, PROBE, assert_streaming, close_to, token
from testutil import poll_until
from v1_raw import RawV1Client

from reactor_notebook.protocol import v1

READY = 30.0


@pytest.fixture
def py113() -> Iterator[Callable[..., ClientProcess]]:
    """Factory of PY113 driver subprocesses (closed, and so disconnected, at teardown)."""
    python = PY113.ensure()
    with client_pool(hello_timeout=60) as start:

        def spawn(rt: Any, mode: str = "local", model: str = "testpattern", *extra: str) -> ClientProcess:
            args = [*extra, "--mode", mode, "--api-url", rt.url, "--model", model, "--probe", f"{PROBE[0]},{PROBE[1]}"]
            if mode == "cloud":
                args += ["--api-key", "interop-key"]
            client = start([str(python), str(CLIENTS / "py113_driver.py"), *args])
            client.connect_ready(READY)
            return client

        yield spawn


def peers(rt: Any) -> list[Any]:
    return [p for s in list(rt.server.manager.sessions.values()) for p in s.peers]


def answered_video_codecs(rt: Any) -> set[str]:
    """The first codec of the video section of every answer our runtime gave."""
    found = set()
    for s in list(rt.server.manager.sessions.values()):
        for conn in s.connections.values():
            lines = (conn.answer or "").splitlines()
            m = next(i for i, line in enumerate(lines) if line.startswith("m=video"))
            pt = lines[m].split()[3]
            found |= {line.split()[1].split("/")[0] for line in lines if line.startswith(f"a=rtpmap:{pt} ")}
    return found


def command_reply_changes_pixels(client: ClientProcess) -> None:
    """send_command returns the model's correlated reply, and the decoded pixels take the colour."""
    mark = client.mark()
    reply = client.call("send_command", 15, command="set_color", data=COLOR)
    assert reply == {"type": "color_set", "data": {k: float(v) for k, v in COLOR.items()}}, reply
    client.wait_for(lambda e: e.get("ev") == "frame" and close_to(e["px"][0], COLOR), 10, start=mark,
                    what=f"a frame in {COLOR}")
    messages = [e["message"] for e in client.since(mark, "message")]
    assert messages.count(reply) <= 1, messages  # the reply is not delivered twice


def rejected_command_names_field(client: ClientProcess) -> None:
    failed = client.call("send_command", 15, allow_fail=True, command="set_color", data={**COLOR, "g": 300})
    assert failed["ev"] == "op_failed" and failed["code"] == "out_of_range", failed
    assert "set_color: field 'g'" in failed["error"] and "300" in failed["error"], failed
    unknown = client.call("send_command", 15, allow_fail=True, command="set_colour", data={})
    assert unknown["code"] == "unknown_command" and "set_color" in unknown["error"], unknown


# ---------------------------------------------------------------------------------------------
def test_local_testpattern_everything_on_the_data_channels(rt_testpattern: Any, py113: Any) -> None:
    client = py113(rt_testpattern, "local")
    assert client.statuses()[:3] == ["connecting", "waiting", "ready"]
    poll_until(lambda: {p.wire for p in peers(rt_testpattern)} == {"v1"}, 10, "the connection latched wire v1")
    assert_streaming(client)
    assert answered_video_codecs(rt_testpattern) == {"VP8"}  # 1.13 offers VP8/VP9/AV1, no H264
    command_reply_changes_pixels(client)
    rejected_command_names_field(client)

    status, schema = http_json("GET", f"{rt_testpattern.url}/schema")
    assert status == 200 and client.call("request_schema", 15) == schema

    snapshots: list[dict[str, Any]] = []

    def nominated_pair_stats() -> dict[str, Any] | None:
        st = client.call("get_stats", 15)
        snapshots.append(st)
        return st if st["candidate_pair_state"] == "succeeded" and st["rtt_ms"] is not None else None

    # libwebrtc measures the pair's rtt from its consent checks (every ~5 s), so allow a few rounds
    try:
        stats = poll_until(nominated_pair_stats, 25, "a stats snapshot of the nominated pair", interval=0.5)
    except AssertionError as exc:
        raise AssertionError(f"{exc}; last snapshot: {snapshots[-1] if snapshots else None}") from None
    assert stats["candidate_type"] == "host", stats

    assert client.call("pause", 15, name="main_video") == ["main_video"]
    poll_until(lambda: all(p.outputs["main_video"].paused for p in peers(rt_testpattern)), 5, "output paused")
    assert client.call("resume", 15, name="main_video") == []
    poll_until(lambda: not any(p.outputs["main_video"].paused for p in peers(rt_testpattern)), 5, "resumed")
    assert_streaming(client, 12)


def test_publish_and_push_frame_reach_the_model(rt_testpattern: Any, py113: Any) -> None:
    client = py113(rt_testpattern, "local")
    assert client.call("publish", 15, name="webcam") == {"published": True}
    mark = client.mark()
    client.send("push_frames", count=40, color=[0, 200, 0], width=320, height=240)
    stats = client.wait_for(
        lambda e: e.get("ev") == "message" and e["message"].get("type") == "input_stats"
        and e["message"]["data"]["frames"] >= 10, 30, start=mark, what="input_stats >= 10")
    assert stats["message"]["data"]["track"] == "webcam"
    assert rt_testpattern.model.input_frames["webcam"] >= 10
    client.call("unpublish", 10, name="webcam")
    client.wait_for(lambda e: e.get("ev") == "message" and e["message"] == {
        "type": "input_changed", "data": {"track": "webcam", "published": False}}, 10, start=mark, what="unpublished")


def test_cloud_like_mode(rt_testpattern: Any, py113: Any) -> None:
    client = py113(rt_testpattern, "cloud")
    poll_until(lambda: {p.wire for p in peers(rt_testpattern)} == {"v1"}, 10, "the connection latched wire v1")
    assert_streaming(client)
    command_reply_changes_pixels(client)
    rejected_command_names_field(client)


def test_trickled_candidates_are_applied(rt_testpattern: Any, py113: Any) -> None:
    """1.13's offer has no candidates; what it trickles (some before its offer) reaches the ICE agent."""
    py113(rt_testpattern, "local")
    (peer,) = peers(rt_testpattern)
    remote = [c for t in peer.pc.getTransceivers() for c in t.sender.transport.transport.getRemoteCandidates()]
    assert any(c.type == "host" for c in remote), remote


def _png(color: tuple[int, int, int]) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(buf, format="PNG")
    return buf.getvalue()


def test_helios_replies_integers_and_uploads(rt_helios: Any, py113: Any) -> None:
    client = py113(rt_helios, "local", model="helios")
    reply = client.call("send_command", 15, command="schedule_prompt", data={"prompt": "a harbour", "chunk": 0})
    assert reply["data"]["chunk"] == 0 and reply["data"]["prompt"] == "a harbour", reply
    late = client.call("send_command", 15, allow_fail=True, command="schedule_prompt", data={"prompt": "x", "chunk": 1.5})
    assert late["code"] == "wrong_type" and "field 'chunk'" in late["error"], late
    ref = client.call("upload", 30, hex=_png((0, 90, 200)).hex(), name="ref.png", mime_type="image/png")
    assert ref["name"] == "ref.png" and ref["size"] > 0
    reply = client.call("send_command", 15, command="set_image", data={}, file_key="image")
    assert reply["data"]["width"] == 64 and reply["data"]["height"] == 48, reply
    started = client.call("send_command", 15, command="start", data={})
    assert started["type"] in ("event", "generation_started"), started
    mark = client.mark()
    frames = client.wait_frames(12, 15, start=mark)
    assert frames[-1]["index"] != 0xFFFF, frames[-1]  # the idle card gave way to generated frames


# ---------------------------------------------------------------------------------------------
# Bad v1 input: answered specifically while a concurrent reactor-sdk 0.8.0 client keeps streaming
# ---------------------------------------------------------------------------------------------
def test_bad_v1_input_is_answered_and_py08_keeps_streaming(rt_testpattern: Any, py08: Any) -> None:
    py08_client = py08("--mode", "cloud", "--api-url", rt_testpattern.url, "--api-key", "interop-key",
                       "--probe", f"{PROBE[0]},{PROBE[1]}", "--no-trace")
    py08_client.connect_ready()
    sid = py08_client.wait_for("session_id", 5)["session_id"]
    assert_streaming(py08_client)
    worker = rt_testpattern.server.manager.sessions[sid].worker
    rt_testpattern.run(_bad_input(rt_testpattern.url, sid, token(rt_testpattern.url), worker), timeout=60)
    frames = assert_streaming(py08_client, 24)
    assert frames[-1]["shape"] == [384, 640, 3]
    assert {p.wire for p in peers(rt_testpattern)} >= {"v0"}


async def _bad_input(base: str, sid: str, jwt: str, worker: Any) -> None:
    client = RawV1Client(base, sid, jwt)
    try:
        await client.connect()
        client.send("control", v1.encode_control_client({"kind": "notification", "ping": {}}))  # latches v1
        client.send("data", b"\x0a\xff\xff\xff")  # field 1 claims a length beyond the frame
        err = await client.reply_to("data", None)
        assert err["error"]["code"] == "malformed_message" and "DataClientMessage" in err["error"]["message"], err

        unknown = v1.encode_data_client({"request_id": "u1", "kind": "request"}) + b"\xfa\x01\x00"  # field 31
        client.send("data", unknown)
        err = await client.reply_to("data", "u1")
        assert err["error"]["code"] == "unknown_message" and "field 31" in err["error"]["message"], err

        client.send("control", v1.encode_control_client({"request_id": "c9", "kind": "request"}) + b"\xa2\x06\x00")
        err = await client.reply_to("control", "c9")
        assert err["error"]["code"] == "unknown_message" and "field 100" in err["error"]["message"], err

        gate = threading.Event()  # holds the model thread, so d1 is still in flight when it comes again
        worker.submit(gate.wait, 20)
        slow = {"request_id": "d1", "kind": "request", "command": {"type": "set_color", "data": {"r": 1, "g": 2, "b": 3}}}
        client.send("data", v1.encode_data_client(slow))
        client.send("data", v1.encode_data_client(slow))
        dup = await client.reply_to("data", "d1")
        assert dup["error"]["code"] == "duplicate_request_id" and "'d1'" in dup["error"]["message"], dup
        gate.set()
        reply = await client.reply_to("data", "d1")
        assert reply["message"] == {"type": "color_set", "data": {"r": 1.0, "g": 2.0, "b": 3.0}}, reply

        client.send("data", v1.encode_data_client({"request_id": "d2", "kind": "request", "command": {"type": "set_color"}}))
        err = await client.reply_to("data", "d2")
        assert err["error"]["code"] == "missing_field" and "set_color: field 'r'" in err["error"]["message"], err
        client.send("control", v1.encode_control_client({"request_id": "c1", "kind": "request", "request_schema": {}}))
        assert "paths" in (await client.reply_to("control", "c1"))["model_schema"]["openapi"]  # still serving
    finally:
        await client.close()
        await asyncio.sleep(0)


def test_v0_clients_keep_their_wire(rt_testpattern: Any, py08: Any) -> None:
    """reactor-sdk 0.8.0 on the same runtime: JSON messages, no v1 frame, descriptor extras ignored."""
    client = py08("--mode", "cloud", "--api-url", rt_testpattern.url, "--api-key", "interop-key",
                  "--probe", f"{PROBE[0]},{PROBE[1]}", "--no-trace")
    client.connect_ready()
    mark = client.mark()
    client.call("send_command", 10, command="set_color", data=COLOR)
    assert client.wait_for("message", 10, start=mark)["message"] == {"type": "color_set", "data": COLOR}
    assert {p.wire for p in peers(rt_testpattern)} == {"v0"}


def test_control_pings_keep_the_connection_past_the_watchdog(runtime_factory: Any, py113: Any) -> None:
    """1.13 pings on ``control`` every 5 s; with a 7 s watchdog only those pings keep it open for 14 s."""
    watchdog = 7.0
    rt = runtime_factory(model="testpattern", keepalive_timeout=watchdog, keepalive_check=0.5)
    client = py113(rt, "local")
    deadline = time.monotonic() + 2 * watchdog
    while (left := deadline - time.monotonic()) > 0:
        assert client.statuses()[-1] == "ready", client.describe()
        assert len(peers(rt)) == 1 and not peers(rt)[0].closed
        time.sleep(min(0.5, left))  # an observation window, not a synchronisation
    assert client.call("send_command", 15, command="set_color", data=COLOR)["type"] == "color_set"


@pytest.fixture(scope="module")
def rt_no_recording(runtime_factory: Callable[..., Any]) -> Any:
    """A testpattern runtime started with recording off (``--no-recording``)."""
    return runtime_factory(model="testpattern", recording=False)


def test_clips_are_refused_with_a_reason(rt_no_recording: Any, py113: Any) -> None:
    """Without a recorder, 1.13's clip and recording requests get clip_failed{reason}, not a timeout.

    The runtime records by default, so this one starts with recording off; clips with recording
    on are tests/interop/test_clips_py113.py.
    """
    client = py113(rt_no_recording, "local", "testpattern")
    for op, kw in (("request_clip", {"duration": 2.0}), ("request_recording", {})):
        failed = client.call(op, 15, allow_fail=True, **kw)
        assert failed["ev"] == "op_failed" and failed["code"] == "RECORDER_DISABLED", failed
        assert "recording off" in failed["error"], failed

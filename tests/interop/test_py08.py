"""PY08 (official reactor-sdk 0.8.0) against our runtime, through real HTTP and aiortc WebRTC.

Interop matrix rows 2 and 3 of protocol.md §8. Each test drives a PY08 subprocess (its own venv)
with JSON-line operations and asserts on what PY08 itself reports: statuses, the HTTP exchanges it
made, decoded frames (index code, size, pixels) and messages.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from harness import (
    READY_TIMEOUT,
    ClientProcess,
    frame_indices,
    health,
    http_json,
    increasing_run,
    poll_until,
    wait_runtime_idle,
)

W, H = 640, 384
PROBE = (320, 192)  # centre of the testpattern colour patch (set_color), away from the index code
COLOR = {"r": 230, "g": 30, "b": 140}
IDLE_INDEX = 0xFFFF  # frame code of the helios idle card shown before ``start``


def close_to(px: list[int], color: dict[str, int], tol: int = 40) -> bool:
    """Lossy video keeps a flat colour within ``tol`` per channel."""
    return all(abs(a - b) <= tol for a, b in zip(px, (color["r"], color["g"], color["b"]), strict=True))


def assert_streaming(client: ClientProcess, count: int = 24) -> list[dict[str, Any]]:
    """``count`` new frames of 640x384 RGB whose index codes never go backwards and do advance."""
    frames = client.wait_frames(count, 15, start=client.mark())
    assert {tuple(f["shape"]) for f in frames} == {(H, W, 3)}, client.describe()
    indices = frame_indices(frames)
    assert increasing_run(indices), indices
    assert indices[-1] != indices[0], f"index code did not advance: {indices}"
    return frames


def assert_color_command(client: ClientProcess) -> None:
    """set_color changes the pixels PY08 decodes, and the model answers with an app message."""
    mark = client.mark()
    client.call("send_command", 5, command="set_color", data=COLOR)
    frame = client.wait_for(
        lambda e: e.get("ev") == "frame" and close_to(e["px"][0], COLOR),
        10,
        start=mark,
        what=f"a frame in {COLOR}",
    )
    assert tuple(frame["shape"]) == (H, W, 3)
    message = client.wait_for("message", 5, start=mark)["message"]
    assert message == {"type": "color_set", "data": COLOR}, message


def token(base_url: str, key: str = "interop-key") -> str:
    status, body = http_json("POST", f"{base_url}/tokens", headers={"Reactor-API-Key": key})
    assert status == 200 and body["jwt"], (status, body)
    return body["jwt"]


def probe_args() -> list[str]:
    return ["--probe", f"{PROBE[0]},{PROBE[1]}"]


# ---------------------------------------------------------------------------------------------
# Local mode: PY08 local=True always talks to http://localhost:8080
# ---------------------------------------------------------------------------------------------
def ask_runtime(client: ClientProcess, command: str, reply: str) -> Any:
    """Send a runtime-scope request through the client; return the data of the reply it receives."""
    mark = client.mark()
    client.call("send_command", 5, command=command, data={}, scope="runtime")
    event = client.wait_for(
        lambda e: e.get("ev") == "runtime_message" and e["message"].get("type") == reply, 10, start=mark
    )
    return event["message"]["data"]


def test_local_mode_streams_commands_and_stops(rt_local8080: Any, py08: Any) -> None:
    client = py08("--mode", "local", *probe_args())
    client.connect_ready()
    assert client.statuses()[:3] == ["connecting", "waiting", "ready"]
    trace = client.http_trace()
    assert trace[0] == ("POST", "/start_session", 200), trace
    base = "/sessions/local/transport/webrtc"
    assert ("GET", f"{base}/ice_servers", 200) in trace
    assert ("POST", f"{base}/connections", 201) in trace
    registered = next(e for e in client.of("http") if e["path"] == f"{base}/connections")
    cid = registered["body"]["connection_id"]
    assert isinstance(cid, int) and 1001 < cid <= 9999
    assert ("POST", f"{base}/connections/{cid}/sdp_params", 202) in trace
    assert ("GET", f"{base}/connections/{cid}/sdp_params", 200) in trace
    assert [e["name"] for e in client.of("track_received")] == ["main_video"]

    assert_streaming(client)
    assert_color_command(client)
    assert health(rt_local8080.url)["state"] == "STREAMING"

    client.call("disconnect", 10)
    assert ("POST", "/stop_session", 200) in client.http_trace()
    wait_runtime_idle(rt_local8080.url)


def test_local_mode_publish_webcam_is_counted(rt_local8080: Any, py08: Any) -> None:
    client = py08("--mode", "local", "--frame-every", "6")
    client.connect_ready()
    mark = client.mark()
    result = client.call("publish", 15, name="webcam", color=[0, 180, 60])
    assert result["status"] == "ready"
    assert not [e for e in client.of("error") if e.get("code") == "TRACK_PUBLISH_FAILED"], client.describe()

    def counted(event: dict[str, Any]) -> bool:
        message = event.get("message") if event.get("ev") == "message" else None
        return (
            isinstance(message, dict) and message.get("type") == "input_stats" and _input_frames(message) > 0
        )

    stats = client.wait_for(counted, 15, start=mark, what="an input_stats message counting webcam frames")
    first = _input_frames(stats["message"])
    later = client.wait_for(
        lambda e: counted(e) and _input_frames(e["message"]) > first,
        15,
        start=client.mark(),
        what="a growing count",
    )
    assert _input_frames(later["message"]) > first
    client.call("unpublish", 5, name="webcam")
    client.call("disconnect", 10)


def _input_frames(message: dict[str, Any]) -> int:
    """Frames counted for the ``webcam`` input in a testpattern ``input_stats`` message."""
    data = message.get("data") or {}
    return int(data["frames"]) if data.get("track") == "webcam" else 0


def test_local_mode_pause_resume_and_reconnect(rt_local8080: Any, py08: Any) -> None:
    client = py08("--mode", "local", *probe_args())
    client.connect_ready()
    assert_streaming(client, 12)
    assert_color_command(client)  # model state that must survive the reconnect below

    # pause_track: frames for this connection stop (PY08 also sets its transceiver inactive).
    client.call("pause_track", 5, name="main_video")
    quiet_since = poll_until(lambda: _quiet_for(client, 0.6), 8, "frames to stop after pause_track")
    client.call("resume_track", 5, name="main_video")
    resumed = client.wait_frames(12, 10, start=quiet_since)
    assert increasing_run(frame_indices(resumed))

    # Recoverable disconnect keeps the session (ORPHANED); reconnect registers a new connection and
    # PUTs an offer, and the model was not told: its colour is still the one set before.
    client.call("disconnect", 10, recoverable=True)
    assert client.call("state", 5)["session_id"] == "local"
    poll_until(lambda: health(rt_local8080.url)["state"] == "ORPHANED", 10, "runtime state ORPHANED")
    mark = client.mark()
    client.call("reconnect", READY_TIMEOUT)
    client.wait_for(lambda e: e.get("ev") == "status" and e["status"] == "ready", READY_TIMEOUT, start=mark)
    after = [(e["method"], e["path"].rsplit("/", 1)[-1], e["status"]) for e in client.since(mark, "http")]
    assert ("POST", "connections", 201) in after, after
    assert ("PUT", "sdp_params", 202) in after, after
    frames = assert_streaming(client, 12)
    assert all(close_to(f["px"][0], COLOR) for f in frames), [f["px"][0] for f in frames]
    assert health(rt_local8080.url)["state"] == "STREAMING"
    client.call("disconnect", 10)
    wait_runtime_idle(rt_local8080.url)


def test_local_mode_with_api_key_posts_tokens_to_the_local_base(rt_local8080: Any, py08: Any) -> None:
    """Pitfall (§2.3): PY08 given an api_key with local=True first POSTs /tokens to :8080."""
    client = py08("--mode", "local", "--api-key", "some-key", "--frame-every", "8")
    client.connect_ready()
    assert client.http_trace()[:2] == [("POST", "/tokens", 200), ("POST", "/start_session", 200)]
    assert client.wait_frames(2, 10, start=client.mark())
    client.call("disconnect", 10)
    wait_runtime_idle(rt_local8080.url)


def _quiet_for(client: ClientProcess, window: float) -> int | None:
    """Event index at which frames have been silent for ``window`` seconds, else None."""
    frames = client.of("frame")
    if frames and time.monotonic() - frames[-1]["t"] < window:
        return None
    return client.mark()


# ---------------------------------------------------------------------------------------------
# Cloud-like mode: api_url = our runtime, any api_key
# ---------------------------------------------------------------------------------------------
def test_cloud_mode_full_lifecycle_with_pending_phase(rt_testpattern: Any, py08: Any) -> None:
    url = rt_testpattern.url
    # Hold the single model instance with a local session so the cloud session queues (PENDING).
    status, held = http_json("POST", f"{url}/start_session", {})
    assert status == 200, (status, held)

    client = py08("--mode", "cloud", "--api-url", url, "--api-key", "any-key-works", *probe_args())
    client.send("connect")
    pending = client.wait_for(
        lambda e: (
            e.get("ev") == "http" and e["method"] == "GET" and (e.get("body") or {}).get("state") == "PENDING"
        ),
        15,
        what="a PENDING poll of GET /sessions/{id}",
    )
    status, _ = http_json("POST", f"{url}/stop_session")
    assert status == 200
    client.wait_for(lambda e: e.get("ev") == "status" and e["status"] == "ready", READY_TIMEOUT, what="READY")

    trace = client.http_trace()
    sid = pending["path"].rsplit("/", 1)[-1]
    assert trace[0] == ("POST", "/tokens", 200), trace
    assert trace[1] == ("POST", "/sessions", 201), trace
    created = client.of("http")[1]
    assert created["body"]["session_id"] == sid and created["body"]["state"] == "CREATED"
    assert {"session_id", "state", "cluster", "model", "server_info"} <= set(created["keys"])
    polls = [e for e in client.of("http") if e["method"] == "GET" and e["path"] == f"/sessions/{sid}"]
    assert [p["body"]["state"] for p in polls][-1] in ("WAITING", "ACTIVE")
    assert {"selected_transport", "capabilities"} <= set(polls[-1]["keys"])
    assert ("POST", f"/sessions/{sid}/transport/webrtc/connections", 201) in trace
    assert client.statuses()[:3] == ["connecting", "waiting", "ready"]

    assert_streaming(client)
    assert_color_command(client)
    jwt = token(url)
    status, info = http_json("GET", f"{url}/sessions/{sid}", headers={"Authorization": f"Bearer {jwt}"})
    assert status == 200 and info["state"] == "ACTIVE", (status, info)

    client.call("disconnect", 10)
    assert ("DELETE", f"/sessions/{sid}", 200) in client.http_trace()
    status, after = http_json("GET", f"{url}/sessions/{sid}", headers={"Authorization": f"Bearer {jwt}"})
    assert status == 404 or (status == 200 and after["state"] == "CLOSED"), (status, after)
    wait_runtime_idle(url)


def test_cloud_mode_simulated_assignment_delay(runtime_factory: Any, py08: Any) -> None:
    """With a simulated GPU assignment delay PY08 polls through PENDING and still reaches READY."""
    rt = runtime_factory(model="testpattern", assignment_delay=1.0)
    client = py08("--mode", "cloud", "--api-url", rt.url, "--api-key", "k", "--frame-every", "8")
    client.connect_ready()
    sid = client.of("session_id")[0]["session_id"]
    polls = [
        e["body"]["state"]
        for e in client.of("http")
        if e["method"] == "GET" and e["path"] == f"/sessions/{sid}"
    ]
    assert polls[0] == "PENDING" and polls[-1] in ("WAITING", "ACTIVE"), polls
    assert set(polls[:-1]) == {"PENDING"}, polls
    assert client.wait_frames(2, 10, start=client.mark())
    client.call("disconnect", 10)
    assert ("DELETE", f"/sessions/{sid}", 200) in client.http_trace()
    wait_runtime_idle(rt.url)


def test_cloud_mode_wrong_key_gets_401(runtime_factory: Any, py08: Any) -> None:
    rt = runtime_factory(model="testpattern", api_key="the-right-key")
    wrong = py08("--mode", "cloud", "--api-url", rt.url, "--api-key", "a-wrong-key")
    failed = wrong.call("connect", 15, allow_fail=True)
    assert failed["ev"] == "op_failed" and "401" in failed["error"], failed
    assert wrong.http_trace() == [("POST", "/tokens", 401)]
    assert [e["code"] for e in wrong.of("error")] == ["CONNECTION_FAILED"]
    assert wrong.statuses()[-1] == "disconnected"

    right = py08("--mode", "cloud", "--api-url", rt.url, "--api-key", "the-right-key")
    right.connect_ready()
    assert right.http_trace()[0] == ("POST", "/tokens", 200)
    right.call("disconnect", 10)
    wait_runtime_idle(rt.url)


@pytest.mark.parametrize(
    ("flag", "value", "status", "code"),
    [
        ("--forge-api-version", "0", 426, "CLIENT_VERSION_TOO_OLD"),
        ("--forge-api-version", "2", 501, "SERVER_VERSION_TOO_OLD"),
        ("--forge-webrtc-version", "0.9", 426, "CLIENT_VERSION_TOO_OLD"),
        ("--forge-webrtc-version", "2.0", 501, "SERVER_VERSION_TOO_OLD"),
    ],
)
def test_cloud_mode_version_negotiation(
    rt_testpattern: Any, py08: Any, flag: str, value: str, status: int, code: str
) -> None:
    client = py08("--mode", "cloud", "--api-url", rt_testpattern.url, "--api-key", "k", flag, value)
    failed = client.call("connect", 15, allow_fail=True)
    assert failed["ev"] == "op_failed" and failed["code"] == code, failed
    assert any(s == status for _, _, s in client.http_trace()), client.http_trace()
    # The session PY08 created before the transport refused it is deleted again.
    wait_runtime_idle(rt_testpattern.url)


def test_cloud_mode_helios_commands_state_and_errors(rt_helios: Any, py08: Any) -> None:
    client = py08(
        "--mode",
        "cloud",
        "--model",
        "helios",
        "--api-url",
        rt_helios.url,
        "--api-key",
        "k",
        "--frame-every",
        "4",
    )
    client.connect_ready()
    caps = client.of("capabilities")[-1]
    assert [t["name"] for t in caps["tracks"]] == ["main_video"]
    assert {"set_prompt", "schedule_prompt", "start", "pause", "resume", "reset"} <= set(caps["commands"])
    idle = client.wait_frames(3, 10, start=client.mark())  # the idle card before start
    assert {tuple(f["shape"]) for f in idle} == {(H, W, 3)}

    def message(pred: Any) -> Any:
        return lambda e: e.get("ev") == "message" and pred(e["message"])

    mark = client.mark()
    client.call("send_command", 5, command="set_prompt", data={"prompt": "A foggy harbour at dawn"})
    client.call("send_command", 5, command="start", data={})
    state = client.wait_for(
        message(lambda m: m.get("type") == "state" and m["data"].get("running") is True), 10, start=mark
    )["message"]["data"]
    assert state["current_prompt"] in (None, "A foggy harbour at dawn")
    assert state["scheduled_prompts"] == {"0": "A foggy harbour at dawn"}
    client.wait_for(
        message(lambda m: m.get("type") == "event" and m["data"].get("event") == "generation_started"),
        10,
        start=mark,
    )
    first = client.wait_for(lambda e: e.get("ev") == "frame" and e["index"] != IDLE_INDEX, 10, start=mark)
    generated = frame_indices(client.wait_frames(8, 10, start=client.events.index(first)))
    assert increasing_run(generated) and generated[-1] > generated[0], generated
    assert all(i < 1000 for i in generated), f"generated frames count from 0 after start: {generated}"

    mark = client.mark()
    client.call("send_command", 5, command="rewind", data={})
    error = client.wait_for(
        message(lambda m: m.get("type") == "event" and m["data"].get("event") == "error"), 10, start=mark
    )["message"]["data"]
    assert error["reason"] == "unknown_command" and "rewind" in error["message"], error

    caps_msg = ask_runtime(client, "requestCapabilities", "modelCapabilities")
    assert caps_msg["commands"] and all(isinstance(c.get("description"), str) for c in caps_msg["commands"])

    schema = ask_runtime(client, "requestSchema", "modelSchema")
    assert schema["openapi"].startswith("3.1") and "/events/set_prompt" in schema["paths"], sorted(schema)
    client.call("disconnect", 10)
    wait_runtime_idle(rt_helios.url)

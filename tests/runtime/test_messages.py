"""Data and control channel behaviour over real WebRTC (protocol.md §4, §6.5)."""

from __future__ import annotations

from testutil import apoll_until

from reactor_notebook import protocol
from reactor_notebook.runtime import LocalRuntime

from .client import RawClient


async def test_schema_rejections_come_back_with_command_field_reason(local_client: RawClient) -> None:
    cases = [
        ("set_color", {"r": 300, "g": 0, "b": 0}, "r", "out_of_range"),
        ("set_color", {"g": 0, "b": 0}, "r", "missing_field"),
        ("set_color", {"r": "1", "g": 0, "b": 0}, "r", "wrong_type"),
        ("set_color", {"r": 1, "g": 0, "b": 0, "a": 1}, "a", "unexpected_field"),
        ("explode", {}, None, "unknown_command"),
    ]
    for command, data, field, reason in cases:
        start = len(local_client.messages)
        local_client.command(command, data)
        err = await local_client.app_message("command_error", start=start)
        assert err["data"]["command"] == command
        assert err["data"]["field"] == field
        assert err["data"]["reason"] == reason
        assert err["data"]["message"].startswith(f"{command}: ")
    # integral floats are integers; accepted commands get no acknowledgement, only the model's message
    start = len(local_client.messages)
    local_client.command("set_color", {"r": 1.0, "g": 2, "b": 3})
    msg = await local_client.app_message("color_set", start=start)
    assert msg["data"] == {"r": 1, "g": 2, "b": 3}


async def test_unknown_command_lists_known_ones(local_client: RawClient) -> None:
    local_client.command("rewind", {})
    err = await local_client.app_message("command_error")
    assert "set_color" in err["data"]["message"]


async def test_malformed_and_unknown_messages_are_dropped(local_client: RawClient) -> None:
    local_client.data.send("{not json")
    local_client.data.send('{"scope":"weird","data":{"type":"x"}}')
    local_client.data.send('{"hello": 1}')
    local_client.send("runtime", "somethingNew", {})
    start = len(local_client.messages)
    local_client.command("set_color", {"r": 9, "g": 9, "b": 9})
    msg = await local_client.app_message("color_set", start=start)
    assert msg["data"]["r"] == 9
    assert not any(m["data"].get("type") == "command_error" for m in local_client.messages)


async def test_string_data_is_parsed(local_client: RawClient) -> None:
    local_client.data.send('{"scope":"application","data":{"type":"set_color","data":"{\\"r\\":5,\\"g\\":6,\\"b\\":7}"}}')
    msg = await local_client.app_message("color_set")
    assert msg["data"] == {"r": 5, "g": 6, "b": 7}


async def test_commands_keep_arrival_order(local_client: RawClient) -> None:
    start = len(local_client.messages)
    for i in range(30):
        local_client.command("set_color", {"r": i, "g": 0, "b": 0})
    await apoll_until(
        lambda: sum(m["data"].get("type") == "color_set" for m in local_client.messages[start:]) == 30, 10, "30 replies"
    )
    reds = [m["data"]["data"]["r"] for m in local_client.messages[start:] if m["data"].get("type") == "color_set"]
    assert reds == list(range(30))


async def test_request_capabilities_and_schema(local_client: RawClient, runtime: LocalRuntime) -> None:
    local_client.send("runtime", "requestCapabilities", {})
    caps = await local_client.runtime_message("modelCapabilities")
    assert caps["data"]["commands"][0]["name"] == "set_color"
    assert caps["data"]["tracks"][0] == {"name": "main_video", "kind": "video", "direction": "recvonly"}
    local_client.send("runtime", "requestSchema", {})
    doc = await local_client.runtime_message("modelSchema")
    assert doc["data"]["openapi"] == "3.1.0" and "/events/set_color" in doc["data"]["paths"]


async def test_oversized_message_gets_an_error_not_a_crash(local_client: RawClient) -> None:
    huge = "x" * (protocol.MAX_MESSAGE_SIZE + 10)
    local_client.pc.sctp._remote_max_message_size = 0  # let the test client break the limit
    local_client.command("set_color", {"r": 1, "g": 1, "b": huge})
    err = await local_client.app_message("command_error")
    assert err["data"]["command"] == "set_color" and "exceeds" in err["data"]["message"]
    start = len(local_client.messages)
    local_client.command("set_color", {"r": 2, "g": 2, "b": 2})
    await local_client.app_message("color_set", start=start)


async def test_messages_are_broadcast_to_every_connection(local_client: RawClient, runtime: LocalRuntime) -> None:
    other = RawClient(runtime.url)
    try:
        await other.connect()
        local_client.command("set_color", {"r": 3, "g": 4, "b": 5})
        for c in (local_client, other):
            assert (await c.app_message("color_set"))["data"] == {"r": 3, "g": 4, "b": 5}
        await other.wait_frames(3)
    finally:
        await other.close()


async def test_publish_input_and_see_input_stats(local_client: RawClient, runtime: LocalRuntime) -> None:
    from aiortc.contrib.media import MediaPlayer  # noqa: F401  (import check only)
    from aiortc.mediastreams import VideoStreamTrack

    resp = await local_client.control_request("publish_track", "webcam")
    assert resp["type"] == "response" and resp["data"] == {} and "error" not in resp
    local_client.transceivers["webcam"].sender.replaceTrack(VideoStreamTrack())
    first = await local_client.app_message("input_stats")
    assert first["data"] == {"track": "webcam", "frames": 1}
    await local_client.next_message(
        lambda m: m["data"].get("type") == "input_stats" and m["data"]["data"]["frames"] >= 10, 15
    )
    assert runtime.model.input_frames["webcam"] >= 10  # the model keeps a counter
    assert runtime.model.last_input_shape == (480, 640, 3)  # RGB frames of the sender's size


async def test_control_errors(local_client: RawClient, runtime: LocalRuntime) -> None:
    resp = await local_client.control_request("publish_track", "main_video")
    assert resp["error"]["code"] == "UNKNOWN_TRACK"
    resp = await local_client.control_request("warp_drive", "webcam")
    assert resp["error"]["code"] == "UNKNOWN_METHOD"
    assert (await local_client.control_request("publish_track", "webcam"))["data"] == {}
    other = RawClient(runtime.url, tracks=[{"name": "webcam", "kind": "video", "direction": "sendonly"}])
    try:
        await other.connect()
        resp = await other.control_request("publish_track", "webcam")
        assert resp["error"]["code"] == "PUBLISHER_SLOT_TAKEN"
        local_client.control.send(protocol.control_notification("unpublish_track", "webcam"))
        await apoll_until(lambda: "webcam" not in runtime.server.manager.sessions["local"].input_owner, 5, "slot freed")
        assert (await other.control_request("publish_track", "webcam"))["data"] == {}
    finally:
        await other.close()


async def test_first_media_is_an_implicit_publish(runtime: LocalRuntime, http) -> None:
    from aiortc.mediastreams import VideoStreamTrack

    async with http.post(runtime.url + "/start_session") as r:
        assert r.status == 200
    client = RawClient(runtime.url, control=False, tracks=[
        {"name": "main_video", "kind": "video", "direction": "recvonly"},
        {"name": "webcam", "kind": "video", "direction": "sendonly"},
    ])
    try:
        await client.connect(flat=True)
        client.transceivers["webcam"].sender.replaceTrack(VideoStreamTrack())
        changed = await client.app_message("input_changed")
        assert changed["data"] == {"track": "webcam", "published": True}
        await client.app_message("input_stats")
    finally:
        await client.close()


async def test_pause_and_resume_output(local_client: RawClient, runtime: LocalRuntime) -> None:
    await local_client.wait_frames(2)
    local_client.control.send(protocol.control_notification("pause_track", "main_video"))

    def out_track():
        (peer,) = runtime.server.manager.sessions["local"].peers
        return peer.outputs["main_video"]

    await apoll_until(lambda: out_track().paused, 5, "track paused on the server")
    sent = out_track().frames_sent
    local_client.control.send(protocol.control_notification("resume_track", "main_video"))
    await apoll_until(lambda: not out_track().paused, 5, "track resumed")
    await apoll_until(lambda: out_track().frames_sent > sent + 3, 10, "frames flowing again")
    await local_client.wait_frames(3)

"""The v1 codec against the official generated classes: every envelope payload round-trips.

Our bytes are parsed by reactor-runtime 3.10.0's own ``reactor_wire.v1`` classes (in its venv),
re-serialised there, and decoded by us again: equal dicts prove field numbers, types, oneofs,
enums, maps and optional presence.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest

from reactor_notebook.protocol import v1

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "interop"))
from rt310_env import RT310

FRAME = {"encoding": "raw", "dtype": "uint8", "shape": [2, 2, 3], "data": bytes(range(12)), "capture_time_us": 7}
TRACK = {"track": "main_video", "kind": "video", "frames": [FRAME], "rate": 24.0}
COMMAND = {"type": "set_color", "data": {"r": 1.0, "s": "x", "l": [1.0, True], "n": None},
           "uploads": {"image": {"upload_id": "u1", "name": "a.png", "mime_type": "image/png", "size": 5}}}
SAMPLES: list[tuple[str, dict]] = [
    ("DataClientMessage", {"request_id": "r1", "kind": "request", "command": COMMAND}),
    ("DataClientMessage", {"request_id": "r2", "kind": "request",
                           "request_step": {"state": {"seed": 7.0}, "commands": [COMMAND], "media_input": [TRACK]}}),
    ("DataClientMessage", {"kind": "notification", "error": {"code": "X", "message": "y"}}),
    ("DataServerMessage", {"request_id": "r1", "kind": "response", "message": {"type": "color_set", "data": {"r": 1.0}}}),
    ("DataServerMessage", {"request_id": "r2", "kind": "response", "step_result": {
        "step": 3, "tracks": [TRACK], "elapsed_seconds": 0.5, "files": [{"name": "f", "content_type": "t", "size": 1}],
        "error": "no", "failure_code": "refused", "code": "C", "entry": "state.seed"}}),
    ("ControlClientMessage", {"kind": "notification", "ping": {}}),
    ("ControlClientMessage", {"request_id": "c1", "kind": "request", "request_schema": {}}),
    ("ControlClientMessage", {"kind": "notification", "file_uploaded": COMMAND["uploads"]["image"]}),
    ("ControlClientMessage", {"request_id": "c2", "kind": "request", "request_clip": {"duration_seconds": 2.0}}),
    ("ControlClientMessage", {"request_id": "c3", "kind": "request", "request_recording": {}}),
    ("ControlClientMessage", {"request_id": "c4", "kind": "request", "publish_track": {"name": "webcam"}}),
    ("ControlClientMessage", {"kind": "notification", "pause_track": {"name": "main_video"}}),
    ("ControlClientMessage", {"kind": "notification", "resume_track": {"name": "main_video"}}),
    ("ControlClientMessage", {"kind": "notification", "unpublish_track": {"name": "webcam"}}),
    ("ControlClientMessage", {"kind": "notification", "client_stats": {
        "track_stats": [{"timestamp": 1, "track_name": "main_video", "kind": "video", "direction": "recvonly",
                         "video_codec": "vp8", "paused": True, "metrics": {"fps": 24.0},
                         "frame_stages": [{"name": "decode", "total_ms": 1.5, "frames": 3, "part_of": "x"}],
                         "codec_implementation": "libvpx", "hardware_codec": False}],
        "connection_stat": {"timestamp": 2, "metrics": {"rtt": 0.01},
                            "environment": {"sdk_type": "python", "sdk_version": "1", "os": "linux",
                                            "os_version": "6", "arch": "x86_64", "device_model": "pc"},
                            "message_stages": [{"name": "send", "total_ms": 0.1, "messages": 2, "part_of": ""}]}}}),
    ("ControlServerMessage", {"request_id": "c1", "kind": "response", "model_schema": {"openapi": {"openapi": "3.1.0"}}}),
    ("ControlServerMessage", {"request_id": "c2", "kind": "response", "clip_ready": {
        "session_id": "s", "kind": "snap", "start_marker": 1.0, "end_marker": 3.0, "now_marker": 3.5,
        "predicted_ready_at_ms": 12, "playlist_url": "/clips?session_id=s&start=1&end=3"}}),
    ("ControlServerMessage", {"request_id": "c3", "kind": "response", "clip_failed": {"reason": "off"}}),
    ("ControlServerMessage", {"kind": "notification", "moderation": {
        "action": "block", "input_kind": "text", "command": "set_prompt", "categories": ["a", "b"], "message": "m"}}),
    ("ControlServerMessage", {"request_id": "c4", "kind": "response", "publish_track": {"name": "webcam"}}),
    ("ControlServerMessage", {"kind": "notification", "session_ended": {"reason": "bye"}}),
    ("ControlServerMessage", {"request_id": "c5", "kind": "response", "error": {"code": "E", "message": "m"}}),
]

OFFICIAL = """
import base64, json, sys, importlib
out = []
for name, b64 in json.load(sys.stdin):
    mod = {"Data": "data", "Cont": "control"}[name[:4]]
    cls = getattr(importlib.import_module("reactor_wire.v1." + mod + "_pb2"), name)
    msg = cls(); msg.ParseFromString(base64.b64decode(b64))
    out.append([msg.WhichOneof("payload"), base64.b64encode(msg.SerializeToString()).decode()])
print(json.dumps(out))
"""


@pytest.mark.official
def test_every_sample_round_trips_through_the_official_classes() -> None:
    python = RT310.ensure()
    ours = [(name, base64.b64encode(v1.encode(name, d)).decode()) for name, d in SAMPLES]
    done = subprocess.run([str(python), "-c", OFFICIAL], input=json.dumps(ours), capture_output=True,
                          text=True, timeout=120, check=True)
    back = json.loads(done.stdout)
    for (name, sent), (payload, theirs) in zip(SAMPLES, back, strict=True):
        assert payload == v1.payload_of(sent)[0], name
        again = v1.decode(name, base64.b64decode(theirs))
        assert again == v1.decode(name, v1.encode(name, sent)), (name, payload)
        for key, value in sent.items():  # every field we set survived with its value
            assert again[key] == value, (name, key)


def test_decoded_shapes() -> None:
    msg = v1.decode_data_server(v1.encode_data_server(SAMPLES[4][1]))
    frame = msg["step_result"]["tracks"][0]["frames"][0]
    assert frame["data"] == bytes(range(12)) and frame["shape"] == [2, 2, 3] and frame["encoding"] == "raw"
    assert "metadata" not in frame and frame["capture_time_us"] == 7
    assert msg["step_result"]["failure_code"] == "refused" and msg["kind"] == "response"
    ping = v1.decode_control_client(v1.encode_control_client({"kind": "notification", "ping": {}}))
    assert v1.payload_of(ping) == ("ping", {})


def test_sniff_follows_the_reference_rule() -> None:
    assert v1.sniff('{"scope":"runtime"}') == "v0"
    assert v1.sniff(b'{"scope":"runtime"}') == "v0" and v1.sniff(b"[1]") == "v0"
    assert v1.sniff(b' \n{"scope":"runtime"}') == "v0"
    assert v1.sniff(v1.encode_control_client({"kind": "notification", "ping": {}})) == "v1"


def test_bad_input_is_named() -> None:
    with pytest.raises(v1.V1DecodeError, match="DataClientMessage: malformed protobuf"):
        v1.decode_data_client(b"\xff\xff\xff")
    with pytest.raises(v1.V1EncodeError, match=r"DataClientMessage.comand: no such field"):
        v1.encode_data_client({"comand": {}})
    with pytest.raises(v1.V1EncodeError, match=r"unknown MessageKind 'reqest'"):
        v1.encode_data_client({"kind": "reqest"})
    with pytest.raises(v1.V1EncodeError, match=r"DataClientMessage.command.data: expected an object, got list"):
        v1.encode_data_client({"command": {"data": [1]}})
    # an unknown payload (field number from a newer peer) decodes with no payload
    unknown = v1.encode("Error", {}) + b"\xfa\x01\x00"  # field 31, length 0
    assert v1.payload_of(v1.decode_data_client(unknown)) == (None, None)


def test_restore_integers() -> None:
    props = {"r": {"type": "integer"}, "x": {"type": "number"}}
    assert v1.restore_integers({"r": 3.0, "x": 3.0, "s": "a"}, props) == {"r": 3, "x": 3.0, "s": "a"}
    assert v1.restore_integers({"r": 2.5}, props) == {"r": 2.5}


def test_server_messages_and_unknown_fields() -> None:
    from reactor_notebook.protocol import v1_messages as out

    reply = v1.decode_data_server(out.model_message({"type": "color_set", "data": {"r": 1}}, "r1"))
    assert reply == {"request_id": "r1", "kind": "response", "message": {"type": "color_set", "data": {"r": 1.0}}}
    note = v1.decode_data_server(out.model_message({"type": "state", "data": {}}))
    assert note["kind"] == "notification" and note["request_id"] == ""
    assert v1.decode_data_server(out.command_ack("r2")) == {"request_id": "r2", "kind": "response"}
    err = v1.decode_control_server(out.control_error("c1", "publish_refused", "why"))
    assert err["error"] == {"code": "publish_refused", "message": "why"}
    raw = v1.encode_data_client({"request_id": "u1", "kind": "request"}) + b"\xfa\x01\x00"
    assert out.unknown_fields(raw) == [31]
    assert "field 31" in out.describe_unknown("DataClientMessage", raw, {"command": 10})
    assert out.unknown_fields(b"\x0a\xff") == []  # truncated: nothing to name

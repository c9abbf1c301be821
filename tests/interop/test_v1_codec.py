"""The SDK's wire-v1 codec against the official ``reactor_wire.v1`` stubs (reactor-runtime 3.10's venv).

Every message the SDK sends is decoded by the official protobuf classes into the same content,
and every kind of message the runtime sends, encoded by them, decodes to the same dict here.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from rt310_env import RT310

from reactor_notebook.sdk import v1_codec

ECHO = Path(__file__).resolve().parent / "rt310" / "pb_echo.py"

SENT = [
    ("DataClientMessage", {
        "request_id": "r7", "kind": "request",
        "command": {
            "type": "set_image",
            "data": {"prompt": "a ☃ harbour", "strength": 0.5, "n": 3, "on": True, "none": None,
                     "nested": {"xs": [1, "two", False, None, {"k": []}]}},
            "uploads": {"image": {"upload_id": "6f1c", "name": "ref.png", "mime_type": "image/png", "size": 48213}},
        },
    }),
    ("ControlClientMessage", {"kind": "notification", "ping": {}}),
    ("ControlClientMessage", {"request_id": "r1", "kind": "request", "request_schema": {}}),
    ("ControlClientMessage", {"kind": "notification", "resume_track": {"name": "main_video"}}),
    ("ControlClientMessage", {"request_id": "r2", "kind": "request", "publish_track": {"name": "webcam"}}),
    ("ControlClientMessage", {"kind": "notification",
                              "file_uploaded": {"upload_id": "u", "name": "a.png", "mime_type": "image/png", "size": 5}}),
    ("ControlClientMessage", {"request_id": "r3", "kind": "request", "request_clip": {"duration_seconds": 2.5}}),
]

RECEIVED = [
    ("DataServerMessage", {"request_id": "r7", "kind": "MESSAGE_KIND_RESPONSE",
                           "message": {"type": "color_set", "data": {"r": 1.0, "g": 2.5, "tags": ["a"]}}}),
    ("DataServerMessage", {"request_id": "r8", "kind": "MESSAGE_KIND_RESPONSE",
                           "error": {"code": "unlucky", "message": "no"}}),
    ("DataServerMessage", {"request_id": "r9", "kind": "MESSAGE_KIND_RESPONSE"}),
    ("DataServerMessage", {"kind": "MESSAGE_KIND_NOTIFICATION", "message": {"type": "state", "data": {"x": None}}}),
    ("ControlServerMessage", {"request_id": "r1", "kind": "MESSAGE_KIND_RESPONSE",
                              "model_schema": {"openapi": {"openapi": "3.1.0", "paths": {}}}}),
    ("ControlServerMessage", {"kind": "MESSAGE_KIND_NOTIFICATION", "session_ended": {"reason": "timeout"}}),
    ("ControlServerMessage", {"request_id": "r3", "kind": "MESSAGE_KIND_RESPONSE",
                              "clip_ready": {"session_id": "s", "kind": "snap", "start_marker": 1.5,
                                             "predicted_ready_at_ms": "1234", "playlist_url": "/clips?x"}}),
]


@pytest.fixture(scope="module")
def official() -> Any:
    """A running pb_echo.py in the RT310 venv (official protobuf stubs)."""
    try:
        python = RT310.ensure()
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        pytest.fail(f"cannot build the reactor-runtime 3.10.0 venv: {exc}")
    proc = subprocess.Popen(
        [str(python), str(ECHO)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
    )

    def ask(req: dict[str, Any]) -> dict[str, Any]:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(json.dumps(req) + "\n")
        return json.loads(proc.stdout.readline())

    yield ask
    proc.stdin.close()  # type: ignore[union-attr]
    proc.wait(10)


def _official_form(msg: dict[str, Any]) -> dict[str, Any]:
    """Our dict as MessageToDict writes it: enum names in full."""
    out = dict(msg)
    if "kind" in out:
        out["kind"] = f"MESSAGE_KIND_{out['kind'].upper()}"
    return out


@pytest.mark.parametrize("message,body", SENT, ids=[f"{m}-{i}" for i, (m, _) in enumerate(SENT)])
def test_what_the_sdk_sends_reads_the_same_with_the_official_stubs(official: Any, message: str, body: dict) -> None:
    frame = v1_codec.encode(message, body)
    got = official({"op": "decode", "message": message, "hex": frame.hex()})["json"]
    want = json.loads(json.dumps(_official_form(body)))
    if "command" in want:  # a Struct carries numbers as doubles
        want["command"]["data"]["n"] = 3.0
        want["command"]["uploads"]["image"]["size"] = "48213"  # int64 in JSON form
    if "file_uploaded" in want:
        want["file_uploaded"]["size"] = "5"
    assert got == want


@pytest.mark.parametrize("message,body", RECEIVED, ids=[f"{m}-{i}" for i, (m, _) in enumerate(RECEIVED)])
def test_what_the_runtime_sends_decodes_the_same_here(official: Any, message: str, body: dict) -> None:
    frame = bytes.fromhex(official({"op": "encode", "message": message, "json": body})["hex"])
    got = v1_codec.decode(message, frame)
    want = dict(body)
    want["kind"] = want["kind"].removeprefix("MESSAGE_KIND_").lower()
    if "clip_ready" in want:
        want["clip_ready"] = {**want["clip_ready"], "predicted_ready_at_ms": 1234}
    assert got == want

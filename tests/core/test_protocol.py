"""Envelopes, control messages, version checks and the frame-index code."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from reactor_notebook import framecode
from reactor_notebook.protocol import (
    EnvelopeError,
    check_version_header,
    control_request,
    control_response,
    decode_envelope,
    encode_envelope,
)


def test_envelope_round_trip() -> None:
    raw = encode_envelope("application", "schedule_prompt", {"prompt": "p", "chunk": 0})
    assert json.loads(raw) == {"scope": "application", "data": {"type": "schedule_prompt", "data": {"prompt": "p", "chunk": 0}}}
    env = decode_envelope(raw)
    assert (env.scope, env.type, env.data) == ("application", "schedule_prompt", {"prompt": "p", "chunk": 0})


def test_unenveloped_payload_passes_through() -> None:
    env = decode_envelope(b'{"type":"state","data":{"running":true}}')
    assert env.scope is None and env.inner == {"type": "state", "data": {"running": True}}


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("{not json", "not valid JSON"),
        (b"\xff\xfe", "not UTF-8"),
        ('{"scope":"admin","data":{"type":"x"}}', "unknown scope 'admin'"),
        ('{"scope":"runtime","data":[]}', "must be an object"),
        ('{"scope":"runtime","data":{"type":""}}', "non-empty string"),
        ('{"scope":"application","data":{"type":"x","uploads":3}}', "uploads"),
        ("[" * 100000 + "]" * 100000, "not valid JSON"),
    ],
)
def test_malformed_envelopes_get_specific_errors(raw, fragment) -> None:
    with pytest.raises(EnvelopeError) as info:
        decode_envelope(raw)
    assert fragment in str(info.value)


def test_nan_is_never_sent() -> None:
    with pytest.raises(ValueError):
        encode_envelope("application", "x", {"v": float("nan")})


def test_control_messages() -> None:
    assert json.loads(control_request("publish_track", "ctrl_1", {"name": "webcam"}))["request_id"] == "ctrl_1"
    err = json.loads(control_response("publish_track", "ctrl_1", error={"code": "UNKNOWN_TRACK", "message": "m"}))
    assert err["error"]["code"] == "UNKNOWN_TRACK" and "data" not in err


@pytest.mark.parametrize(("value", "expected"), [(None, None), ("1", None), ("1.0", None), ("0", 426), ("2", 501), ("x", 400)])
def test_version_header(value, expected) -> None:
    assert check_version_header(value, 1) == expected


@pytest.mark.parametrize("index", [0, 1, 255, 4096, 65535, 70000])
def test_frame_code_survives_jpeg(index: int) -> None:
    rng = np.random.default_rng(index)
    frame = rng.integers(0, 255, size=(384, 640, 3), dtype=np.uint8)
    framecode.draw_index(frame, index)
    import io

    buf = io.BytesIO()
    Image.fromarray(frame).save(buf, "JPEG", quality=50)
    decoded = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
    assert framecode.read_index(decoded) == index & 0xFFFF

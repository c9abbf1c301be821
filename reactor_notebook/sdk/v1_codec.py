"""Wire v1 codec (protobuf package ``reactor_wire.v1``) for the SDK's channel client, as plain dicts.

A stand-in until the protocol package ships its v1 codec (``reactor_notebook.protocol.v1``, which
:mod:`.channels_v1` prefers when present): the message tables below carry the field numbers and
types of the messages the SDK exchanges (read from the ``*_pb2`` descriptors reactor-runtime 3.10
ships), and one generic protobuf encoder/decoder turns dicts keyed by field name into bytes and
back. ``google.protobuf.Struct`` maps to a dict (numbers arrive as floats), enums to their short
lower-case names (``MESSAGE_KIND_REQUEST`` → ``"request"``), ``bytes`` stay bytes.
"""

from __future__ import annotations

import struct
from typing import Any

# Field type codes.
STR, BYTES, ENUM, VARINT, SVARINT, DOUBLE, BOOL, STRUCT, MAP = "s", "b", "e", "v", "sv", "d", "?", "S", "m"

ENUMS: dict[str, tuple[str, ...]] = {  # value names by number, with their common prefix dropped
    "kind": ("unspecified", "request", "response", "notification"),
    "encoding": ("unspecified", "raw", "h264"),
    "failure_code": (
        "unspecified", "refused", "not_ready", "failed", "result_too_large", "command_failed", "session_ended",
    ),
    "track_kind": ("unspecified", "video", "audio"),
}

# message → field name → (number, type, repeated, message type / enum table)
Field = tuple[int, str, bool, str]
MESSAGES: dict[str, dict[str, Field]] = {
    "Error": {"code": (1, STR, False, ""), "message": (2, STR, False, "")},
    "UploadReference": {
        "upload_id": (1, STR, False, ""), "name": (2, STR, False, ""),
        "mime_type": (3, STR, False, ""), "size": (4, VARINT, False, ""),
    },
    "Command": {"type": (1, STR, False, ""), "data": (2, STRUCT, False, ""), "uploads": (3, MAP, False, "UploadReference")},
    "ModelMessage": {"type": (1, STR, False, ""), "data": (2, STRUCT, False, "")},
    "Frame": {
        "encoding": (1, ENUM, False, "encoding"), "dtype": (2, STR, False, ""), "shape": (3, VARINT, True, ""),
        "data": (4, BYTES, False, ""), "metadata": (5, BYTES, False, ""), "capture_time_us": (6, VARINT, False, ""),
    },
    "TrackFrames": {
        "track": (1, STR, False, ""), "kind": (2, ENUM, False, "track_kind"),
        "frames": (3, "Frame", True, ""), "rate": (4, DOUBLE, False, ""),
    },
    "RequestStep": {
        "state": (1, STRUCT, False, ""), "commands": (2, "Command", True, ""), "media_input": (3, "TrackFrames", True, ""),
    },
    "StepFileRef": {"name": (1, STR, False, ""), "content_type": (2, STR, False, ""), "size": (3, VARINT, False, "")},
    "StepResult": {
        "step": (1, VARINT, False, ""), "tracks": (2, "TrackFrames", True, ""), "elapsed_seconds": (3, DOUBLE, False, ""),
        "files": (4, "StepFileRef", True, ""), "error": (5, STR, False, ""),
        "failure_code": (6, ENUM, False, "failure_code"), "code": (7, STR, False, ""), "entry": (8, STR, False, ""),
    },
    "Empty": {},
    "Named": {"name": (1, STR, False, "")},
    "RequestClip": {"duration_seconds": (1, DOUBLE, False, "")},
    "ModelSchema": {"openapi": (1, STRUCT, False, "")},
    "ClipReady": {
        "session_id": (1, STR, False, ""), "kind": (2, STR, False, ""), "start_marker": (3, DOUBLE, False, ""),
        "end_marker": (4, DOUBLE, False, ""), "now_marker": (5, DOUBLE, False, ""),
        "predicted_ready_at_ms": (6, VARINT, False, ""), "playlist_url": (7, STR, False, ""),
    },
    "ClipFailed": {"reason": (1, STR, False, "")},
    "Moderation": {
        "action": (1, STR, False, ""), "input_kind": (2, STR, False, ""), "command": (3, STR, False, ""),
        "categories": (4, STR, True, ""), "message": (5, STR, False, ""),
    },
    "SessionEnded": {"reason": (1, STR, False, "")},
}
_HEAD: dict[str, Field] = {"request_id": (1, STR, False, ""), "kind": (2, ENUM, False, "kind")}
MESSAGES["DataClientMessage"] = {
    **_HEAD, "command": (10, "Command", False, ""), "request_step": (11, "RequestStep", False, ""),
    "error": (40, "Error", False, ""),
}
MESSAGES["DataServerMessage"] = {
    **_HEAD, "message": (10, "ModelMessage", False, ""), "step_result": (11, "StepResult", False, ""),
    "error": (40, "Error", False, ""),
}
MESSAGES["ControlClientMessage"] = {
    **_HEAD, "ping": (10, "Empty", False, ""), "request_schema": (11, "Empty", False, ""),
    "file_uploaded": (12, "UploadReference", False, ""), "request_clip": (13, "RequestClip", False, ""),
    "request_recording": (14, "Empty", False, ""), "publish_track": (15, "Named", False, ""),
    "pause_track": (16, "Named", False, ""), "resume_track": (17, "Named", False, ""),
    "unpublish_track": (18, "Named", False, ""), "error": (40, "Error", False, ""),
}
MESSAGES["ControlServerMessage"] = {
    **_HEAD, "model_schema": (10, "ModelSchema", False, ""), "clip_ready": (11, "ClipReady", False, ""),
    "clip_failed": (12, "ClipFailed", False, ""), "moderation": (13, "Moderation", False, ""),
    "publish_track": (14, "Named", False, ""), "session_ended": (15, "SessionEnded", False, ""),
    "error": (40, "Error", False, ""),
}


# --- wire primitives ---------------------------------------------------------------------------
def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1
    out = bytearray()
    while n > 0x7F:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _tag(number: int, wire_type: int) -> bytes:
    return _varint(number << 3 | wire_type)


def _len(number: int, payload: bytes) -> bytes:
    return _tag(number, 2) + _varint(len(payload)) + payload


def _read_varint(buf: bytes, i: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        if i >= len(buf):
            raise ValueError("truncated varint")
        byte = buf[i]
        i += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, i
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


def _fields(buf: bytes) -> list[tuple[int, int, Any]]:
    """(number, wire type, raw value) of every field in a message, in order."""
    out: list[tuple[int, int, Any]] = []
    i = 0
    while i < len(buf):
        key, i = _read_varint(buf, i)
        number, wire_type = key >> 3, key & 7
        if wire_type == 0:
            value, i = _read_varint(buf, i)
        elif wire_type == 1:
            value, i = buf[i : i + 8], i + 8
        elif wire_type == 2:
            size, i = _read_varint(buf, i)
            value, i = buf[i : i + size], i + size
        elif wire_type == 5:
            value, i = buf[i : i + 4], i + 4
        else:
            raise ValueError(f"unsupported wire type {wire_type}")
        if i > len(buf):
            raise ValueError("truncated field")
        out.append((number, wire_type, value))
    return out


# --- google.protobuf.Struct ----------------------------------------------------------------------
def _value(v: Any) -> bytes:
    if v is None:
        return _tag(1, 0) + _varint(0)
    if isinstance(v, bool):
        return _tag(4, 0) + _varint(int(v))
    if isinstance(v, (int, float)):
        return _tag(2, 1) + struct.pack("<d", float(v))
    if isinstance(v, str):
        return _len(3, v.encode("utf-8"))
    if isinstance(v, dict):
        return _len(5, encode_struct(v))
    if isinstance(v, (list, tuple)):
        return _len(6, b"".join(_len(1, _value(x)) for x in v))
    raise TypeError(f"cannot put {type(v).__name__} into a protobuf Struct")


def encode_struct(data: dict[str, Any]) -> bytes:
    """A dict as ``google.protobuf.Struct`` bytes."""
    return b"".join(_len(1, _len(1, str(k).encode("utf-8")) + _len(2, _value(v))) for k, v in data.items())


def _decode_value(buf: bytes) -> Any:
    for number, _, raw in _fields(buf):
        if number == 1:
            return None
        if number == 2:
            return struct.unpack("<d", raw)[0]
        if number == 3:
            return bytes(raw).decode("utf-8")
        if number == 4:
            return bool(raw)
        if number == 5:
            return decode_struct(raw)
        if number == 6:
            return [_decode_value(x) for n, _, x in _fields(raw) if n == 1]
    return None


def decode_struct(buf: bytes) -> dict[str, Any]:
    """``google.protobuf.Struct`` bytes as a dict."""
    out: dict[str, Any] = {}
    for number, _, entry in _fields(buf):
        if number == 1:
            key, value = "", None
            for n, _, raw in _fields(entry):
                if n == 1:
                    key = bytes(raw).decode("utf-8")
                elif n == 2:
                    value = _decode_value(raw)
            out[key] = value
    return out


# --- generic messages ------------------------------------------------------------------------------
def encode(message: str, data: dict[str, Any]) -> bytes:
    """A dict keyed by field name as the bytes of protobuf message ``message``."""
    table = MESSAGES[message]
    out = bytearray()
    for name, value in data.items():
        if name not in table:
            raise ValueError(f"{message} has no field {name!r}")
        number, kind, repeated, sub = table[name]
        for item in value if repeated else [value]:
            out += _encode_field(number, kind, sub, item)
    return bytes(out)


def _encode_field(number: int, kind: str, sub: str, value: Any) -> bytes:
    if kind == STR:
        return _len(number, str(value).encode("utf-8")) if value else b""
    if kind == BYTES:
        return _len(number, bytes(value)) if value else b""
    if kind == ENUM:
        code = ENUMS[sub].index(value) if isinstance(value, str) else int(value)
        return _tag(number, 0) + _varint(code) if code else b""
    if kind in (VARINT, BOOL):
        return _tag(number, 0) + _varint(int(value)) if value else b""
    if kind == DOUBLE:
        return _tag(number, 1) + struct.pack("<d", float(value)) if value else b""
    if kind == STRUCT:
        return _len(number, encode_struct(value or {}))
    if kind == MAP:
        return b"".join(
            _len(number, _len(1, str(k).encode("utf-8")) + _len(2, encode(sub, v))) for k, v in (value or {}).items()
        )
    return _len(number, encode(kind, value or {}))


def decode(message: str, buf: bytes) -> dict[str, Any]:
    """Bytes of protobuf message ``message`` as a dict keyed by field name (unknown fields skipped)."""
    by_number = {f[0]: (name, f) for name, f in MESSAGES[message].items()}
    out: dict[str, Any] = {}
    for number, wire_type, raw in _fields(bytes(buf)):
        if number not in by_number:
            continue
        name, (_, kind, repeated, sub) = by_number[number]
        if repeated and kind == VARINT and wire_type == 2:  # packed
            i, values = 0, []
            while i < len(raw):
                v, i = _read_varint(raw, i)
                values.append(v)
            out.setdefault(name, []).extend(values)
            continue
        value = _decode_field(kind, sub, raw)
        if kind == MAP:
            out.setdefault(name, {}).update(value)
        elif repeated:
            out.setdefault(name, []).append(value)
        else:
            out[name] = value
    for name, (_, kind, repeated, sub) in MESSAGES[message].items():
        if repeated and name not in out:
            out[name] = []
        elif kind == ENUM and name not in out:
            out[name] = ENUMS[sub][0]
    return out


def _decode_field(kind: str, sub: str, raw: Any) -> Any:
    if kind == STR:
        return bytes(raw).decode("utf-8")
    if kind == BYTES:
        return bytes(raw)
    if kind == ENUM:
        names = ENUMS[sub]
        return names[raw] if 0 <= raw < len(names) else int(raw)
    if kind == VARINT:
        return int(raw)
    if kind == BOOL:
        return bool(raw)
    if kind == DOUBLE:
        return struct.unpack("<d", raw)[0]
    if kind == STRUCT:
        return decode_struct(raw)
    if kind == MAP:
        key, value = "", {}
        for n, _, x in _fields(raw):
            if n == 1:
                key = bytes(x).decode("utf-8")
            elif n == 2:
                value = decode(sub, x)
        return {key: value}
    return decode(kind, raw)


# --- the four channel messages (the interface :mod:`.channels_v1` uses) ------------------------------
def encode_data_client(msg: dict[str, Any]) -> bytes:
    return encode("DataClientMessage", msg)


def decode_data_server(frame: bytes) -> dict[str, Any]:
    return decode("DataServerMessage", frame)


def encode_control_client(msg: dict[str, Any]) -> bytes:
    return encode("ControlClientMessage", msg)


def decode_control_server(frame: bytes) -> dict[str, Any]:
    return decode("ControlServerMessage", frame)

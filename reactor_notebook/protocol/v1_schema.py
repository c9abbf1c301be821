"""The ``reactor_wire.v1`` message definitions as a compact table (names, numbers, types).

These are the wire facts of today's official clients and runtimes (docs/protocol-v1.md); the
codec in :mod:`.v1` builds protobuf descriptors from this table at import time, so no ``protoc``
step and no generated files are needed.

A field is ``(name, number, type)`` plus optional flags: ``"repeated"``, ``"optional"`` (proto3
explicit presence), ``"map:<value type>"`` (``map<string, value>``) or ``"oneof:<name>"``. A type
is a scalar name (``string``, ``int64``, ...), an enum or message name of this package, or
``Struct`` (``google.protobuf.Struct``).
"""

from __future__ import annotations

PACKAGE = "reactor_wire.v1"

Field = tuple  # (name, number, type[, flag])

ENUMS: dict[str, list[str]] = {
    # value names in number order, number 0 first; the prefix is the enum's UPPER_SNAKE name
    "MessageKind": ["UNSPECIFIED", "REQUEST", "RESPONSE", "NOTIFICATION"],
    "VideoCodec": ["UNSPECIFIED", "VP8", "VP9", "AV1", "H264", "H265"],
    "AudioCodec": ["UNSPECIFIED", "OPUS"],
    "TrackKind": ["UNSPECIFIED", "VIDEO", "AUDIO"],
    "TrackDirection": ["UNSPECIFIED", "RECVONLY", "SENDONLY"],
    "FrameEncoding": ["UNSPECIFIED", "RAW", "H264"],
    "StepFailureCode": [
        "UNSPECIFIED", "REFUSED", "NOT_READY", "FAILED", "RESULT_TOO_LARGE", "COMMAND_FAILED", "SESSION_ENDED",
    ],
}

_ENVELOPE: list[Field] = [("request_id", 1, "string"), ("kind", 2, "MessageKind")]
_NAMED: list[Field] = [("name", 1, "string")]
_FILE: list[Field] = [("upload_id", 1, "string"), ("name", 2, "string"), ("mime_type", 3, "string"), ("size", 4, "int64")]
_STAGE = [("name", 1, "string"), ("total_ms", 2, "double")]


def _payload(*fields: tuple[str, int, str]) -> list[Field]:
    """Envelope fields plus a ``payload`` oneof, ``error`` (40) always last."""
    return [*_ENVELOPE, *((n, num, t, "oneof:payload") for n, num, t in fields), ("error", 40, "Error", "oneof:payload")]


MESSAGES: dict[str, list[Field]] = {
    # common
    "Error": [("code", 1, "string"), ("message", 2, "string")],
    # track
    "PublishTrack": _NAMED,
    "PauseTrack": _NAMED,
    "ResumeTrack": _NAMED,
    "UnpublishTrack": _NAMED,
    "PublishTrackResponse": _NAMED,
    # model
    "UploadReference": _FILE,
    "Command": [("type", 1, "string"), ("data", 2, "Struct"), ("uploads", 3, "UploadReference", "map:UploadReference")],
    "ModelMessage": [("type", 1, "string"), ("data", 2, "Struct")],
    # platform
    "Ping": [],
    "RequestSchema": [],
    "ModelSchema": [("openapi", 1, "Struct")],
    "FileUploaded": _FILE,
    "RequestClip": [("duration_seconds", 1, "double")],
    "RequestRecording": [],
    "ClipReady": [
        ("session_id", 1, "string"), ("kind", 2, "string"), ("start_marker", 3, "double"),
        ("end_marker", 4, "double"), ("now_marker", 5, "double"), ("predicted_ready_at_ms", 6, "int64"),
        ("playlist_url", 7, "string"),
    ],
    "ClipFailed": [("reason", 1, "string")],
    "Moderation": [
        ("action", 1, "string"), ("input_kind", 2, "string"), ("command", 3, "string"),
        ("categories", 4, "string", "repeated"), ("message", 5, "string"),
    ],
    "SessionEnded": [("reason", 1, "string")],
    "FrameStage": [*_STAGE, ("frames", 3, "uint64"), ("part_of", 4, "string")],
    "MessageStage": [*_STAGE, ("messages", 3, "uint64"), ("part_of", 4, "string")],
    "ClientEnvironment": [
        ("sdk_type", 1, "string"), ("sdk_version", 2, "string"), ("os", 3, "string"),
        ("os_version", 4, "string"), ("arch", 5, "string"), ("device_model", 6, "string"),
    ],
    "ClientTrackStat": [
        ("timestamp", 1, "int64"), ("track_name", 2, "string"), ("kind", 3, "TrackKind"),
        ("direction", 4, "TrackDirection"), ("video_codec", 5, "VideoCodec", "oneof:codec"),
        ("audio_codec", 6, "AudioCodec", "oneof:codec"), ("paused", 7, "bool"),
        ("metrics", 8, "double", "map:double"), ("frame_stages", 9, "FrameStage", "repeated"),
        ("codec_implementation", 10, "string"), ("hardware_codec", 11, "bool", "optional"),
    ],
    "ClientConnectionStat": [
        ("timestamp", 1, "int64"), ("metrics", 2, "double", "map:double"),
        ("environment", 3, "ClientEnvironment"), ("message_stages", 4, "MessageStage", "repeated"),
    ],
    "ClientStats": [
        ("track_stats", 1, "ClientTrackStat", "repeated"), ("connection_stat", 2, "ClientConnectionStat"),
    ],
    # step
    "Frame": [
        ("encoding", 1, "FrameEncoding"), ("dtype", 2, "string"), ("shape", 3, "uint32", "repeated"),
        ("data", 4, "bytes"), ("metadata", 5, "bytes", "optional"), ("capture_time_us", 6, "int64", "optional"),
    ],
    "TrackFrames": [
        ("track", 1, "string"), ("kind", 2, "TrackKind"), ("frames", 3, "Frame", "repeated"), ("rate", 4, "double"),
    ],
    "RequestStep": [
        ("state", 1, "Struct"), ("commands", 2, "Command", "repeated"), ("media_input", 3, "TrackFrames", "repeated"),
    ],
    "StepFileRef": [("name", 1, "string"), ("content_type", 2, "string"), ("size", 3, "uint64")],
    "StepResult": [
        ("step", 1, "uint64"), ("tracks", 2, "TrackFrames", "repeated"), ("elapsed_seconds", 3, "double"),
        ("files", 4, "StepFileRef", "repeated"), ("error", 5, "string", "optional"),
        ("failure_code", 6, "StepFailureCode"), ("code", 7, "string", "optional"), ("entry", 8, "string", "optional"),
    ],
    # the four channel envelopes
    "ControlClientMessage": _payload(
        ("ping", 10, "Ping"), ("request_schema", 11, "RequestSchema"), ("file_uploaded", 12, "FileUploaded"),
        ("request_clip", 13, "RequestClip"), ("request_recording", 14, "RequestRecording"),
        ("publish_track", 15, "PublishTrack"), ("pause_track", 16, "PauseTrack"),
        ("resume_track", 17, "ResumeTrack"), ("unpublish_track", 18, "UnpublishTrack"),
        ("client_stats", 19, "ClientStats"),
    ),
    "ControlServerMessage": _payload(
        ("model_schema", 10, "ModelSchema"), ("clip_ready", 11, "ClipReady"), ("clip_failed", 12, "ClipFailed"),
        ("moderation", 13, "Moderation"), ("publish_track", 14, "PublishTrackResponse"),
        ("session_ended", 15, "SessionEnded"),
    ),
    "DataClientMessage": _payload(("command", 10, "Command"), ("request_step", 11, "RequestStep")),
    "DataServerMessage": _payload(("message", 10, "ModelMessage"), ("step_result", 11, "StepResult")),
}

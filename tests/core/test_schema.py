"""The shared schema model: both wire formats round-trip, and validation names command, field and reason."""

from __future__ import annotations

import math

import pytest

from reactor_notebook.schema import (
    CommandSpec,
    CommandValidationError,
    ParamSpec,
    legacy_capabilities,
    normalize_commands,
    openapi_schema,
    validate_command,
)

TRACKS = [{"name": "main_video", "kind": "video", "direction": "recvonly"}]
COMMANDS = [
    CommandSpec(
        "schedule_prompt",
        "Schedule a prompt",
        (
            ParamSpec("prompt", "string", min_length=1, max_length=20, description="Text prompt"),
            ParamSpec("chunk", "integer", minimum=0, maximum=100),
        ),
    ),
    CommandSpec(
        "set_image",
        "Set the image",
        (
            ParamSpec("image_b64", "string", min_length=1),
            ParamSpec("image", "upload", is_upload=True),
            ParamSpec("transition", "string", required=False, default="cut", enum=("cut", "blend")),
        ),
        one_of=(("image_b64", "image"),),
    ),
    CommandSpec("set_strength", "", (ParamSpec("value", "number", minimum=0.0, maximum=1.0),)),
    CommandSpec("toggle", "", (ParamSpec("on", "boolean", required=False, default=False),)),
    CommandSpec("start", "Start"),
]


def reason_of(command: str, data: object) -> tuple[str, str | None, str]:
    with pytest.raises(CommandValidationError) as info:
        validate_command(COMMANDS, command, data)
    err = info.value
    assert str(err).startswith(f"{command}: ")
    return err.reason, err.field, str(err)


def test_valid_arguments_are_normalised() -> None:
    assert validate_command(COMMANDS, "schedule_prompt", {"prompt": "hi", "chunk": 3.0}) == {"prompt": "hi", "chunk": 3}
    assert isinstance(validate_command(COMMANDS, "schedule_prompt", {"prompt": "a", "chunk": 2.0})["chunk"], int)
    assert validate_command(COMMANDS, "set_image", {"image_b64": "QQ=="}, fill_defaults=True) == {
        "image_b64": "QQ==",
        "transition": "cut",
    }
    assert validate_command(COMMANDS, "start", None) == {}


@pytest.mark.parametrize(
    ("command", "data", "reason", "field", "fragment"),
    [
        ("rewind", {}, "unknown_command", None, "known commands: schedule_prompt, set_image"),
        ("schedule_prompt", {"prompt": "x"}, "missing_field", "chunk", "required"),
        ("schedule_prompt", {"prompt": "x", "chunk": 1, "extra": 1}, "unexpected_field", "extra", "allowed fields"),
        ("schedule_prompt", {"prompt": 5, "chunk": 1}, "wrong_type", "prompt", "expected string, got int 5"),
        ("schedule_prompt", {"prompt": "x", "chunk": "1"}, "wrong_type", "chunk", "expected integer, got str"),
        ("schedule_prompt", {"prompt": "x", "chunk": True}, "wrong_type", "chunk", "got bool"),
        ("schedule_prompt", {"prompt": "x", "chunk": 1.5}, "wrong_type", "chunk", "non-integral"),
        ("schedule_prompt", {"prompt": "x", "chunk": -1}, "out_of_range", "chunk", "0 to 100"),
        ("schedule_prompt", {"prompt": "", "chunk": 1}, "out_of_range", "prompt", "minimum length 1"),
        ("schedule_prompt", {"prompt": "x" * 21, "chunk": 1}, "out_of_range", "prompt", "length 21"),
        ("set_strength", {"value": math.nan}, "invalid_value", "value", "finite"),
        ("set_strength", {"value": math.inf}, "invalid_value", "value", "finite"),
        ("set_image", {"image_b64": "QQ==", "transition": "wipe"}, "not_in_enum", "transition", "'cut', 'blend'"),
        ("set_image", {"transition": "cut"}, "invalid_value", "image_b64", "neither"),
        ("toggle", {"on": 1}, "wrong_type", "on", "expected boolean"),
        ("start", [1, 2], "wrong_type", None, "must be an object"),
    ],
)
def test_rejections_name_command_field_and_reason(command, data, reason, field, fragment) -> None:
    got_reason, got_field, message = reason_of(command, data)
    assert (got_reason, got_field) == (reason, field)
    assert fragment in message
    if field:
        assert f"field '{field}'" in message


def test_both_files_given_is_rejected() -> None:
    with pytest.raises(CommandValidationError) as info:
        validate_command(COMMANDS, "set_image", {"image_b64": "QQ=="}, uploads={"image": {"upload_id": "u"}})
    assert info.value.reason == "invalid_value" and "both" in str(info.value)


def test_legacy_format_round_trips_and_marks_required() -> None:
    caps = legacy_capabilities(COMMANDS, TRACKS, 24)
    sched = next(c for c in caps["commands"] if c["name"] == "schedule_prompt")
    assert sched["schema"]["chunk"] == {
        "type": "integer", "description": "", "minimum": 0, "maximum": 100, "required": True,
    }
    image = next(c for c in caps["commands"] if c["name"] == "set_image")
    assert "image" not in image["schema"]  # uploads only in format B
    assert image["schema"]["transition"]["default"] == "cut" and image["schema"]["transition"]["required"] is False
    back = {c.name: c for c in normalize_commands(caps, None)}
    assert back["schedule_prompt"].param("chunk").maximum == 100
    assert back["set_image"].param("transition").required is False


def test_legacy_without_required_infers_from_default() -> None:
    caps = {"protocol_version": "1.1", "tracks": TRACKS, "commands": [
        {"name": "c", "description": "", "schema": {"a": {"type": "integer"}, "b": {"type": "string", "default": "x"}}}
    ]}
    (cmd,) = normalize_commands(caps, None)
    assert cmd.param("a").required is True and cmd.param("b").required is False


def test_openapi_round_trip_resolves_refs_and_uploads() -> None:
    doc = openapi_schema("helios", "v1", "sim", COMMANDS, TRACKS, {"state": {"type": "object"}})
    assert doc["openapi"] == "3.1.0"
    assert doc["x-reactor"]["tracks"] == [{"name": "main_video", "kind": "video", "direction": "out"}]
    body = doc["paths"]["/events/schedule_prompt"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["prompt", "chunk"]
    assert "required" not in doc["paths"]["/events/set_image"]["post"]["requestBody"]["content"]["application/json"][
        "schema"
    ]
    cmds = {c.name: c for c in normalize_commands({"commands": []}, doc)}
    assert cmds["set_image"].param("image").is_upload is True
    assert cmds["set_image"].param("image_b64").format == "image-base64"
    assert cmds["schedule_prompt"].param("prompt").format == "multiline"
    assert doc["webhooks"]["state"]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"] == (
        "#/components/schemas/State"
    )


def test_unrenderable_shapes_are_kept_as_json() -> None:
    doc = {"paths": {"/events/x": {"post": {"operationId": "x", "requestBody": {"content": {"application/json": {
        "schema": {"type": "object", "properties": {
            "points": {"type": "array", "items": {"type": "number"}},
            "maybe": {"anyOf": [{"type": "integer", "minimum": 1}, {"type": "null"}]},
        }, "required": ["points"]}}}}}}}}
    (cmd,) = normalize_commands(None, doc)
    assert cmd.param("points").type == "json" and cmd.param("points").required
    maybe = cmd.param("maybe")
    assert maybe.type == "integer" and maybe.nullable and maybe.minimum == 1 and not maybe.required
    assert validate_command([cmd], "x", {"points": [1, 2], "maybe": None}) == {"points": [1, 2], "maybe": None}

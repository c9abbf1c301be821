"""Schema → form spec, kernel-side validation replies, and the model's own error messages."""

from __future__ import annotations

from typing import Any

import pytest
from widget_support import helios_like_commands

from reactor_notebook.profiles import HELIOS
from reactor_notebook.schema import (
    CommandValidationError,
    commands_from_legacy,
    commands_from_openapi,
    openapi_schema,
)
from reactor_notebook.widget.forms import form_spec, handle_command


def spec_by_name() -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in form_spec(helios_like_commands(), HELIOS.transport_commands)}


def test_kinds_follow_the_schema() -> None:
    forms = spec_by_name()
    kinds = {(c, p["name"]): p["kind"] for c, f in forms.items() for p in f["params"]}
    assert kinds[("set_prompt", "prompt")] == "textarea"
    assert kinds[("schedule_prompt", "chunk")] == "slider"  # integer with both bounds
    assert kinds[("set_image", "image_b64")] == "image"
    assert kinds[("set_image", "transition")] == "select"
    assert kinds[("set_image_strength", "image_strength")] == "slider"
    assert kinds[("set_seed", "seed")] == "number"  # unbounded integer
    assert kinds[("flag", "on")] == "checkbox"
    assert kinds[("flag", "extra")] == "json"  # unrenderable shape kept as raw JSON


def test_field_details_required_defaults_steps() -> None:
    forms = spec_by_name()
    chunk = forms["schedule_prompt"]["params"][1]
    assert (
        chunk["required"] is True
        and chunk["step"] == 1
        and chunk["minimum"] == 0
        and chunk["maximum"] == 1000
    )
    transition = forms["set_image"]["params"][1]
    assert (
        transition["required"] is False
        and transition["default"] == "cut"
        and transition["enum"] == ["cut", "blend"]
    )
    strength = forms["set_image_strength"]["params"][0]
    assert strength["step"] == pytest.approx(0.01)
    assert forms["start"]["transport"] is True and forms["set_prompt"]["transport"] is False


def test_both_wire_formats_give_the_same_forms() -> None:
    cmds = helios_like_commands()
    doc = openapi_schema("helios", "1", "", cmds, [])
    from reactor_notebook.schema import legacy_capabilities

    legacy = legacy_capabilities(cmds, [], 24)
    a = {
        c["name"]: [(p["name"], p["kind"], p["required"]) for p in c["params"]]
        for c in form_spec(commands_from_openapi(doc))
    }
    b = {
        c["name"]: [(p["name"], p["kind"], p["required"]) for p in c["params"]]
        for c in form_spec(commands_from_legacy(legacy))
    }
    assert (
        a["schedule_prompt"]
        == b["schedule_prompt"]
        == [("prompt", "textarea", True), ("chunk", "slider", True)]
    )
    assert a["set_image"] == b["set_image"]


def test_upload_params_render_as_upload() -> None:
    doc = {
        "paths": {
            "/events/set_image": {
                "post": {
                    "operationId": "set_image",
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "image": {"$ref": "#/components/schemas/ReactorUploadReference"}
                                    },
                                }
                            }
                        }
                    },
                }
            }
        },
        "components": {
            "schemas": {"ReactorUploadReference": {"type": "object", "format": "reactor-upload-reference"}}
        },
    }
    (cmd,) = form_spec(commands_from_openapi(doc))
    assert cmd["params"][0]["kind"] == "upload"


def test_handle_command_ok_sends_normalised_args() -> None:
    sent: list[Any] = []
    reply = handle_command(
        helios_like_commands(),
        {"type": "command", "id": "c1", "name": "schedule_prompt", "args": {"prompt": "sea", "chunk": 3.0}},
        lambda n, a: sent.append((n, a)),
    )
    assert reply == {
        "type": "command_result",
        "id": "c1",
        "name": "schedule_prompt",
        "ok": True,
        "error": None,
    }
    assert sent == [("schedule_prompt", {"prompt": "sea", "chunk": 3})]
    assert type(sent[0][1]["chunk"]) is int


@pytest.mark.parametrize(
    ("name", "args", "field", "reason"),
    [
        ("schedule_prompt", {"prompt": "sea", "chunk": -1}, "chunk", "out_of_range"),
        ("schedule_prompt", {"prompt": "sea"}, "chunk", "missing_field"),
        ("schedule_prompt", {"prompt": "sea", "chunk": "3"}, "chunk", "wrong_type"),
        ("set_prompt", {"prompt": ""}, "prompt", "out_of_range"),
        ("set_prompt", {"prompt": "x" * 21}, "prompt", "out_of_range"),
        ("set_prompt", {"prompt": "a", "bogus": 1}, "bogus", "unexpected_field"),
        ("set_image", {"image_b64": "AAAA", "transition": "wipe"}, "transition", "not_in_enum"),
        ("flag", {"on": 1}, "on", "wrong_type"),
        ("rewind", {}, None, "unknown_command"),
    ],
)
def test_handle_command_rejects_with_field_and_reason(
    name: str, args: dict[str, Any], field: str | None, reason: str
) -> None:
    sent: list[Any] = []
    reply = handle_command(
        helios_like_commands(), {"id": 7, "name": name, "args": args}, lambda n, a: sent.append(n)
    )
    assert reply["ok"] is False and reply["id"] == 7
    err = reply["error"]
    assert (err["field"], err["reason"], err["command"]) == (field, reason, name)
    assert err["message"].startswith(f"{name}: ")
    assert sent == []


def test_handle_command_reports_sdk_failures() -> None:
    def refuse(name: str, args: dict[str, Any]) -> None:
        raise RuntimeError("not connected (status disconnected)")

    reply = handle_command(helios_like_commands(), {"id": "x", "name": "start", "args": {}}, refuse)
    assert reply["ok"] is False
    assert reply["error"]["reason"] == "send_failed"
    assert "not connected" in reply["error"]["message"] and reply["error"]["message"].startswith("start: ")

    def invalid(name: str, args: dict[str, Any]) -> None:
        raise CommandValidationError(name, "invalid_state", "already started", None)

    reply = handle_command(helios_like_commands(), {"id": "y", "name": "start"}, invalid)
    assert reply["error"]["reason"] == "invalid_state"


def test_handle_command_bad_request() -> None:
    reply = handle_command(helios_like_commands(), {"id": 1, "name": 5}, lambda n, a: None)
    assert reply["ok"] is False and reply["error"]["reason"] == "bad_request"


def test_one_of_groups_are_alternatives_not_required() -> None:
    from reactor_notebook.schema import CommandSpec, ParamSpec

    cmd = CommandSpec(
        "set_image",
        "",
        (
            ParamSpec("image_b64", "string", format="image-base64"),
            ParamSpec("image", "upload", is_upload=True),
        ),
        one_of=(("image_b64", "image"),),
    )
    (spec,) = form_spec([cmd])
    b64, up = spec["params"]
    assert spec["one_of"] == [["image_b64", "image"]]
    assert (b64["required"], b64["alternatives"]) == (False, ["image"])
    assert (up["required"], up["alternatives"], up["kind"]) == (False, ["image_b64"], "upload")


def test_transport_buttons_come_from_the_model_profile() -> None:
    """Only the profile's parameter-less transport verbs become buttons; a generic model gets none."""
    from reactor_notebook.profiles import profile_for

    marked = [c["name"] for c in form_spec(helios_like_commands(), HELIOS.transport_commands) if c["transport"]]
    assert marked == ["start", "pause"]
    generic = profile_for("testpattern").transport_commands
    assert generic == () and not [c for c in form_spec(helios_like_commands(), generic) if c["transport"]]

"""The ``helios`` plug-in through the Model interface (the runtime's view), without transport."""

from __future__ import annotations

from typing import Any

import pytest
from helios_support import C, image_bytes

from reactor_notebook.framecode import read_index
from reactor_notebook.runtime.models import create_model
from reactor_notebook.runtime.models.base import Upload
from reactor_notebook.runtime.models.helios import HeliosModel
from reactor_notebook.runtime.models.helios_render import IDLE_INDEX
from reactor_notebook.schema import CommandValidationError


def bound(**options: Any) -> tuple[HeliosModel, list[dict[str, Any]]]:
    model = create_model("helios", **options)
    assert isinstance(model, HeliosModel)
    sent: list[dict[str, Any]] = []
    model.bind(sent.append)
    return model, sent


def test_declarations() -> None:
    model, _ = bound()
    assert model.name == "helios" and model.fps == 24.0
    assert [t.capability() for t in model.tracks] == [{"name": "main_video", "kind": "video", "direction": "recvonly"}]
    assert "start" in {c.name for c in model.commands()}
    assert "state" in model.message_schemas()
    assert create_model("helios", fps=60).fps == 60.0


def test_commands_render_and_messages_flow_through_emit() -> None:
    model, sent = bound(seed=3)
    assert model.greeting()[0]["data"]["seed"] == 3
    out = model.render()
    assert list(out) == ["main_video"] and read_index(out["main_video"]) == IDLE_INDEX
    model.handle_command("schedule_prompt", {"prompt": "p", "chunk": 0}, {})
    model.handle_command("start", {}, {})
    assert [m["type"] for m in sent] == ["event", "state", "event", "state"]
    sent.clear()
    frames = [model.render()["main_video"] for _ in range(C + 1)]
    assert [read_index(f) for f in frames] == list(range(C + 1))
    assert [m["data"]["current_frame"] for m in sent if m["type"] == "state"] == [C]
    assert model.greeting() == [{"type": "state", "data": model.sim.state()}]


def test_uploads_are_upload_objects() -> None:
    model, sent = bound()
    up = Upload("6f1c", "ref.png", "image/png", image_bytes(64, 48))
    model.handle_command("set_image", {"transition": "blend"}, {"image": up})
    assert sent[0]["data"] == {"event": "image_set", "width": 64, "height": 48, "transition": "blend", "downscaled": False}


def test_rejections_raise_and_are_reported_per_messages_option() -> None:
    model, sent = bound()
    with pytest.raises(CommandValidationError) as info:
        model.handle_command("start", {}, {})
    assert sent == []
    assert model.error_messages(info.value) == [
        {"type": "event", "data": {"event": "error", **info.value.to_dict()}}
    ]
    typed, _ = bound(messages="typed")
    assert [m["type"] for m in typed.error_messages(info.value)] == ["command_error"]
    both, _ = bound(messages="both")
    assert [m["type"] for m in both.error_messages(info.value)] == ["event", "command_error"]


def test_session_end_discards_the_session() -> None:
    model, _ = bound(seed=9)
    model.handle_command("set_prompt", {"prompt": "p"}, {})
    model.handle_command("start", {}, {})
    model.render()
    model.on_session_end()
    st = model.greeting()[0]["data"]
    assert not st["started"] and st["scheduled_prompts"] == {} and st["seed"] == 9


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"colour": 1}, "unknown helios option(s): colour"),
        ({"messages": "json"}, "messages must be one of legacy, typed, both"),
        ({"max_sr_scale": "8x"}, "max_sr_scale must be one of off, 2x, 4x"),
        ({"seed": -1}, "seed must be an integer 0-4294967295"),
        ({"fps": 0}, "fps must be a number in (0, 240]"),
    ],
)
def test_bad_options_are_named(options: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ValueError) as info:
        create_model("helios", **options)
    assert fragment in str(info.value)

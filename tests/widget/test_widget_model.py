"""ReactorWidget against a fake Reactor: traits, messages, Python API, secrets, close."""

from __future__ import annotations

import json
import warnings
from typing import Any

import numpy as np
import pytest
from testutil import poll_until
from widget_support import SECRET, FakeReactor

from reactor_notebook.framecode import draw_index, read_index
from reactor_notebook.schema import CommandValidationError
from reactor_notebook.sdk.messages import ModelError, ModelState
from reactor_notebook.widget import ReactorWidget
from reactor_notebook.widget.encode import decode_image


def replies(sent: list[Any], kind: str) -> list[dict[str, Any]]:
    return [c for c, _ in sent if c.get("type") == kind]


def test_traits_reflect_the_reactor(widget: ReactorWidget) -> None:
    assert widget.status == "ready" and widget.session_id == "local" and widget.model_name == "helios"
    assert [c["name"] for c in widget.commands][:2] == ["set_prompt", "schedule_prompt"]
    assert widget.input_tracks == ["webcam"]
    assert widget.capabilities["emission_fps"] == 24
    assert widget.model_state == {"running": False, "paused": False, "scheduled_prompts": {}}
    assert widget.frames is widget.reactor.frames
    assert widget.kernel_subshells is False  # no kernel in unit tests


def test_the_profile_trait_carries_the_models_timeline(widget: ReactorWidget) -> None:
    """The front end's Helios labels come from profiles/helios.py; another model gets an empty timeline."""
    assert widget.profile == {
        "name": "helios",
        "transport_commands": ["start", "pause", "resume", "reset"],
        "chunk_key": "current_chunk",
        "timeline": {
            "buttons": {"start": "▶ start", "pause": "❚❚ pause", "resume": "▶ resume", "reset": "↺ reset"},
            "state_line": {"current_frame": "frame {}", "current_chunk": "chunk {}", "seed": "seed {}",
                           "current_prompt": "“{}”"},
            "modes": {"paused": "paused", "pause_pending": "pausing at chunk end", "running": "running",
                      "started": "started"},
            "idle": "idle",
            "lane": "scheduled_prompts",
        },
    }
    assert json.loads(json.dumps(widget.profile)) == widget.profile  # plain JSON for the comm
    assert [c["name"] for c in widget.commands if c["transport"]] == ["start", "pause"]
    widget.model_name = "testpattern"
    assert widget.profile == {"name": "testpattern", "transport_commands": [], "chunk_key": None, "timeline": {}}


def test_no_secret_in_state_or_messages(widget: ReactorWidget, reactor: FakeReactor, sent: list[Any]) -> None:
    reactor.emit(
        "error",
        type(
            "E",
            (),
            {
                "code": "AUTHENTICATION_FAILED",
                "message": "bad key",
                "recoverable": False,
                "component": "api",
                "retry_after": None,
            },
        )(),
    )
    reactor.deliver({"type": "event", "data": {"event": "seed_set", "seed": 3}})
    state = json.dumps(widget.get_state(), default=str)
    assert SECRET not in state
    assert "token" not in widget.capabilities
    assert SECRET not in repr(widget)
    assert all(SECRET not in json.dumps(c, default=str) for c, _ in sent)


def test_status_error_and_session_events(widget: ReactorWidget, reactor: FakeReactor) -> None:
    reactor.emit("status_changed", "disconnected")
    assert widget.status == "disconnected"
    reactor.emit(
        "error",
        type(
            "E",
            (),
            {
                "to_dict": lambda self: {
                    "code": "GPU_CONNECTION_ERROR",
                    "message": "peer failed",
                    "recoverable": True,
                    "component": "gpu",
                }
            },
        )(),
    )
    assert widget.last_error["code"] == "GPU_CONNECTION_ERROR" and widget.last_error["recoverable"] is True
    reactor.emit("session_id_changed", None)
    assert widget.session_id is None
    reactor.emit("status_changed", "ready")
    assert widget.last_error is None and widget.session_id == "local"
    assert any(e["kind"] == "status" and e["text"] == "ready" for e in widget.events)


def test_state_and_model_errors_from_messages(widget: ReactorWidget, reactor: FakeReactor) -> None:
    reactor.deliver(
        {"type": "state", "data": {"running": True, "current_chunk": 2, "scheduled_prompts": {"0": "a"}}},
    )
    assert widget.model_state["current_chunk"] == 2
    reactor.deliver(
        {
            "type": "event",
            "data": {
                "event": "error",
                "command": "schedule_prompt",
                "field": "chunk",
                "reason": "past_chunk",
                "message": "schedule_prompt: field 'chunk': past",
            },
        },
    )
    assert widget.model_error["reason"] == "past_chunk" and widget.model_error["field"] == "chunk"
    reactor.deliver(
        {
            "type": "command_error",
            "data": {"command": "start", "reason": "invalid_state", "message": "start: no prompt"},
        },
    )
    assert widget.model_error["command"] == "start"
    reactor.deliver({"type": "event", "data": {"event": "prompt_switched", "chunk": 3, "new_prompt": "b"}})
    assert widget.events[-1]["text"] == "prompt_switched" and widget.events[-1]["data"]["chunk"] == 3
    assert [e["kind"] for e in widget.events].count("model_error") == 2  # refusals are logged as such
    assert not [e for e in widget.events if e["kind"] in ("message", "event") and e["text"] in ("state", "error")]


def test_the_widget_reads_the_typed_events_not_the_raw_message(widget: ReactorWidget, reactor: FakeReactor) -> None:
    reactor.emit("message", {"type": "state", "data": {"current_chunk": 9}})  # raw only: not parsed again
    assert widget.model_state == {"running": False, "paused": False, "scheduled_prompts": {}}
    reactor.emit("state", ModelState({"current_chunk": 5}))
    assert widget.model_state == {"current_chunk": 5}
    reactor.emit("model_error", ModelError("set_seed", "seed", "out_of_range", "set_seed: too big"))
    assert {k: widget.model_error[k] for k in ("command", "field", "reason", "message")} == {
        "command": "set_seed", "field": "seed", "reason": "out_of_range", "message": "set_seed: too big"
    }


def test_command_message_round_trip(widget: ReactorWidget, reactor: FakeReactor, sent: list[Any]) -> None:
    widget._on_custom(
        widget,
        {"type": "command", "id": "c1", "name": "schedule_prompt", "args": {"prompt": "sea", "chunk": 4}},
        [],
    )
    widget._on_custom(
        widget,
        {"type": "command", "id": "c2", "name": "schedule_prompt", "args": {"prompt": "sea", "chunk": -4}},
        [],
    )
    poll_until(lambda: len(replies(sent, "command_result")) == 2)
    ok, bad = replies(sent, "command_result")
    assert ok["id"] == "c1" and ok["ok"] is True
    assert bad["id"] == "c2" and bad["ok"] is False
    assert bad["error"] == {
        "command": "schedule_prompt",
        "field": "chunk",
        "reason": "out_of_range",
        "message": "schedule_prompt: field 'chunk': value -4 is out of range (0 to 1000)",
    }
    assert reactor.sent == [("schedule_prompt", {"prompt": "sea", "chunk": 4})]


def test_command_when_not_ready_replies_clearly(reactor: FakeReactor, sent: list[Any]) -> None:
    reactor._status = "disconnected"
    w = ReactorWidget(reactor)
    try:
        w._on_custom(w, {"type": "command", "id": 1, "name": "start", "args": {}}, [])
        poll_until(lambda: replies(sent, "command_result"))
        (r,) = replies(sent, "command_result")
        assert (
            r["ok"] is False
            and r["error"]["reason"] == "send_failed"
            and "not ready" in r["error"]["message"]
        )
    finally:
        w.close()


def test_python_send_command_validates_then_sends(widget: ReactorWidget, reactor: FakeReactor) -> None:
    widget.send_command("set_prompt", prompt="a fox")
    widget.send_command("schedule_prompt", {"prompt": "b", "chunk": 2})
    assert reactor.sent == [
        ("set_prompt", {"prompt": "a fox"}),
        ("schedule_prompt", {"prompt": "b", "chunk": 2}),
    ]
    with pytest.raises(CommandValidationError, match=r"set_prompt: field 'prompt': length 0"):
        widget.send_command("set_prompt", prompt="")
    with pytest.raises(CommandValidationError, match="unknown command 'rewind'"):
        widget.send_command("rewind")
    with pytest.raises(TypeError, match="keywords or one dict"):
        widget.send_command("set_prompt", "a fox")
    assert len(reactor.sent) == 2


def test_send_is_a_deprecated_alias_of_send_command(
    widget: ReactorWidget, reactor: FakeReactor, sent: list[Any]
) -> None:
    with pytest.warns(DeprecationWarning, match=r"use ReactorWidget\.send_command"):
        widget.send("set_prompt", prompt="a fox")
    assert reactor.sent == [("set_prompt", {"prompt": "a fox"})]
    with pytest.warns(DeprecationWarning), pytest.raises(CommandValidationError, match="unknown command 'rewind'"):
        widget.send("rewind")
    # a dict keeps the ipywidgets meaning: a custom message to the front end, no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        widget.send({"type": "hello"}, [b"x"])
    assert sent[-1] == ({"type": "hello"}, [b"x"])
    assert reactor.sent == [("set_prompt", {"prompt": "a fox"})]


def test_frames_flow_through_pump_and_acks(
    widget: ReactorWidget, reactor: FakeReactor, sent: list[Any]
) -> None:
    for i in range(3):
        f = np.zeros((384, 640, 3), np.uint8)
        draw_index(f, 100 + i)
        reactor.frames.push(f)
    poll_until(lambda: replies(sent, "frame"))
    content, buffers = next((c, b) for c, b in sent if c.get("type") == "frame")
    assert read_index(decode_image(bytes(buffers[0]))) in (100, 101, 102)
    widget._on_custom(widget, {"type": "ack", "id": content["id"]}, [])
    assert widget.pump.get_stats()["acked"] == 1
    stats = widget.get_stats()
    assert stats["fps_received"] == 24.0 and stats["rtt_ms"] == 3.0 and "fps_shown" in stats


def test_retry_reconnects(widget: ReactorWidget, reactor: FakeReactor, sent: list[Any]) -> None:
    reactor._status = "disconnected"
    reactor.emit("status_changed", "disconnected")
    widget._on_custom(widget, {"type": "retry"}, [])
    poll_until(lambda: replies(sent, "retry_result"))
    assert replies(sent, "retry_result")[0]["ok"] is True
    assert reactor.reconnects == 1 and widget.status == "ready"


def test_webcam_publish_frames_and_stop(widget: ReactorWidget, reactor: FakeReactor, sent: list[Any]) -> None:
    from reactor_notebook.widget.encode import JpegEncoder

    widget._on_custom(widget, {"type": "webcam_start", "track": "nope"}, [])
    poll_until(lambda: replies(sent, "webcam_state"))
    assert (
        replies(sent, "webcam_state")[0]["active"] is False
        and "nope" in replies(sent, "webcam_state")[0]["error"]
    )
    widget._on_custom(widget, {"type": "webcam_start", "track": "webcam"}, [])
    poll_until(lambda: len(replies(sent, "webcam_state")) == 2)
    assert widget.webcam_active and reactor.published[0][0] == "webcam"
    track = reactor.published[0][1]
    img = np.full((48, 64, 3), 200, np.uint8)
    widget._on_custom(widget, {"type": "webcam_frame", "id": 9}, [JpegEncoder().encode(img, 90).data])
    assert replies(sent, "webcam_ack")[-1] == {"type": "webcam_ack", "id": 9, "error": None}
    assert track.received == 1
    widget._on_custom(widget, {"type": "webcam_frame", "id": 10}, [b"junk"])
    assert "cannot decode" in replies(sent, "webcam_ack")[-1]["error"]
    widget._on_custom(widget, {"type": "webcam_stop"}, [])
    poll_until(lambda: not widget.webcam_active)
    assert reactor.published == [] and track.readyState == "ended"


def test_unknown_and_malformed_messages_are_ignored(widget: ReactorWidget, sent: list[Any]) -> None:
    widget._on_custom(widget, "not a dict", [])
    widget._on_custom(widget, {"type": "what"}, [])
    widget._on_custom(widget, {"type": "ack", "id": "x"}, [])
    widget._on_custom(widget, {"type": "ack", "id": True}, [])
    assert widget.pump.get_stats()["acked"] == 0


def test_constructor_rejects_non_reactor_and_unknown_kwargs(sent: list[Any]) -> None:
    with pytest.raises(TypeError, match=r"needs a reactor_notebook\.sdk\.Reactor"):
        ReactorWidget(object())
    with pytest.raises(TypeError, match="unexpected keyword"):
        ReactorWidget(FakeReactor(), windw=3)  # type: ignore[call-arg]


def test_close_stops_pump_and_unsubscribes(reactor: FakeReactor, sent: list[Any]) -> None:
    w = ReactorWidget(reactor, owns_reactor=True)
    assert w.pump.running
    w.close()
    assert not w.pump.running
    assert all(not hs for hs in reactor._handlers.values())
    assert reactor.disconnects == 1
    assert "closed" in repr(w)
    w.close()  # idempotent


def test_repr_makes_sense(widget: ReactorWidget) -> None:
    widget.stats = {"fps_shown": 23.5, "fps_received": 24.0}
    assert (
        repr(widget) == "ReactorWidget(model='helios', status='ready', session='local', fps_shown=23.5/24.0)"
    )


def test_views_visibility_pauses_and_resumes_the_pump(widget: ReactorWidget) -> None:
    widget._on_custom(widget, {"type": "ready", "view": "a"}, [])
    widget._on_custom(widget, {"type": "ready", "view": "b"}, [])
    widget._on_custom(widget, {"type": "visibility", "view": "a", "visible": False}, [])
    assert widget.pump.get_stats()["paused"] is False  # b is still visible
    widget._on_custom(widget, {"type": "view_closed", "view": "b"}, [])
    assert widget.pump.get_stats()["paused"] is True  # a is hidden, b is gone
    widget._on_custom(widget, {"type": "visibility", "view": "a", "visible": True}, [])
    assert widget.pump.get_stats()["paused"] is False

"""ReactorWidget over the real path: embedded runtime + SDK over aiortc loopback, no browser (fake comm send)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from testutil import FakeFrontEnd, free_port, poll_until

from reactor_notebook.framecode import read_index
from reactor_notebook.runtime import LocalRuntime
from reactor_notebook.sdk import Reactor
from reactor_notebook.widget import ReactorWidget
from reactor_notebook.widget.encode import JpegEncoder, decode_image

LIVE_TIMEOUT = 15.0  # a real runtime and aiortc on a shared 2-core machine


def frames_sent(sent: list[Any]) -> list[tuple[dict[str, Any], bytes]]:
    return [(c, bytes(b[0])) for c, b in sent if c.get("type") == "frame"]


@pytest.fixture
def testpattern() -> Iterator[LocalRuntime]:
    with LocalRuntime(model="testpattern", port=0) as rt:
        yield rt


@pytest.fixture
def live(testpattern: LocalRuntime, sent: list[Any]) -> Iterator[tuple[ReactorWidget, Reactor, LocalRuntime]]:
    reactor = Reactor("testpattern", local=True, local_url=testpattern.url)
    reactor.connect_sync()
    w = ReactorWidget(reactor, owns_reactor=True)
    yield w, reactor, testpattern
    w.close()


def test_live_frames_reach_the_view_in_order(testpattern: LocalRuntime) -> None:
    reactor = Reactor("testpattern", local=True, local_url=testpattern.url)
    reactor.connect_sync()
    w = ReactorWidget(reactor, owns_reactor=True)
    browser = FakeFrontEnd(w)  # the browser half: acks every frame as it arrives
    try:
        assert w.status == "ready" and w.session_id and w.model_name == "testpattern"
        assert [c["name"] for c in w.commands] == ["set_color"] and w.input_tracks == ["webcam"]
        poll_until(lambda: w.pump.get_stats()["acked"] >= 20, timeout=LIVE_TIMEOUT, what="20 acked frames")
        contents = [((m["data"] or {}).get("content") or {}, m["buffers"]) for m in browser.messages]
        got = [buffers[0] for content, buffers in contents if content.get("type") == "frame"]
        indices = [read_index(decode_image(b)) for b in got[:20]]
        # in order, none skipped back; the runtime repeats its last frame when the model is late (under load),
        # so a few adjacent repeats are legitimate video, not re-sends
        assert len(indices) == 20 and indices == sorted(indices) and len(set(indices)) >= 16, indices
        assert w.pump.get_stats()["lost"] == 0
    finally:
        browser.close()
        w.close()


def test_live_form_command_changes_the_stream(live: Any, sent: list[Any]) -> None:
    w, reactor, _ = live
    w._on_custom(
        w, {"type": "command", "id": "c", "name": "set_color", "args": {"r": 0, "g": 255, "b": 0}}, []
    )
    poll_until(lambda: any(c.get("type") == "command_result" for c, _ in sent), timeout=LIVE_TIMEOUT, what="command_result")
    (res,) = [c for c, _ in sent if c.get("type") == "command_result"]
    assert res["ok"] is True
    assert res["reply"] == {"type": "color_set", "data": {"r": 0, "g": 255, "b": 0}}  # shown by the form

    def centre_is_green() -> bool:
        item = reactor.frames.latest_ref()
        if item is None:
            return False
        f = item[0]
        r, g, b = f[f.shape[0] // 2, f.shape[1] // 2].astype(int)
        return g > 200 and r < 60 and b < 60

    poll_until(centre_is_green, timeout=LIVE_TIMEOUT, what="green centre patch")
    w._on_custom(
        w, {"type": "command", "id": "d", "name": "set_color", "args": {"r": 0, "g": 256, "b": 0}}, []
    )
    poll_until(
        lambda: len([c for c, _ in sent if c.get("type") == "command_result"]) == 2,
        timeout=LIVE_TIMEOUT,
        what="second result",
    )
    bad = [c for c, _ in sent if c.get("type") == "command_result"][1]
    assert bad["ok"] is False and bad["error"]["field"] == "g" and bad["error"]["reason"] == "out_of_range"


def test_live_webcam_frames_reach_the_model(live: Any, sent: list[Any]) -> None:
    w, _reactor, rt = live
    w._on_custom(w, {"type": "webcam_start", "track": "webcam"}, [])
    poll_until(lambda: any(c.get("type") == "webcam_state" for c, _ in sent), timeout=LIVE_TIMEOUT, what="webcam_state")
    state = next(c for c, _ in sent if c.get("type") == "webcam_state")
    assert state["active"] is True, state
    jpeg = JpegEncoder().encode(np.full((240, 320, 3), 90, np.uint8), 80).data
    for i in range(5):
        w._on_custom(w, {"type": "webcam_frame", "id": i}, [jpeg])
    poll_until(lambda: rt.model.input_frames.get("webcam", 0) >= 3, timeout=LIVE_TIMEOUT, what="model input frames")
    assert rt.model.last_input_shape[:2] == (240, 320)
    w._on_custom(w, {"type": "webcam_stop"}, [])
    poll_until(lambda: not w.webcam_active, timeout=LIVE_TIMEOUT, what="webcam stopped")


def test_live_disconnect_and_retry(live: Any, sent: list[Any]) -> None:
    w, reactor, _ = live
    reactor.disconnect_sync(recoverable=True)
    poll_until(lambda: w.status == "disconnected", timeout=LIVE_TIMEOUT, what="disconnected trait")
    w._on_custom(w, {"type": "retry"}, [])
    poll_until(lambda: any(c.get("type") == "retry_result" for c, _ in sent), timeout=LIVE_TIMEOUT, what="retry_result")
    res = next(c for c, _ in sent if c.get("type") == "retry_result")
    assert res["ok"] is True, res
    assert w.status == "ready"


def test_live_helios_state_and_model_errors(sent: list[Any]) -> None:
    with LocalRuntime(model="helios", port=0) as rt:
        reactor = Reactor("helios", local=True, local_url=rt.url)
        reactor.connect_sync()
        w = ReactorWidget(reactor, owns_reactor=True)
        try:
            assert {c["name"] for c in w.commands if c["transport"]} == {"start", "pause", "resume", "reset"}
            w.send_command("set_prompt", prompt="A foggy harbour at dawn")
            w.send_command("start")
            poll_until(lambda: (w.model_state or {}).get("running") is True, timeout=LIVE_TIMEOUT, what="running state")
            poll_until(lambda: (w.model_state or {}).get("current_chunk", 0) >= 1, timeout=LIVE_TIMEOUT, what="chunk 1")
            assert w.model_state["scheduled_prompts"] == {"0": "A foggy harbour at dawn"}
            w._on_custom(
                w,
                {"type": "command", "id": 1, "name": "schedule_prompt", "args": {"prompt": "x", "chunk": 0}},
                [],
            )
            poll_until(lambda: w.model_error is not None, timeout=LIVE_TIMEOUT, what="model error")
            assert w.model_error["command"] == "schedule_prompt" and w.model_error["reason"] == "past_chunk"
            assert "past" in w.model_error["message"]
            poll_until(
                lambda: any(c.get("type") == "command_result" and c.get("id") == 1 for c, _ in sent),
                timeout=LIVE_TIMEOUT, what="command_result",
            )
            (res,) = [c for c, _ in sent if c.get("type") == "command_result" and c.get("id") == 1]
            assert res["ok"] is False  # the form shows the model's refusal next to the field
            assert (res["error"]["field"], res["error"]["reason"]) == ("chunk", "past_chunk")
            assert res["error"]["message"].startswith("schedule_prompt: field 'chunk': chunk 0 is in the past")
        finally:
            w.close()


def test_live_image_field_too_big_for_one_message_is_uploaded(sent: list[Any]) -> None:
    """A form's base64 image over the 256 KiB message limit reaches Helios as an upload + FileRef."""
    import base64
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(3).integers(0, 256, (380, 380, 3), dtype=np.uint8)).save(buf, "PNG")
    b64 = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
    assert len(b64) > 300_000
    with LocalRuntime(model="helios", port=0) as rt:
        reactor = Reactor("helios", local=True, local_url=rt.url)
        reactor.connect_sync()
        w = ReactorWidget(reactor, owns_reactor=True)
        try:
            args = {"image_b64": b64, "transition": "cut"}
            w._on_custom(w, {"type": "command", "id": 9, "name": "set_image", "args": args}, [])
            poll_until(
                lambda: any(c.get("type") == "command_result" and c.get("id") == 9 for c, _ in sent),
                timeout=LIVE_TIMEOUT, what="command_result",
            )
            (res,) = [c for c, _ in sent if c.get("type") == "command_result" and c.get("id") == 9]
            assert res["ok"] is True, res
            state = reactor.frames.wait_state(lambda s: bool(s.get("image_set")), timeout=10)
            assert state["image_set"] is True
            uploads = [e for e in reactor.frames.timeline_entries() if e.name == "file_uploaded"]
            assert [u.data["size"] for u in uploads] == [len(buf.getvalue())]
        finally:
            w.close()


def test_live_api_key_never_reaches_the_front_end(sent: list[Any]) -> None:
    key = "rk_live_widget_secret_0123456789"
    with LocalRuntime(model="testpattern", port=0, api_key=key) as rt:
        reactor = Reactor("testpattern", api_key=key, api_url=rt.url)
        reactor.connect_sync()
        w = ReactorWidget(reactor, owns_reactor=True)
        try:
            poll_until(lambda: len(frames_sent(sent)) >= 1, timeout=LIVE_TIMEOUT, what="a frame")
            w.send_command("set_color", r=1, g=2, b=3)
            w.stats = w.get_stats()
            state = json.dumps(w.get_state(), default=str)
            assert w.status == "ready" and key not in state
            assert key not in repr(w)
            assert all(key not in json.dumps(c, default=str) for c, _ in sent)
        finally:
            w.close()


def test_local_starts_runtime_once_and_connects(sent: list[Any]) -> None:
    port = free_port()
    w = ReactorWidget.local("testpattern", port=port)
    try:
        assert w.status == "ready" and w.runtime is not None and w.runtime.port == port
        w2 = ReactorWidget.local("testpattern", port=port)  # something listens now: reuse it
        try:
            assert w2.status == "ready" and w2.runtime is None
        finally:
            w2.close()
    finally:
        w.close()
        w.runtime.stop()


def test_local_follows_reactor_local_url_like_the_magic(
    sent: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    monkeypatch.setenv("REACTOR_LOCAL_URL", f"http://localhost:{port}")
    w = ReactorWidget.local("testpattern")
    try:
        assert w.status == "ready" and w.runtime is not None and w.runtime.port == port
        assert w.reactor.base_url.rstrip("/").endswith(f":{port}")  # the URL of $REACTOR_LOCAL_URL
    finally:
        w.close()
        w.runtime.stop()

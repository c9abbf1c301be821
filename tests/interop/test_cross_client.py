"""PY08 and JS29 together on one local session (the runtime on :8080, both clients' default URL).

protocol.md: ``/start_session`` is idempotent, so the second client joins the same session; model
messages are broadcast to every connection; an input has one publisher (first wins, the other gets
``PUBLISHER_SLOT_TAKEN``); ``/stop_session`` closes every peer of the session.
"""

from __future__ import annotations

from typing import Any

from harness import health, wait_runtime_idle
from jspage import connect, describe, events, wait_js
from testutil import poll_until

PROBE = (320, 192)  # centre of the testpattern colour patch
COLOR = {"r": 250, "g": 200, "b": 20}


def test_py08_and_js29_share_one_local_session(rt_local8080: Any, py08: Any, page: Any) -> None:
    connect(page, api_url=None, local=True)  # JS29's own default: http://localhost:8080
    assert events(page, "session_id")[0]["session_id"] == "local"
    client = py08("--mode", "local", "--probe", f"{PROBE[0]},{PROBE[1]}", "--frame-every", "3")
    client.connect_ready()
    assert ("POST", "/start_session", 200) in client.http_trace()
    assert client.of("session_id")[0]["session_id"] == "local"
    assert health(rt_local8080.url)["state"] == "STREAMING"

    # JS29 publishes the webcam implicitly (media only); the count reaches both clients.
    page.evaluate("js29.publishCanvas('webcam', [0, 180, 60])")
    client.wait_for(
        lambda e: e.get("ev") == "message" and e["message"].get("type") == "input_stats",
        15,
        what="input_stats broadcast to PY08",
    )
    # PY08 asks for the same input slot over its control channel and is refused.
    mark = client.mark()
    client.call("publish", 15, name="webcam", color=[200, 0, 0])
    refused = client.wait_for("error", 5, start=mark)
    assert refused["code"] == "TRACK_PUBLISH_FAILED" and "PUBLISHER_SLOT_TAKEN" in refused["message"], refused

    # A command from PY08 changes the pixels JS29 shows, and the answer reaches both.
    mark_js = len(events(page))
    mark = client.mark()
    client.call("send_command", 5, command="set_color", data=COLOR)
    wait_js(
        page,
        "([p, c]) => { const s = js29.sample([p]); if (!s) return false; const [r, g, b] = s.px[0];"
        " return Math.abs(r - c.r) < 40 && Math.abs(g - c.g) < 40 && Math.abs(b - c.b) < 40; }",
        "JS29 pixels in PY08's colour",
        arg=[list(PROBE), COLOR],
    )
    for who, found in (
        (
            "PY08",
            client.wait_for(
                lambda e: e.get("ev") == "message" and e["message"]["type"] == "color_set", 5, start=mark
            ),
        ),
        (
            "JS29",
            wait_js(
                page,
                "(m) => js29.events(m).find((e) => e.ev === 'message' && e.message.type === 'color_set')",
                "color_set",
                arg=mark_js,
            ),
        ),
    ):
        assert found["message"]["data"] == COLOR, (who, found)

    # PY08's full disconnect stops the local session: the runtime closes JS29's peer too.
    client.call("disconnect", 10)
    assert ("POST", "/stop_session", 200) in client.http_trace()
    poll_until(
        lambda: page.evaluate("js29.status()") == "disconnected",
        15,
        f"JS29 to be disconnected\n{describe(page)}",
    )
    wait_runtime_idle(rt_local8080.url)

"""JS29 (official @reactor-team/js-sdk 2.9.0) in headless Chromium against our runtime.

Interop matrix row 4 of protocol.md §8. The page (tests/interop/js/page.js) is served from its
own origin, so every SDK call is cross-origin and preflighted; the test drives the SDK's public
``Reactor`` class through Playwright and checks what the browser actually shows: the <video>
element's size, the frame index codes and pixels sampled from it, messages and statuses.
"""

from __future__ import annotations

from typing import Any

from harness import http_json, increasing_run, wait_runtime_idle
from jspage import connect, describe, events, http_trace, wait_js

W, H = 640, 384
PROBE = [320, 192]  # centre of the testpattern colour patch (set_color), away from the index code
COLOR = {"r": 30, "g": 220, "b": 60}
IDLE_INDEX = 0xFFFF  # frame code of the helios idle card shown before ``start``


def assert_video_plays(page: Any, frames: int = 20) -> list[int]:
    """The <video> shows 640x384 frames whose index codes advance and whose pixels change."""
    first = wait_js(
        page, "(p) => { const s = js29.sample([p]); return s && s.w > 0 && s; }", "video frames", arg=PROBE
    )
    assert (first["w"], first["h"]) == (W, H), first
    start = page.evaluate("performance.now()")
    seen = wait_js(
        page,
        "([t, n]) => { const f = js29.frames(t); return f.length >= n && f; }",
        f"{frames} presented frames",
        arg=[start, frames],
    )
    indices = [f["index"] for f in seen]
    assert {(f["w"], f["h"]) for f in seen} == {(W, H)}
    assert increasing_run(indices), indices
    assert indices[-1] != indices[0], f"pixels of the index code did not change: {indices}"
    later = page.evaluate("(p) => js29.sample([p])", PROBE)
    assert later["index"] != first["index"] and not later["paused"], (first, later)
    return indices


def assert_command_changes_pixels(page: Any) -> None:
    mark = len(events(page))
    page.evaluate("(c) => js29.sendCommand('set_color', c)", COLOR)
    wait_js(
        page,
        "([p, c]) => { const s = js29.sample([p]); if (!s) return false; const [r, g, b] = s.px[0];"
        " return Math.abs(r - c.r) < 40 && Math.abs(g - c.g) < 40 && Math.abs(b - c.b) < 40; }",
        f"pixels in {COLOR}",
        arg=[PROBE, COLOR],
    )
    wait_js(page, "(m) => js29.events(m).some((e) => e.ev === 'message')", "a model message", arg=mark)


# ---------------------------------------------------------------------------------------------
def test_cors_preflight_is_answered(rt_testpattern: Any) -> None:
    """Every JS29 call from a notebook page is preflighted; the runtime allows it (204)."""
    import urllib.request

    req = urllib.request.Request(
        f"{rt_testpattern.url}/sessions/local/transport/webrtc/sdp_params",
        method="OPTIONS",
        headers={
            "Origin": "http://127.0.0.1:1",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type,reactor-webrtc-version",
            "Access-Control-Request-Private-Network": "true",
        },
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.status == 204
        headers = {k.lower(): v for k, v in resp.headers.items()}
    assert headers["access-control-allow-origin"] in ("*", "http://127.0.0.1:1")
    assert (
        "POST" in headers["access-control-allow-methods"].upper()
        or headers["access-control-allow-methods"] == "*"
    )
    allowed = headers["access-control-allow-headers"].lower()
    assert allowed == "*" or {"authorization", "content-type", "reactor-webrtc-version"} <= {
        h.strip() for h in allowed.split(",")
    }
    assert headers.get("access-control-allow-private-network") == "true"


def test_local_mode_flat_routes_video_commands_reconnect(rt_testpattern: Any, page: Any) -> None:
    url = rt_testpattern.url
    connect(page, api_url=url, local=True)
    base = "/sessions/local/transport/webrtc"
    trace = http_trace(page)
    assert trace[:2] == [("POST", "/start_session", 200), ("GET", f"{base}/ice_servers", 200)], trace
    assert ("POST", f"{base}/sdp_params", 202) in trace and ("GET", f"{base}/sdp_params", 200) in trace
    assert not [t for t in trace if "/connections" in t[1]], trace
    assert [e["name"] for e in events(page, "track_received")] == ["main_video"]

    assert_video_plays(page)
    assert_command_changes_pixels(page)
    stats = wait_js(page, "(() => { const s = js29.stats(); return s && s.timestamp && s; })()", "getStats()")
    assert stats["candidateType"] in ("host", None), stats

    # Recoverable disconnect + reconnect re-offers on the flat route with PUT.
    page.evaluate("js29.disconnect(true)")
    mark = len(events(page))
    page.evaluate("js29.reconnect()")
    wait_js(page, "js29.status() === 'ready'", "ready after reconnect")
    again = [(e["method"], e["path"], e["status"]) for e in events(page)[mark:] if e["ev"] == "http"]
    assert ("PUT", f"{base}/sdp_params", 202) in again, again
    assert_video_plays(page, 12)

    page.evaluate("js29.disconnect()")
    assert ("POST", "/stop_session", 200) in http_trace(page)
    wait_runtime_idle(url)


def test_cloud_mode_with_jwt(rt_helios: Any, page: Any) -> None:
    url = rt_helios.url
    status, body = http_json("POST", f"{url}/tokens", headers={"Reactor-API-Key": "any-key"})
    assert status == 200, (status, body)
    connect(page, api_url=url, local=False, model="helios", jwt=body["jwt"])
    trace = http_trace(page)
    assert trace[0] == ("POST", "/sessions", 201), trace
    sid = events(page, "session_id")[0]["session_id"]
    assert ("GET", f"/sessions/{sid}", 200) in trace
    assert ("POST", f"/sessions/{sid}/transport/webrtc/sdp_params", 202) in trace
    idle = wait_js(
        page, "(p) => { const s = js29.sample([p]); return s && s.w > 0 && s; }", "the idle card", arg=PROBE
    )
    assert (idle["w"], idle["h"]) == (W, H), idle

    mark = len(events(page))
    page.evaluate("js29.sendCommand('set_prompt', {prompt: 'A foggy harbour at dawn'})")
    page.evaluate("js29.sendCommand('start', {})")
    state = wait_js(
        page,
        "(m) => { const e = js29.events(m).find((e) => e.ev === 'message' && e.message.type === 'state'"
        " && e.message.data.running); return e && e.message.data; }",
        "a running state message",
        arg=mark,
    )
    assert state["scheduled_prompts"] == {"0": "A foggy harbour at dawn"}
    wait_js(
        page,
        "(idle) => { const s = js29.sample([]); return s && s.index !== idle; }",
        "a generated frame",
        arg=IDLE_INDEX,
    )
    generated = assert_video_plays(page, 12)
    assert all(i < 1000 for i in generated), f"generated frames count from 0 after start: {generated}"

    mark = len(events(page))
    page.evaluate("js29.sendCommand('requestCapabilities', {}, 'runtime')")
    caps = wait_js(
        page,
        "(m) => { const e = js29.events(m).find((e) => e.ev === 'runtime_message'"
        " && e.message.type === 'modelCapabilities'); return e && e.message.data; }",
        "modelCapabilities",
        arg=mark,
    )
    assert {"set_prompt", "start"} <= {c["name"] for c in caps["commands"]}

    page.evaluate("js29.disconnect()")
    assert ("DELETE", f"/sessions/{sid}", 200) in http_trace(page)
    status, after = http_json(
        "GET", f"{url}/sessions/{sid}", headers={"Authorization": f"Bearer {body['jwt']}"}
    )
    assert status == 404 or after["state"] == "CLOSED", (status, after)
    wait_runtime_idle(url)


def test_publish_canvas_track_is_counted_as_implicit_publish(rt_testpattern: Any, page: Any) -> None:
    """JS29 has no control channel: media on the ``webcam`` m-line alone must count as publishing."""
    connect(page, api_url=rt_testpattern.url, local=True)
    mark = len(events(page))
    page.evaluate("js29.publishCanvas('webcam', [0, 180, 60])")
    counted = (
        "([m, above]) => { const e = js29.events(m).filter((e) => e.ev === 'message'"
        " && e.message.type === 'input_stats' && e.message.data.frames > above); return e.length > 0 && e[0]; }"
    )
    first = wait_js(page, counted, "an input_stats message counting webcam frames", arg=[mark, 0])
    assert first["message"]["data"]["track"] == "webcam", first
    frames = first["message"]["data"]["frames"]
    wait_js(page, counted, "a growing webcam frame count", arg=[mark, frames])
    page.evaluate("js29.unpublish('webcam')")
    page.evaluate("js29.disconnect()")
    wait_runtime_idle(rt_testpattern.url)


def test_upload_then_set_image_by_reference(rt_helios: Any, page: Any) -> None:
    """uploadFile (POST …/uploads, PUT to the presigned URL verbatim) and a FileRef in set_image."""
    connect(page, api_url=rt_helios.url, local=True, model="helios")
    ref = page.evaluate("js29.uploadPng(800, 480, [20, 200, 220])")
    assert ref["mimeType"] == "image/png" and ref["size"] > 0, ref
    trace = http_trace(page)
    assert ("POST", "/sessions/local/uploads", 201) in trace, trace
    assert ("PUT", f"/uploads/{ref['uploadId']}", 200) in trace, trace

    mark = len(events(page))
    page.evaluate("js29.sendWithUpload('set_image', {transition: 'cut'}, 'image')")
    image_set = wait_js(
        page,
        "(m) => { const e = js29.events(m).find((e) => e.ev === 'message' && e.message.type === 'event'"
        " && ['image_set', 'error'].includes(e.message.data.event)); return e && e.message.data; }",
        "image_set (or an error) for the uploaded reference",
        arg=mark,
    )
    assert image_set["event"] == "image_set", image_set
    assert (image_set["width"], image_set["height"]) == (800, 480), image_set
    page.evaluate("js29.disconnect()")
    wait_runtime_idle(rt_helios.url)


def test_cloud_mode_bad_jwt_is_a_visible_401(rt_testpattern: Any, page: Any) -> None:
    """Error responses carry CORS headers too, so the browser sees the 401 (not a network error)."""
    page.evaluate(
        "(o) => js29.create(o)", {"apiUrl": rt_testpattern.url, "local": False, "modelName": "testpattern"}
    )
    page.evaluate("js29.connect('not-a-token')")
    failed = wait_js(page, "() => js29.events().find((e) => e.ev === 'connect_failed')", "connect() to throw")
    assert "401" in failed["error"], failed
    assert http_trace(page) == [("POST", "/sessions", 401)], describe(page)
    errors = [e["error"]["code"] for e in events(page, "error")]
    assert errors == ["CONNECTION_FAILED"], errors
    assert page.evaluate("js29.status()") == "disconnected"

"""The direct view in real JupyterLab + headless Chromium: the page joins the kernel's local session.

A keyless local runtime on loopback: the page opens its own receive-only WebRTC connection,
paints natively decoded frames (their frame index codes count up on the canvas) and the kernel
stops JPEG-encoding while it still receives NumPy frames. ``direct=False`` forces the JPEG path
back. A session behind an API key never offers the direct path and leaks nothing to the page.
"""

from __future__ import annotations

import json
from typing import Any

from browser_support import Lab, canvas, kernel_ready, kexec, run_all, wait_drawn, write_notebook
from test_widget_browser import wait_canvas, wait_kernel_value

SETUP = """\
from reactor_notebook.runtime import LocalRuntime
from reactor_notebook.sdk import Reactor
from reactor_notebook.widget import ReactorWidget
rt = LocalRuntime(model="testpattern", port=0).start()
reactor = Reactor("testpattern", {where})
reactor.connect_sync()
w = ReactorWidget(reactor, show_stats=True, owns_reactor=True)
w"""

SECRET = "sk-direct-view-test-7f3a9c"
JS_PATH = "() => { const e = (window.__reactorWidgets || [])[0]; return e && e.direct ? e.direct.path : null; }"
JS_STATE = """(keys) => { const m = window.__reactorWidgets[0].model;
  return JSON.stringify(Object.fromEntries(keys.map((k) => [k, m.get(k) ?? null]))); }"""


def open_widget(page: Any, lab: Lab, name: str, where: str, before: str = "") -> None:
    write_notebook(lab.root, name, [SETUP.format(where=where)])
    page.goto(lab.notebook_url(name))
    kernel_ready(page)
    if before:
        kexec(page, before)  # not part of the notebook
    run_all(page)
    wait_drawn(page, 1, timeout_ms=60000)


def kernel_int(page: Any, expr: str) -> int:
    return int(kexec(page, f"print({expr})").strip())


def test_direct_view_shows_webrtc_frames_while_the_kernel_keeps_numpy(page: Any, lab: Lab) -> None:
    open_widget(page, lab, "direct.ipynb", "local=True, local_url=rt.url")
    try:
        assert kexec(page, "print(w.direct_url == rt.url.rstrip('/'))").strip() == "True"
        page.wait_for_function(f"() => ({JS_PATH})() === 'direct'", timeout=30000)
        wait_kernel_value(page, "print(w.pump.get_stats()['paused'], w.get_stats()['views_direct'])", "True 1")
        # the page joined as a viewer: the session still counts one client (the kernel), so nobody is told
        # the kernel's own session is shared
        counts = kexec(page, "import json, urllib.request as u; d = json.load(u.urlopen(rt.url + '/session')); "
                             "print(d['attached_clients'], d['attached_viewers'])")
        assert counts.strip() == "1 1", counts

        # the live view moves on direct frames: index codes read from the canvas increase
        sent = kernel_int(page, "w.pump.get_stats()['sent']")
        seq = kernel_int(page, "reactor.frames.seq")
        first = canvas(page)
        direct_frames = page.evaluate("() => window.__reactorWidgets[0].direct.frames")
        wait_canvas(page, f"s.index > {first['index'] + 24} && s.checksum !== {first['checksum']}")
        assert page.evaluate("() => window.__reactorWidgets[0].direct.frames") >= direct_frames + 12
        # Chromium hands every decoded frame over (MediaStreamTrackProcessor), not one per composited frame
        assert page.evaluate("() => window.__reactorWidgets[0].direct.reader") == "processor"
        assert (canvas(page)["width"], canvas(page)["height"]) == (640, 384)

        # ...while the kernel still receives NumPy frames and JPEG-encodes (almost) nothing
        wait_kernel_value(page, f"print(reactor.frames.seq > {seq} + 24)", "True")
        assert kexec(page, "print(reactor.frames.latest().shape)").strip() == "(384, 640, 3)"
        assert kernel_int(page, "w.pump.get_stats()['sent']") - sent <= 1

        # the overlay shows the direct connection's own WebRTC numbers
        page.wait_for_function(
            "() => { const r = (n) => document.querySelector(`.rn-stats [data-stat='${n}'] b`)?.textContent;"
            " return r('path') === 'direct WebRTC' && r('rtt (WebRTC)') !== '\u2013' && r('frame age') !== '\u2013'"
            " && r('jpeg') === 'off'; }",
            timeout=10000,
        )

        # an output out of sight leaves the session (no encode for it in the runtime), and joins again
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:hide-all-cell-outputs')")
        page.wait_for_function(f"() => ({JS_PATH})() === 'jpeg'", timeout=15000)
        wait_kernel_value(page, "print(w.pump.get_stats()['paused'], w.get_stats()['views_direct'])", "True 0")
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:show-all-cell-outputs')")
        page.wait_for_function(f"() => ({JS_PATH})() === 'direct'", timeout=30000)
        shown = canvas(page)["index"]
        wait_canvas(page, f"s.index > {shown + 10}")

        # forcing JPEG: the page leaves the session, the pump resumes and JPEG frames are drawn
        received = page.evaluate("() => window.__reactorWidgets[0].debug.received")
        kexec(page, "w.direct = False")
        page.wait_for_function(f"() => ({JS_PATH})() === 'jpeg'", timeout=10000)
        wait_kernel_value(page, "print(w.pump.get_stats()['paused'], w.direct_url)", "False None")
        page.wait_for_function(
            f"() => window.__reactorWidgets[0].debug.received > {received + 10}", timeout=15000
        )
        shown = canvas(page)["index"]
        wait_canvas(page, f"s.index > {shown + 10}")
        # and back: direct again
        kexec(page, "w.direct = True")
        page.wait_for_function(f"() => ({JS_PATH})() === 'direct'", timeout=30000)
        assert page.console_errors == []
    finally:
        kexec(page, "w.close(); rt.stop()")


def test_keyed_session_falls_back_to_jpeg_and_leaks_no_secret(page: Any, lab: Lab) -> None:
    key = "api_key=__import__('os').environ['RN_DIRECT_TEST_KEY']"  # the key stays out of the saved cells
    open_widget(page, lab, "keyed.ipynb", f"api_url=rt.url, {key}",
                before=f"import os; os.environ['RN_DIRECT_TEST_KEY'] = {SECRET!r}")
    try:
        wait_drawn(page, 15)
        first = canvas(page)
        wait_canvas(page, f"s.index > {first['index'] + 10}")
        assert page.evaluate(JS_PATH) == "jpeg"
        assert kexec(page, "print(w.direct_url, w.pump.get_stats()['paused'])").strip() == "None False"
        assert kernel_int(page, "w.pump.get_stats()['sent']") > 10

        # nothing secret in the widget state, kernel side or page side, nor in the saved notebook
        jwt = kexec(page, "print(reactor._api.jwt_text() or '')").strip()
        assert jwt  # the cloud-like session really holds a token
        state = kexec(page, "import json; print(json.dumps(w.get_state(), default=str))")
        keys = json.loads(kexec(page, "print(json.dumps([k for k in w.keys if not k.startswith('_')]))"))
        page_state = page.evaluate(JS_STATE, keys)
        page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
        page.wait_for_function(
            "() => !window.jupyterapp.shell.currentWidget.context.model.dirty", timeout=10000
        )
        saved = (lab.root / "keyed.ipynb").read_text(encoding="utf-8")
        for text in (state, page_state, saved):
            assert SECRET not in text and jwt not in text
        assert json.loads(page_state)["direct_url"] is None
    finally:
        kexec(page, "w.close(); rt.stop()")

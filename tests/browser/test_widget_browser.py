"""ReactorWidget in real JupyterLab + headless Chromium against the embedded runtime over real WebRTC.

Each test writes a notebook, runs it in the page, and checks what the user would see: canvas
pixels (frame index code, centre colour) read in page JS, form errors, the status badge.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from browser_support import ARTIFACTS, Lab, canvas, kernel_ready, kexec, run_all, wait_drawn, write_notebook
from PIL import Image

from reactor_notebook.profiles import HELIOS

SETUP = """\
from reactor_notebook.runtime import LocalRuntime
from reactor_notebook.sdk import Reactor
from reactor_notebook.widget import ReactorWidget
rt = LocalRuntime(model={model!r}, port=0).start()
reactor = Reactor({model!r}, local=True, local_url=rt.url)
reactor.connect_sync()
w = ReactorWidget(reactor, show_stats=True, owns_reactor=True)
w"""

TEARDOWN = "w.close(); rt.stop()"

FORGED_COMMAND = """() => new Promise((resolve) => {
  const m = window.__reactorWidgets[0].model;
  const h = (msg) => {
    if (msg.type === 'command_result' && msg.id === 'forged') { m.off('msg:custom', h); resolve(msg); }
  };
  m.on('msg:custom', h);
  m.send({type: 'command', id: 'forged', name: 'set_color', args: {r: '300', g: 0, b: 0}});
})"""


def open_widget(page: Any, lab: Lab, model: str, name: str) -> None:
    write_notebook(lab.root, name, [SETUP.format(model=model)])
    page.goto(lab.notebook_url(name))
    kernel_ready(page)
    run_all(page)
    wait_drawn(page, 1, timeout_ms=60000)


def wait_canvas(page: Any, pred: str, timeout_ms: float = 15000) -> None:
    """Wait until ``pred`` (JS expression over ``s``, the canvas summary) holds."""
    from browser_support import JS_CANVAS

    page.wait_for_function(
        f"() => {{ const s = ({JS_CANVAS})(0); return !!s && ({pred}); }}", timeout=timeout_ms
    )


def wait_kernel_value(page: Any, code: str, expected: str, timeout: float = 10.0) -> None:
    """Poll a kernel expression's printed value until it equals ``expected``."""
    deadline = time.monotonic() + timeout
    got = None
    while time.monotonic() < deadline:
        got = kexec(page, code).strip()
        if got == expected:
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"{code!r} printed {got!r}, expected {expected!r}")


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"widget-{name}.png"), full_page=True)


def test_testpattern_live_view_form_errors_webcam_and_reconnect(page: Any, lab: Lab) -> None:
    open_widget(page, lab, "testpattern", "testpattern.ipynb")
    try:
        # live view: frames keep arriving and the pixels change (the index code counts up)
        wait_drawn(page, 15)
        a = canvas(page)
        wait_canvas(page, f"s.index > {a['index'] + 5} && s.checksum !== {a['checksum']}")
        assert (a["width"], a["height"]) == (640, 384)
        assert page.locator(".rn-badge").inner_text() == "ready"
        assert page.locator(".rn-notice").is_hidden()  # ipykernel 7.4: acks run on the widget's subshell
        assert page.locator(".rn-helios").is_hidden()  # no profile timeline: no buttons, state line or lane

        # bad input: a per-field error in the browser, nothing sent
        form = page.locator('form[data-command="set_color"]')
        form.locator('input[type=number][name="r"]').fill("300")
        form.locator('input[type=number][name="g"]').fill("0")
        form.locator('input[type=number][name="b"]').fill("")
        form.locator("button[type=submit]").click()
        errors = form.locator(".rn-field-error")
        assert errors.nth(0).inner_text() == "set_color: field 'r': value 300 is out of range (0 to 255)"
        assert errors.nth(2).inner_text() == "set_color: field 'b': required field is missing (integer)"
        assert "sent" not in form.locator(".rn-form-result").inner_text()

        # the kernel validates again: a forged message that skips the browser's checks is refused by field
        reply = page.evaluate(FORGED_COMMAND)
        assert reply["ok"] is False
        assert (reply["error"]["field"], reply["error"]["reason"]) == ("r", "wrong_type")
        assert reply["error"]["message"] == "set_color: field 'r': expected integer, got str '300'"

        # a valid submit changes the stream: the centre patch turns green
        form.locator('input[type=number][name="r"]').fill("0")
        form.locator('input[type=number][name="g"]').fill("255")
        form.locator('input[type=number][name="b"]').fill("0")
        form.locator("button[type=submit]").click()
        page.wait_for_function(  # the model's reply, shown next to the form
            "() => document.querySelector('form[data-command=set_color] .rn-form-result').textContent.includes('←')"
        )
        assert form.locator(".rn-form-result").inner_text() == '← color_set {"r":0,"g":255,"b":0}'
        wait_canvas(page, "s.centre[1] > 200 && s.centre[0] < 60 && s.centre[2] < 60")
        shot(page, "testpattern")

        # webcam (Chromium's fake camera) → kernel → published input track → the model counts frames
        page.locator(".rn-webcam-toggle").click()
        page.wait_for_function(
            "() => document.querySelector('.rn-webcam-note').textContent.includes('publishing to')"
        )
        wait_kernel_value(page, "print(rt.model.input_frames.get('webcam', 0) >= 5)", "True", timeout=20)
        page.locator(".rn-webcam-toggle").click()
        page.wait_for_function(
            "() => !document.querySelector('.rn-webcam-toggle').textContent.includes('stop')"
        )

        # a hidden output pauses the pump (nothing encoded); showing it again resumes with fresh frames
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:hide-all-cell-outputs')")
        wait_kernel_value(page, "print(w.pump.get_stats()['paused'])", "True")
        sent = int(kexec(page, "print(w.pump.get_stats()['sent'])"))
        page.wait_for_timeout(500)
        assert int(kexec(page, "print(w.pump.get_stats()['sent'])")) == sent
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:show-all-cell-outputs')")
        # shown again: the pump runs, unless the view shows direct WebRTC frames (widget/direct.py)
        wait_kernel_value(page, "print(w.pump.get_stats()['paused'] == (w.get_stats()['views_direct'] > 0))", "True")
        wait_drawn(page, canvas(page)["drawn"] + 5)

        # status follows a runtime stop; Retry reconnects to a runtime on the same port
        kexec(page, "port = rt.port; rt.stop()")
        page.wait_for_function(
            "() => document.querySelector('.rn-badge').textContent === 'disconnected'", timeout=15000
        )
        assert page.locator(".rn-error").is_visible() and page.locator(".rn-retry").is_visible()
        shot(page, "disconnected")
        kexec(page, "rt = LocalRuntime(model='testpattern', port=port).start()")
        drawn = canvas(page)["drawn"]
        page.locator(".rn-retry").click()
        page.wait_for_function(
            "() => document.querySelector('.rn-badge').textContent === 'ready'", timeout=20000
        )
        wait_drawn(page, drawn + 10)
        assert page.locator(".rn-error").is_hidden()
        assert page.console_errors == []
    finally:
        kexec(page, TEARDOWN)


def test_helios_prompt_start_timeline_and_model_error(page: Any, lab: Lab) -> None:
    open_widget(page, lab, "helios", "helios.ipynb")
    try:
        idle = canvas(page)
        assert page.locator('button[data-command="start"]').is_enabled()
        assert page.locator('button[data-command="pause"]').is_disabled()
        labels = page.evaluate(
            "() => Object.fromEntries([...document.querySelectorAll('.rn-transport button')]"
            ".map((b) => [b.dataset.command, b.textContent]))"
        )
        assert labels == dict(HELIOS.timeline["buttons"])  # the labels come from profiles/helios.py
        assert page.locator(".rn-state").inner_text() == "idle · frame 0 · chunk 0 · seed 0"

        # empty prompt: field error in the browser
        form = page.locator('form[data-command="set_prompt"]')
        form.locator('textarea[name="prompt"]').fill("")
        form.locator("button[type=submit]").click()
        assert "required field is missing" in form.locator(".rn-field-error").inner_text()

        # prompt + start: state follows, the timeline shows the prompt, pixels move
        form.locator('textarea[name="prompt"]').fill("A foggy harbour at dawn")
        form.locator("button[type=submit]").click()
        page.wait_for_function(
            "() => document.querySelector('.rn-chunk.rn-scheduled .rn-chunk-prompt')?.textContent === 'A foggy harbour at dawn'",
            timeout=10000,
        )
        page.locator('button[data-command="start"]').click()
        page.wait_for_function(
            "() => document.querySelector('.rn-state').dataset.mode === 'running'", timeout=10000
        )
        wait_canvas(page, f"s.checksum !== {idle['checksum']} && s.index !== {idle['index']}")
        first = canvas(page)
        wait_canvas(page, f"s.index > {first['index'] + 10}")
        assert page.locator('button[data-command="pause"]').is_enabled()
        assert page.locator('button[data-command="start"]').is_disabled()
        line = page.locator(".rn-state").inner_text()
        assert line.startswith("running · frame ") and "· chunk " in line and line.endswith("· “A foggy harbour at dawn”")
        state = kexec(page, "print(w.model_state['running'], w.model_state['scheduled_prompts'])").strip()
        assert state == "True {'0': 'A foggy harbour at dawn'}"

        # a prompt for a past chunk: the model's own error appears next to the form
        page.wait_for_function(
            "() => document.querySelector('.rn-chunk.rn-current')?.dataset.chunk >= '1'", timeout=10000
        )
        sp = page.locator('form[data-command="schedule_prompt"]')
        sp.locator('textarea[name="prompt"]').fill("Boats leave")
        sp.locator('input[type=number][name="chunk"]').fill("0")
        sp.locator("button[type=submit]").click()
        page.wait_for_function(
            "() => document.querySelector('form[data-command=schedule_prompt] [data-field=chunk] .rn-field-error').textContent.includes('in the past')",
            timeout=10000,
        )
        assert "past" in page.locator(".rn-model-error").inner_text()
        shot(page, "helios")

        # a reference image from a file: picked in the browser, sent as image_b64, accepted by the model
        img = lab.root / "ref.png"
        Image.fromarray(np.tile(np.linspace(0, 255, 320, dtype=np.uint8)[None, :, None], (200, 1, 3))).save(
            img
        )
        si = page.locator('form[data-command="set_image"]')
        si.locator('input[type=file][name="image_b64"]').set_input_files(str(img))
        page.wait_for_function(
            "() => document.querySelector('form[data-command=set_image] .rn-thumb')?.src?.startsWith('data:')"
        )
        si.locator("button[type=submit]").click()
        page.wait_for_function(
            "() => document.querySelector('form[data-command=set_image] .rn-form-result').textContent.includes('←')",
            timeout=10000,
        )  # the model's answer next to the form: its image_set event (wire v1 answers every command)
        assert si.locator(".rn-form-result").inner_text().startswith('← image_set {"width":320,"height":200')
        wait_kernel_value(page, "print(w.model_state.get('image_set'))", "True")

        # pause takes effect at the chunk end; the button state follows
        page.locator('button[data-command="pause"]').click()
        page.wait_for_function(
            "() => document.querySelector('.rn-state').dataset.mode === 'paused'", timeout=10000
        )
        assert page.locator('button[data-command="resume"]').is_enabled()
        assert page.console_errors == []
    finally:
        kexec(page, TEARDOWN)


JS_LAYOUT = """() => {
  const root = document.querySelector('.rn-root');
  const c = root.querySelector('canvas');
  return {fit: c.style.objectFit, width: c.style.width, height: c.style.height,
          forms: root.querySelector('.rn-forms').style.display};
}"""


def test_layout_traits_and_track_reach_the_page(page: Any, lab: Lab) -> None:
    open_widget(page, lab, "testpattern", "traits.ipynb")
    try:
        wait_drawn(page, 5)
        assert page.evaluate(JS_LAYOUT) == {"fit": "contain", "width": "", "height": "", "forms": ""}
        # fit / width / height / show_forms set in the kernel restyle the live view in the page
        kexec(page, "w.fit = 'cover'; w.width = 320; w.height = 200; w.show_forms = False")
        page.wait_for_function(f"() => JSON.stringify(({JS_LAYOUT})()) === "
                               "JSON.stringify({fit: 'cover', width: '320px', height: '200px', forms: 'none'})")
        assert page.locator('form[data-command="set_color"]').is_hidden()
        kexec(page, "w.fit = 'fill'; w.width = 0; w.show_forms = True")
        page.wait_for_function(f"() => ({JS_LAYOUT})().fit === 'fill' && ({JS_LAYOUT})().width === ''")
        assert page.locator('form[data-command="set_color"]').is_visible()
        # track: a track the session does not have shows nothing; the output track shows frames again
        kexec(page, "w.track = 'no_such_track'")
        wait_kernel_value(page, "print(w.pump.config.track)", "no_such_track")
        seq = int(kexec(page, "print(reactor.frames.seq)"))
        wait_kernel_value(page, f"print(reactor.frames.seq > {seq} + 5)", "True")  # a frame in flight lands
        shown = canvas(page)["index"]
        seq = int(kexec(page, "print(reactor.frames.seq)"))
        wait_kernel_value(page, f"print(reactor.frames.seq > {seq} + 10)", "True")  # frames keep arriving...
        assert canvas(page)["index"] == shown  # ...but the view stays on its last frame (a still at most)
        kexec(page, "w.track = 'main_video'")
        wait_drawn(page, canvas(page)["drawn"] + 5)
        assert page.console_errors == []
    finally:
        kexec(page, TEARDOWN)


"""Widget polish a new user sees, in real JupyterLab + headless Chromium over real WebRTC: the frame-index
code covered in the view (and explained when shown), the chunk field following the next open chunk
with a slider window, readable timeline labels, and the shared-session notice."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from browser_support import ARTIFACTS, Lab, canvas, kernel_ready, kexec, run_all, wait_drawn, write_notebook
from PIL import Image

from reactor_notebook.framecode import has_index_code

SETUP = """\
from reactor_notebook.runtime import LocalRuntime
from reactor_notebook.sdk import Reactor
from reactor_notebook.widget import ReactorWidget
import warnings
rt = LocalRuntime(model="helios", port=0).start()
first = Reactor("helios", local=True, local_url=rt.url)   # another client, as if from another notebook
first.connect_sync()
reactor = Reactor("helios", local=True, local_url=rt.url)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    reactor.connect_sync()
w = ReactorWidget(reactor, owns_reactor=True)
w"""

TEARDOWN = "w.close(); first.disconnect_sync(); rt.stop()"


def view_shot(page: Any) -> np.ndarray:
    """The live view as the user sees it (canvas plus anything laid over it), at the frame's resolution."""
    png = page.locator(".rn-view").screenshot()
    img = Image.open(io.BytesIO(png)).convert("RGB")
    return np.asarray(img.resize((640, round(640 * img.height / img.width))))


def chunk_field(page: Any) -> dict[str, Any]:
    return page.evaluate(
        """() => {
      const row = document.querySelector('form[data-command=schedule_prompt] [data-field=chunk]');
      const r = row.querySelector('input[type=range]'), n = row.querySelector('input[type=number]');
      const st = window.__reactorWidgets[0].model.get('model_state') || {};
      return {value: n.value, min: r.min, max: r.max, numberMin: n.min, numberMax: n.max,
              hint: row.querySelector('.rn-chunk-hint').textContent, chunk: st.current_chunk, running: st.running};
    }"""
    )


def test_index_code_chunk_field_timeline_labels_and_shared_notice(page: Any, lab: Lab) -> None:
    write_notebook(lab.root, "first_hour.ipynb", [SETUP])
    page.goto(lab.notebook_url("first_hour.ipynb"))
    kernel_ready(page)
    run_all(page)
    wait_drawn(page, 1, timeout_ms=60000)
    try:
        # another client holds the session: the widget says so
        assert page.locator(".rn-shared").inner_text() == (
            "Shared session: 1 other client (another notebook?) uses session local; their commands reach "
            "the same model, and this one will not stop it on disconnect."
        )

        # the chunk field: next open chunk before start (0), slider spanning a window, any value typeable
        f = chunk_field(page)
        assert (f["value"], f["min"], f["max"]) == ("0", "0", "32")
        assert (f["numberMin"], f["numberMax"]) == ("0", "1000000")
        assert f["hint"] == "now at chunk 0; next open chunk 0 (earlier chunks are past); slider 0 to 32, or type any chunk"

        long_prompt = "A foggy harbour at dawn with fishing boats leaving one by one"
        sp = page.locator('form[data-command="schedule_prompt"]')
        sp.locator('textarea[name="prompt"]').fill(long_prompt)
        sp.locator("button[type=submit]").click()  # the default chunk (0) is valid as it is
        page.wait_for_function(  # the model's answer next to the form (wire v1 answers every command)
            "() => document.querySelector('form[data-command=schedule_prompt] .rn-form-result').textContent.includes('←')",
            timeout=10000,
        )
        assert sp.locator(".rn-form-result").inner_text() == (
            f'← prompt_scheduled {{"prompt":"{long_prompt}","chunk":0}}'
        )
        sp.locator('textarea[name="prompt"]').fill("Night falls")
        sp.locator('input[type=number][name="chunk"]').fill("6")
        sp.locator("button[type=submit]").click()
        page.wait_for_function(
            "() => (window.__reactorWidgets[0].model.get('model_state')?.scheduled_prompts || {})['6'] === 'Night falls'",
            timeout=10000,
        )

        # readable labels: the chunk-0 label spans its cells up to chunk 6, ends in an ellipsis, has a tooltip
        label = page.evaluate(
            """() => {
          const tag = document.querySelector('.rn-chunk[data-chunk="0"] .rn-chunk-prompt');
          const cell = tag.parentElement;
          return {title: tag.title, text: tag.textContent, overflow: getComputedStyle(tag).textOverflow,
                  width: tag.getBoundingClientRect().width, cell: cell.getBoundingClientRect().width};
        }"""
        )
        assert label["title"] == f"chunk 0: {long_prompt}" and label["text"] == long_prompt
        assert label["overflow"] == "ellipsis"
        assert label["width"] >= 5 * label["cell"], label

        # running: the field follows the next open chunk (current + 1) and the window moves with it
        page.locator('button[data-command="start"]').click()
        page.wait_for_function(
            "() => (window.__reactorWidgets[0].model.get('model_state') || {}).current_chunk >= 1", timeout=20000
        )
        f = chunk_field(page)
        open_chunk = f["chunk"] + 1
        assert f["running"] is True
        assert (f["value"], f["min"], f["max"]) == (str(open_chunk), str(open_chunk), str(open_chunk + 32))

        # the index code: covered in the view, still in the frame (the canvas pixels keep counting)
        wait_drawn(page, canvas(page)["drawn"] + 5)
        a = canvas(page)
        page.wait_for_function(
            f"() => window.__reactorWidgets[0].debug.drawn > {a['drawn'] + 10}", timeout=10000
        )
        assert canvas(page)["index"] > a["index"]  # read from the canvas: the frame keeps the code
        assert page.locator(".rn-code-cover").is_visible()
        assert not has_index_code(view_shot(page))  # what the user sees has no code
        assert page.locator(".rn-code-note").is_hidden()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "widget-first-hour.png"), full_page=True)

        # shown on request, and explained where shown
        kexec(page, "w.show_index_code = True")
        page.wait_for_function("() => getComputedStyle(document.querySelector('.rn-code-cover')).display === 'none'")
        assert has_index_code(view_shot(page))
        assert page.locator(".rn-code-note").inner_text() == (
            "top-left blocks: frame number code (hover the picture for details)"
        )
        assert page.locator(".rn-view").get_attribute("title").startswith(
            "The black-and-white blocks at the top left encode the frame number"
        )
        assert page.console_errors == []
    finally:
        kexec(page, TEARDOWN)

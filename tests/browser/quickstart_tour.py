"""The quickstart as a new user meets it: Run All on ``notebooks/01_quickstart.ipynb`` in a real page.

Shared by the JupyterLab and Notebook 7 tests and by the wheel test (a Lab from a fresh venv).
After Run All the notebook must end on a live widget: frames keep arriving in the last view,
its forms reach the model (a prompt shows up in the drawn frames), a bad field is refused in
the browser, the model's own rejection appears next to the field, and the status badge says
``ready``. The runtime URL comes from ``REACTOR_LOCAL_URL`` in the server's environment.
"""

from __future__ import annotations

import pathlib
import shutil
from typing import Any

from browser_support import JS_CANVAS, Lab, kernel_ready, kexec, run_all

ROOT = pathlib.Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "notebooks" / "01_quickstart.ipynb"
CHUNK = 33  # Helios frames per chunk
IDLE = 0xFFFF  # frame code of the idle card

ALL_RAN = """(n) => {
  const nb = window.jupyterapp.shell.currentWidget.content;
  const cells = nb.widgets.filter((c) => c.model.type === 'code');
  const k = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  return cells.length === n && cells.every((c) => c.model.executionCount != null) && k.status === 'idle';
}"""

CELL_ERRORS = """() => window.jupyterapp.shell.currentWidget.content.widgets
  .filter((c) => c.model.type === 'code')
  .flatMap((c) => Array.from({length: c.model.outputs.length}, (_, i) => c.model.outputs.get(i).toJSON()))
  .filter((o) => o.output_type === 'error').map((o) => `${o.ename}: ${o.evalue}`)"""


def code_cells(path: pathlib.Path) -> int:
    import nbformat

    return sum(1 for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")


def last_view(page: Any) -> int:
    """Index (in the page's widget registry) of the newest widget view."""
    return int(page.evaluate("() => (window.__reactorWidgets || []).length - 1"))


def canvas_of(page: Any, n: int) -> dict[str, Any]:
    return page.evaluate(JS_CANVAS, n)


def wait_canvas(page: Any, n: int, pred: str, timeout_ms: float = 20000) -> None:
    page.wait_for_function(
        f"(n) => {{ const s = ({JS_CANVAS})(n); return !!s && ({pred}); }}", arg=n, timeout=timeout_ms
    )


def run_quickstart_tour(page: Any, lab: Lab) -> None:
    """Copy the quickstart into the server's root, Run All, and check the live end of the tour."""
    shutil.copy(QUICKSTART, lab.root / QUICKSTART.name)
    page.goto(lab.notebook_url(QUICKSTART.name))
    kernel_ready(page, timeout_ms=90000)
    run_all(page)
    page.wait_for_function(ALL_RAN, arg=code_cells(QUICKSTART), timeout=180000, polling=250)
    assert page.evaluate(CELL_ERRORS) == []

    n = last_view(page)
    assert n >= 1, "the quickstart shows the widget again at the end"
    assert kexec(page, "print(reactor.get_status().value)").strip().lower() == "ready"
    check_live_view(page, n)


def check_live_view(page: Any, n: int) -> None:
    """Host-neutral checks on widget view ``n``: live pixels, forms that change the stream, errors, status."""
    page.evaluate("(n) => { window.__reactorWidgets[n].el.dataset.testView = 'checked'; }", n)
    root = page.locator(".rn-root[data-test-view=checked]")
    root.scroll_into_view_if_needed()
    page.wait_for_function("(n) => window.__reactorWidgets[n].debug.drawn >= 10", arg=n, timeout=30000)
    a = canvas_of(page, n)
    wait_canvas(
        page, n, f"s.index !== {IDLE} && s.index > {a['index']} + 12 && s.checksum !== {a['checksum']}"
    )
    assert root.locator(".rn-badge").inner_text() == "ready"

    # a bad field is refused in the browser, by field, and nothing is sent
    form = root.locator('form[data-command="set_prompt"]')
    form.locator('textarea[name="prompt"]').fill("")
    form.locator("button[type=submit]").click()
    assert "required field is missing" in form.locator(".rn-field-error").first.inner_text()

    # a prompt typed in the last view reaches the model and shows in the drawn frames
    prompt = "A red lighthouse in the snow"
    form.locator('textarea[name="prompt"]').fill(prompt)
    form.locator("button[type=submit]").click()
    page.wait_for_function(
        "([n, p]) => { const m = window.__reactorWidgets[n].model.get('model_state');"
        " return !!m && m.current_prompt === p; }",
        arg=[n, prompt],
        timeout=20000,
    )
    chunk = int(page.evaluate("(n) => window.__reactorWidgets[n].model.get('model_state').current_chunk", n))
    wait_canvas(page, n, f"s.index !== {IDLE} && s.index >= {chunk * CHUNK}")

    # the model's own rejection (a prompt for a past chunk) appears next to the field
    sp = root.locator('form[data-command="schedule_prompt"]')
    sp.locator('textarea[name="prompt"]').fill("Too late")
    sp.locator('input[type=number][name="chunk"]').fill("0")
    sp.locator("button[type=submit]").click()
    sp.locator("[data-field=chunk] .rn-field-error", has_text="in the past").wait_for(timeout=15000)
    assert own_errors(page) == []


# Notebook 7.6's settings loader throws this once on a fresh settings directory (in its own
# bundle, before any widget exists); it is the host's, not ours.
HOST_ERRORS = [("Cannot read properties of undefined (reading 'schema')", "/static/notebook/notebook_core.")]


def own_errors(page: Any) -> list[str]:
    """Page errors, less the known ones thrown inside the host's own bundle."""
    return [
        stack
        for msg, stack in zip(page.console_errors, page.error_stacks, strict=True)
        if not any(m in msg and where in "".join(stack.split("\n")[1:2]) for m, where in HOST_ERRORS)
    ]

"""The front end keeps to the anywidget front-end module (AFM) standard, so any AFM host can run it.

AFM hosts (JupyterLab, Notebook 7, VS Code and Colab through the anywidget library, marimo
natively) promise only: a default export with ``render({model, el})`` (optionally returning a
cleanup), and a ``model`` with ``get``, ``set``, ``save_changes``, ``on``/``off``
(``change:<trait>`` callbacks get no arguments; ``msg:custom`` gets ``(msg, buffers)``) and
``send(content, callbacks, buffers)``. This test reads ``js/src`` and fails on anything more.
"""

from __future__ import annotations

import pathlib
import re

SRC = pathlib.Path(__file__).resolve().parents[2] / "js" / "src"
AFM_MODEL = {"get", "set", "save_changes", "on", "off", "send"}
HOST_ONLY = [
    "jupyterapp",  # JupyterLab's application object
    "@jupyterlab",
    "@jupyter-widgets",
    "widget_manager",
    "Jupyter.",
    "IPython",
    "require(",
    "google.colab",
    "acquireVsCodeApi",
    "model.comm",
]


def sources() -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(SRC.glob("*.js"))}


def test_only_the_afm_model_interface_is_used() -> None:
    used = {m for text in sources().values() for m in re.findall(r"\bmodel\.(\w+)", text)}
    assert used <= AFM_MODEL, f"non-AFM model APIs: {sorted(used - AFM_MODEL)}"


def test_no_host_specific_api_is_touched() -> None:
    hits = [(name, word) for name, text in sources().items() for word in HOST_ONLY if word in text]
    assert hits == []


def test_change_callbacks_take_no_arguments() -> None:
    """``model.on("change:x", cb)``: cb must not read arguments (AFM passes none)."""
    index = sources()["index.js"]
    for m in re.finditer(r'\["(change:[^"]+)",\s*(\([^)]*\))', index):
        assert m.group(2) == "()", f"{m.group(1)} handler takes arguments {m.group(2)}"


def test_default_export_is_an_afm_object_with_render() -> None:
    index = sources()["index.js"]
    assert re.search(r"export default \{\s*render\s*\}", index)
    assert re.search(r"function render\(\{\s*model,\s*el\s*\}\)", index)

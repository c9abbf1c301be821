"""The shipped notebooks: committed without outputs, and executed headless against the embedded runtime.

Each executed notebook starts its own kernel (nbclient, kernel ``python3``); the kernel starts the
embedded Helios runtime on a free port taken from ``REACTOR_LOCAL_URL``. The Colab notebook also
runs its API-key path, against a local runtime that requires a unique fake key, and the saved
executed notebook must not contain that key anywhere.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient
from testutil import free_local_url

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
NAMES = [p.name for p in NOTEBOOKS]


def execute(path: Path, workdir: Path) -> Any:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=90, kernel_name="python3", resources={"metadata": {"path": str(workdir)}}, allow_errors=False
    )
    client.execute()
    return nb


def outputs_text(nb: Any) -> str:
    """All outputs of all cells as one string (text, HTML, errors, widget views)."""
    return json.dumps([c.get("outputs", []) for c in nb.cells])


def test_all_four_notebooks_are_shipped() -> None:
    assert NAMES == ["01_quickstart.ipynb", "02_frame_analysis.ipynb", "03_colab_demo.ipynb", "04_stepped_generation.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NAMES)
def test_committed_notebooks_have_no_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name}: a code cell has outputs"
            assert cell.execution_count is None, f"{path.name}: a code cell has an execution count"
    assert "widgets" not in nb.metadata, f"{path.name}: widget state saved in metadata"
    assert not re.search(r"rk_[A-Za-z0-9]{8,}", path.read_text()), f"{path.name}: looks like it holds an API key"


@pytest.mark.timeout(240)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=NAMES)
def test_notebook_runs_headless_against_the_embedded_runtime(
    path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = free_local_url()
    monkeypatch.setenv("REACTOR_LOCAL_URL", url)
    monkeypatch.delenv("REACTOR_API_KEY", raising=False)
    nb = execute(path, tmp_path)
    text = outputs_text(nb)
    assert f"helios at {url}" in text  # connected where the environment said
    assert '"output_type": "error"' not in text
    if path.name == "02_frame_analysis.ipynb":
        assert "image/png" in text  # the matplotlib figure
        assert "clip.mp4" in text
    if path.name == "03_colab_demo.ipynb":
        assert "mode: embedded runtime" in text
    if path.name == "04_stepped_generation.ipynb":
        assert "same seed and commands, identical frames: True" in text
        assert "another seed, different frames: True" in text
        assert "magic steps agree: True" in text
        assert "image/png" in text and "latency_ms" in text  # the grid and the statistics table


@pytest.mark.timeout(240)
def test_colab_notebook_api_key_path_never_leaks_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from reactor_notebook.runtime import LocalRuntime

    key = f"rk_test_{uuid.uuid4().hex}"
    with LocalRuntime(model="helios", port=0, api_key=key) as rt:
        url = rt.url
        monkeypatch.setenv("REACTOR_API_KEY", key)
        monkeypatch.setenv("REACTOR_API_URL", url)
        monkeypatch.setenv("REACTOR_LOCAL_URL", free_local_url())
        nb = execute(ROOT / "notebooks" / "03_colab_demo.ipynb", tmp_path)
    saved = tmp_path / "executed.ipynb"
    nbformat.write(nb, saved)
    text = saved.read_text()
    assert "mode: cloud" in text and f"helios at {url}" in text  # the key path really ran
    assert key not in text
    assert key[8:] not in text  # not even the random part
    assert os.environ["REACTOR_API_KEY"] == key


@pytest.mark.parametrize("name", ["01_quickstart.ipynb", "03_colab_demo.ipynb"])
def test_widget_notebooks_end_on_the_live_widget_and_only_explain_cleanup(name: str) -> None:
    """Run All must leave a live stream: the last code cell shows the widget, nothing disconnects."""
    nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    code = [c.source.strip() for c in nb.cells if c.cell_type == "code"]
    assert code[-1] == "view"
    assert "%reactor show -o view" in code
    assert not any("disconnect" in src for src in code)
    last_md = [c.source for c in nb.cells if c.cell_type == "markdown"][-1]
    assert "%reactor disconnect" in last_md and "kernel" in last_md

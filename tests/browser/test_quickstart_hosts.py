"""Run All on the quickstart in JupyterLab and in Notebook 7 (headless Chromium, embedded runtime).

Each host gets its own server with ``REACTOR_LOCAL_URL`` pointing at a free port, so the
notebook's ``%reactor connect --local`` starts the embedded runtime there; the checks are
the shared tour in ``quickstart_tour.py``: live frames in the page, forms that change the
stream, field and model errors, status.
"""

from __future__ import annotations

import pathlib
from typing import Any

import pytest
from browser_support import run_lab
from quickstart_tour import run_quickstart_tour
from testutil import free_local_url


@pytest.mark.timeout(420)
@pytest.mark.parametrize("app", ["jupyterlab", "notebook"], ids=["lab", "notebook7"])
def test_run_all_quickstart_ends_on_a_live_widget(app: str, page: Any, tmp_path: pathlib.Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    with run_lab(root, app=app, env={"REACTOR_LOCAL_URL": free_local_url()}) as server:
        run_quickstart_tour(page, server)

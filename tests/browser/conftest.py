"""JupyterLab server and Chromium for the browser tests (marked ``browser``).

Module-scoped on purpose: Playwright's sync API marks the main thread as running an event
loop while it is alive, which would break every asyncio test collected after this folder.
"""

from __future__ import annotations

import pathlib
from collections.abc import Iterator
from typing import Any

import pytest
from browser_support import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, Lab, run_lab


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if pathlib.Path(str(item.fspath)).parent == pathlib.Path(__file__).parent:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    root = tmp_path_factory.mktemp("nbroot")
    with run_lab(root) as server:
        yield server


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    if not pathlib.Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not found")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    ctx = chromium.new_context(viewport={"width": 1280, "height": 1000})
    pg = ctx.new_page()
    errors: list[str] = []
    stacks: list[str] = []

    def on_error(exc: Any) -> None:
        errors.append(str(exc))
        stacks.append(str(getattr(exc, "stack", "") or ""))

    pg.on("pageerror", on_error)
    pg.console_errors = errors
    pg.error_stacks = stacks
    yield pg
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        pg.screenshot(path=str(ARTIFACTS / f"browser-{request.node.name}-final.png"))
    except Exception:
        pass
    ctx.close()

"""Fixtures of the interop suite: our runtime in-process, official clients out of process.

PY08 runs in its own venv (``py08_env``), JS29 in headless Debian Chromium driven by Playwright
(``js_env``). Every runtime binds an ephemeral port except the one PY08's local mode needs: PY08
hard-codes ``http://localhost:8080``, so that fixture skips with a reason when 8080 is taken.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from harness import CLIENTS, ClientProcess, client_pool, port_holder, port_in_use  # noqa: E402
from js_env import CHROMIUM, CHROMIUM_ARGS, ensure_bundle, serve_page  # noqa: E402
from py08_env import ensure_py08_venv  # noqa: E402
from testutil import poll_until  # noqa: E402

PY08_LOCAL_PORT = 8080
PAGE_TIMEOUT_MS = 20_000


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/interop talks to an official client."""
    for item in items:
        if Path(str(item.fspath)).resolve().is_relative_to(HERE):
            item.add_marker(pytest.mark.official)


@pytest.fixture(scope="session")
def py08_python() -> Path:
    """The interpreter of the reactor-sdk 0.8.0 venv (created on first use)."""
    return ensure_py08_venv()


@pytest.fixture
def py08(py08_python: Path) -> Iterator[Callable[..., ClientProcess]]:
    """Factory of PY08 driver subprocesses; every one is closed (and disconnects) at teardown."""
    with client_pool() as spawn:
        yield lambda *args: spawn([str(py08_python), str(CLIENTS / "py08_driver.py"), *args])


def start_runtime(**kwargs: Any) -> Any:
    """Start a LocalRuntime (the in-process handle of our runtime) and return it."""
    from reactor_notebook.runtime import LocalRuntime

    kwargs.setdefault("host", "127.0.0.1")
    kwargs.setdefault("port", 0)
    rt = LocalRuntime(**kwargs)
    rt.start()
    return rt


@pytest.fixture(scope="module")
def runtime_factory() -> Iterator[Callable[..., Any]]:
    """Start runtimes for a test module; all are stopped when the module ends."""
    started: list[Any] = []

    def make(**kwargs: Any) -> Any:
        rt = start_runtime(**kwargs)
        started.append(rt)
        return rt

    yield make
    for rt in started:
        rt.stop()


@pytest.fixture(scope="module")
def rt_testpattern(runtime_factory: Callable[..., Any]) -> Any:
    """A testpattern runtime on an ephemeral port (cloud-like and explicit-URL clients)."""
    return runtime_factory(model="testpattern")


@pytest.fixture(scope="module")
def rt_helios(runtime_factory: Callable[..., Any]) -> Any:
    """A helios runtime on an ephemeral port."""
    return runtime_factory(model="helios")


@pytest.fixture(scope="module")
def rt_local8080(runtime_factory: Callable[..., Any]) -> Any:
    """A testpattern runtime on 127.0.0.1:8080, the only base URL PY08's ``local=True`` uses."""
    # Only this group binds 8080 (tests/conftest.py EXCLUSIVE; every other test uses a free port),
    # so a holder is a leak from this group's previous module: give it time to go, then fail loudly.
    try:
        poll_until(lambda: not port_in_use(PY08_LOCAL_PORT), 30, f"port {PY08_LOCAL_PORT} free")
    except AssertionError:
        pytest.fail(f"port {PY08_LOCAL_PORT} stayed busy (held by {port_holder(PY08_LOCAL_PORT)}): PY08 local "
                    f"mode hard-codes http://localhost:{PY08_LOCAL_PORT}, and no other test may bind it")
    try:
        return runtime_factory(model="testpattern", port=PY08_LOCAL_PORT)
    except OSError as exc:  # lost a race for the port
        pytest.fail(f"could not bind port {PY08_LOCAL_PORT} for PY08 local mode: {exc}")


# ---------------------------------------------------------------------------------------------
# JS29 in headless Chromium
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium (the system binary, not Playwright's download)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    ensure_bundle()
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def page_url() -> Iterator[str]:
    with serve_page() as url:
        yield url


@pytest.fixture
def page(browser: Any, page_url: str) -> Iterator[Any]:
    """A fresh page with the bundled SDK loaded; console errors are kept for failure messages."""
    context = browser.new_context()
    page = context.new_page()
    page.console_errors = []
    page.on("pageerror", lambda err: page.console_errors.append(f"pageerror: {err}"))
    page.on("console", lambda msg: page.console_errors.append(msg.text) if msg.type == "error" else None)
    page.goto(page_url)
    page.wait_for_function("window.js29 !== undefined", timeout=PAGE_TIMEOUT_MS)
    yield page
    try:
        if page.evaluate("js29.status()") not in (None, "disconnected"):
            page.evaluate("js29.disconnect()")
    finally:
        context.close()

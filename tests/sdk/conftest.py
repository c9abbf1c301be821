"""Fixtures for SDK tests: a real testpattern runtime and a connected local Reactor."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from testutil import Recorder

from reactor_notebook.runtime import LocalRuntime
from reactor_notebook.sdk import Reactor


@pytest.fixture(scope="module")
def runtime() -> Iterator[LocalRuntime]:
    """One real testpattern runtime per test module (each test starts and stops its own session)."""
    with LocalRuntime(model="testpattern", port=0) as rt:
        yield rt


@pytest.fixture
async def local_reactor(runtime: LocalRuntime) -> AsyncIterator[tuple[Reactor, Recorder]]:
    """A connected local-mode Reactor with a recorder attached; always disconnected afterwards."""
    r = Reactor("testpattern", local=True, local_url=runtime.url)
    rec = Recorder().attach(r)
    await r.connect()
    try:
        yield r, rec
    finally:
        await r.disconnect()

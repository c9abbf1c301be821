"""Fixtures for %reactor tests: a real IPython shell with the extension loaded and a fake session factory."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell
from magic_support import FakeReactor
from testutil import free_local_url

from reactor_notebook import magic


class Ensure:
    """Stands in for LocalRuntime.ensure and remembers its calls."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.stopped = 0

    def __call__(self, **kwargs: Any) -> Ensure:
        self.calls.append(kwargs)
        return self

    def stop(self) -> None:
        self.stopped += 1


@pytest.fixture
def ensure() -> Ensure:
    return Ensure()


@pytest.fixture
def ip(monkeypatch: pytest.MonkeyPatch, ensure: Ensure) -> Iterator[InteractiveShell]:
    shell = InteractiveShell.instance()
    monkeypatch.setattr(magic.ReactorMagics, "reactor_factory", staticmethod(FakeReactor))
    monkeypatch.setattr(magic.ReactorMagics, "runtime_ensure", staticmethod(ensure))
    monkeypatch.delenv("REACTOR_LOCAL_URL", raising=False)
    FakeReactor.instances.clear()
    magic.unload_ipython_extension(shell)
    magic.load_ipython_extension(shell)
    yield shell
    for r in FakeReactor.instances:
        r.stop_stream()
    magic.unload_ipython_extension(shell)
    for name in ("reactor", "frames", "recording", "meta", "w", "r2"):
        shell.user_ns.pop(name, None)


@pytest.fixture
def connected(ip: InteractiveShell, unused_url: str) -> FakeReactor:
    ip.run_line_magic("reactor", f"connect --local --url {unused_url}")
    return ip.user_ns["reactor"]


@pytest.fixture
def unused_url() -> str:
    """A loopback URL where nothing listens (the port was free a moment ago)."""
    return free_local_url()

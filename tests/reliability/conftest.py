"""Fixtures of the reliability suite (faults, fuzz, load, secrets); every test here is ``reliability``."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from support import RuntimeProcess  # noqa: E402


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/reliability is marked ``reliability``."""
    for item in items:
        if Path(str(item.fspath)).resolve().is_relative_to(HERE):
            item.add_marker(pytest.mark.reliability)


@pytest.fixture
def runtime_process() -> Iterator[Callable[..., RuntimeProcess]]:
    """Factory of runtime subprocesses (own process groups); all stopped by PID at teardown."""
    started: list[RuntimeProcess] = []

    def make(*args: str, **kwargs: Any) -> RuntimeProcess:
        rt = RuntimeProcess(*args, **kwargs)
        started.append(rt)
        return rt.start()

    yield make
    for rt in started:
        rt.stop()

"""Fixtures for widget unit tests: capture what the widget sends to the front end."""

from __future__ import annotations

from typing import Any

import ipywidgets
import pytest
from widget_support import FakeReactor

from reactor_notebook.widget import ReactorWidget


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[dict[str, Any], list[Any]]]:
    """Every custom message the widget sends (content, buffers)."""
    log: list[tuple[dict[str, Any], list[Any]]] = []

    def fake_send(self: Any, content: Any, buffers: Any = None) -> None:
        log.append((content, list(buffers or [])))

    monkeypatch.setattr(ipywidgets.DOMWidget, "send", fake_send)
    return log


@pytest.fixture
def reactor() -> FakeReactor:
    return FakeReactor()


@pytest.fixture
def widget(reactor: FakeReactor, sent: list[Any]) -> Any:
    w = ReactorWidget(reactor)
    yield w
    w.close()

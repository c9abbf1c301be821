"""Driving the JS29 page (tests/interop/js/page.js) from Playwright: waits, event log, connect."""

from __future__ import annotations

from typing import Any

TIMEOUT_MS = 20_000


def events(page: Any, ev: str | None = None) -> list[dict[str, Any]]:
    """The page's event log (optionally one kind)."""
    return [e for e in page.evaluate("js29.events()") if ev is None or e["ev"] == ev]


def describe(page: Any) -> str:
    """Recent page events and console errors, for assertion messages."""
    lines = [str(e)[:300] for e in events(page) if e["ev"] not in ("stats",)][-30:]
    return "\n".join(["page events:", *lines, "console errors:", *page.console_errors[-10:]])


def wait_js(page: Any, expression: str, what: str, timeout_ms: int = TIMEOUT_MS, arg: Any = None) -> Any:
    """Wait for a JS predicate (polled by Chromium); fail with the page's event log."""
    try:
        return page.wait_for_function(expression, arg=arg, timeout=timeout_ms).json_value()
    except Exception as exc:
        raise AssertionError(f"timed out waiting for {what}: {exc}\n{describe(page)}") from None


def connect(
    page: Any, *, api_url: str, local: bool, model: str = "testpattern", jwt: str | None = None
) -> None:
    """Create a JS29 Reactor and connect; wait for READY (connect() returns before it, pitfall 4)."""
    page.evaluate("(o) => js29.create(o)", {"apiUrl": api_url, "local": local, "modelName": model})
    page.evaluate("(jwt) => js29.connect(jwt === null ? undefined : jwt)", jwt)
    wait_js(page, "js29.status() === 'ready'", "status ready")
    statuses = [e["status"] for e in events(page, "status")]
    assert statuses[:3] == ["connecting", "waiting", "ready"], describe(page)
    assert not events(page, "connect_failed"), describe(page)


def http_trace(page: Any) -> list[tuple[str, str, int]]:
    """(method, path, status) of every fetch the SDK made."""
    return [(e["method"], e["path"], e["status"]) for e in events(page, "http")]

"""Unit tests of the direct-view decision (widget/direct.py) and its hook into the widget."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from reactor_notebook.widget.direct import ViewPaths, direct_url, pump_paused


def reactor(**kw: Any) -> SimpleNamespace:
    base = {"local": True, "base_url": "http://127.0.0.1:8080/", "_api_key": None, "_jwt": None}
    return SimpleNamespace(**{**base, **kw})


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        ({}, "http://127.0.0.1:8080"),
        ({"base_url": "http://localhost:9000"}, "http://localhost:9000"),
        ({"base_url": "http://[::1]:8080"}, "http://[::1]:8080"),
        ({"local": False}, None),  # cloud or cloud-like: transport routes need a token
        ({"_api_key": "sk-1"}, None),  # a key must never reach the page
        ({"_jwt": "eyJ.x.y"}, None),
        ({"base_url": "http://192.0.2.7:8080"}, None),  # another host may be out of the browser's reach
        ({"base_url": "https://api.reactor.inc"}, None),
        ({"base_url": "ws://127.0.0.1:8080"}, None),
        ({"base_url": "http://user:pw@127.0.0.1:8080"}, None),
        ({"base_url": None}, None),
    ],
)
def test_direct_url_only_for_keyless_loopback_local_runtimes(kw: dict[str, Any], expected: str | None) -> None:
    assert direct_url(reactor(**kw)) == expected


def test_direct_url_refuses_objects_without_the_attributes() -> None:
    assert direct_url(object()) is None


def test_view_paths_pause_the_pump_only_when_no_visible_view_needs_jpeg() -> None:
    paths = ViewPaths()
    views = {"a": True, "b": False}
    assert pump_paused(views, paths) is False  # a new view needs JPEG until it reports direct
    assert paths.report("a", "direct") is True
    assert pump_paused(views, paths) is True  # b is hidden: nobody needs JPEG
    views["b"] = True
    assert pump_paused(views, paths) is False
    paths.report("b", "direct")
    assert pump_paused(views, paths) is True
    paths.report("a", "jpeg")  # a stalled: JPEG again
    assert pump_paused(views, paths) is False
    assert paths.counts() == {"direct": 1, "jpeg": 1}
    paths.forget("a")
    assert paths.counts() == {"direct": 1, "jpeg": 0}
    assert pump_paused({}, paths) is True


def test_view_paths_ignore_malformed_reports() -> None:
    paths = ViewPaths()
    assert paths.report("a", "webcodecs") is False
    assert paths.report(3, "direct") is False
    assert paths.counts() == {"direct": 0, "jpeg": 0}


def test_widget_offers_direct_only_to_keyless_local_reactors_and_pauses_for_direct_views(sent: Any) -> None:
    from widget_support import SECRET, FakeReactor

    from reactor_notebook.widget import ReactorWidget

    keyed = FakeReactor()  # holds an API key: never offered
    w = ReactorWidget(keyed)
    try:
        assert w.direct_url is None and SECRET not in str(w.get_state())
    finally:
        w.close()

    local: Any = FakeReactor()  # as a keyless local-mode reactor
    local.api_key = None
    local.local, local.base_url = True, "http://127.0.0.1:8123"
    w = ReactorWidget(local)
    try:
        assert w.direct is True and w.direct_url == "http://127.0.0.1:8123"
        w._on_custom(w, {"type": "ready", "view": "v"}, [])
        assert w.pump.get_stats()["paused"] is False
        w._on_custom(w, {"type": "view_path", "view": "v", "path": "direct"}, [])
        assert w.pump.get_stats()["paused"] is True and w.get_stats()["views_direct"] == 1
        w._on_custom(w, {"type": "view_path", "view": "v", "path": "jpeg"}, [])  # direct stalled
        assert w.pump.get_stats()["paused"] is False
        w.direct = False  # force JPEG: the page is told there is no direct URL
        assert w.direct_url is None
    finally:
        w.close()
    w = ReactorWidget(local, direct=False)
    try:
        assert w.direct_url is None
    finally:
        w.close()

"""The direct view: the browser joins the kernel's local runtime session as a second WebRTC connection.

A local runtime on a loopback URL that needs no API key or token can be reached by the page
itself, so the front end (``js/src/direct.js``) opens its own receive-only connection and the
browser decodes the video natively; the kernel keeps its connection for NumPy frames and stops
JPEG-encoding for views that report ``{"type": "view_path", "path": "direct"}``. Anything else
(cloud or cloud-like sessions, keys, tokens, remote hosts) keeps the JPEG path. No secret is
ever exposed: only the runtime's base URL and the session id reach the front end.
"""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import urlsplit

from ..sdk.ice import is_loopback_url

PATHS = ("direct", "jpeg")


def direct_url(reactor: Any) -> str | None:
    """The runtime base URL the page may join directly, or None when the JPEG path must be used.

    Offered only for a local-mode reactor on an http(s) loopback URL with no API key or token
    configured: a key or token must never reach the page, and a remote runtime may be out of
    the browser's reach.
    """
    if getattr(reactor, "local", False) is not True:
        return None
    if any(getattr(reactor, name, None) for name in ("_api_key", "_jwt", "api_key", "jwt")):
        return None
    url = getattr(reactor, "base_url", None)
    if not isinstance(url, str):
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or parts.username or parts.password or parts.query:
        return None
    if not is_loopback_url(url):
        return None
    return url.rstrip("/")


class ViewPaths:
    """Which path each front-end view shows frames through; the pump works only for JPEG views."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._paths: dict[str, str] = {}

    def report(self, view: Any, path: Any) -> bool:
        """Record a view's ``view_path`` message; False if it is malformed (ignored)."""
        if not isinstance(view, str) or path not in PATHS:
            return False
        with self._lock:
            self._paths[view] = path
        return True

    def forget(self, view: str) -> None:
        """A view closed."""
        with self._lock:
            self._paths.pop(view, None)

    def needs_jpeg(self, view: str) -> bool:
        """True unless ``view`` reported that direct frames are flowing."""
        with self._lock:
            return self._paths.get(view, "jpeg") != "direct"

    def counts(self) -> dict[str, int]:
        """Views per path (for stats)."""
        with self._lock:
            values = list(self._paths.values())
        return {p: values.count(p) for p in PATHS}


def pump_paused(views: dict[str, bool], paths: ViewPaths) -> bool:
    """The pump pauses when no visible view needs JPEG frames (hidden, closed, or shown directly)."""
    return not any(visible and paths.needs_jpeg(view) for view, visible in views.items())

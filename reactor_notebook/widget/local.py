"""``ReactorWidget.local()``: find (or start) the local runtime, connect, display.

The URL follows the same rule as the SDK and the magic: ``url=``, else ``host``/``port`` when
given, else ``$REACTOR_LOCAL_URL``, else http://localhost:8080. The embedded runtime is started
there only when the host is this machine and nothing listens yet.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

LOOPBACK = ("localhost", "127.0.0.1", "::1", "0.0.0.0")


def local_url(url: str | None, host: str | None, port: int | None) -> str:
    """The runtime URL ``.local()`` uses (see module doc)."""
    from ..sdk.session import local_base_url

    if url:
        return url.rstrip("/")
    if host is None and port is None:
        return local_base_url()
    base = urllib.parse.urlsplit(local_base_url())
    h = host or base.hostname or "127.0.0.1"
    h = f"[{h}]" if ":" in h and not h.startswith("[") else h
    return f"http://{h}:{port if port is not None else (base.port or 8080)}"


def ensure_runtime(url: str, model: str, model_options: dict[str, Any] | None) -> Any:
    """Start the embedded runtime at a loopback ``url`` where nothing listens; its handle, or None."""
    from ..runtime import LocalRuntime

    parts = urllib.parse.urlsplit(url)
    if parts.hostname not in LOOPBACK:
        return None
    kw: dict[str, Any] = {"model": model, "port": parts.port or 80}
    if parts.hostname not in ("localhost", "127.0.0.1"):
        kw["host"] = parts.hostname
    if model_options:
        kw["model_options"] = model_options
    return LocalRuntime.ensure(**kw)


def in_kernel() -> bool:
    """True inside a Jupyter kernel (where ``display()`` shows a widget)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None

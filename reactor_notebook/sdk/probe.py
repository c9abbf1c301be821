"""Is a runtime listening at this URL? Asked by front ends before they start the embedded runtime there.

The ``%reactor`` magic starts the embedded simulator only at a loopback address where nothing
listens yet; front ends ask this module rather than opening sockets themselves.
"""

from __future__ import annotations

import socket
import urllib.parse
from typing import NamedTuple

LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1", "0.0.0.0")


class RuntimeTarget(NamedTuple):
    """Where a runtime URL points: host, port, whether it is this machine and whether something listens."""

    host: str
    port: int
    loopback: bool
    listening: bool


def probe_runtime(url: str, timeout: float = 0.5) -> RuntimeTarget:
    """Parse a runtime URL and check whether a server accepts connections there.

    Raises ValueError for a URL that is not ``http(s)://host[:port]``.
    """
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"--url must look like http://127.0.0.1:8080, got {url!r}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    host = parts.hostname
    return RuntimeTarget(host, port, host in LOOPBACK_HOSTS, _accepts(host, port, timeout))


def _accepts(host: str, port: int, timeout: float) -> bool:
    """True if a TCP server accepts a connection on host:port within ``timeout`` seconds."""
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError:
        return False
    return True

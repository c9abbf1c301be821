"""Helpers every test folder shares (the suite's one test-utils module; ``tests/`` is on sys.path)."""

from __future__ import annotations

import socket


def free_local_url() -> str:
    """A loopback URL on a port that was free a moment ago (a runtime started by the test binds it).

    Tests never let an embedded runtime take its default port 8080: reactor-sdk 0.8.0's local mode
    is hard-wired to that port, and its interop tests need it while other workers run.
    """
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"

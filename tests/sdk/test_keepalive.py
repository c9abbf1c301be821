"""Keepalive (protocol.md §4.2) through a real runtime with a shortened watchdog.

The runtime closes a connection after ``keepalive_timeout`` s without any message on ``data``;
the SDK's ``ping`` keeps it READY. The same runtime drops a client that pings too rarely, so
the positive result cannot come from a watchdog that never fires.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sdk_support import next_frames
from testutil import Recorder

from reactor_notebook.runtime import LocalRuntime
from reactor_notebook.sdk import Reactor, ReactorStatus

TIMEOUT = 1.0


@pytest.fixture(scope="module")
def strict_runtime() -> Iterator[LocalRuntime]:
    with LocalRuntime(model="testpattern", port=0, keepalive_timeout=TIMEOUT, keepalive_check=0.25) as rt:
        yield rt


async def test_pings_keep_the_connection_ready_past_the_watchdog(strict_runtime: LocalRuntime) -> None:
    r = Reactor("testpattern", local=True, local_url=strict_runtime.url, ping_interval=0.2)
    rec = Recorder().attach(r)
    await r.connect()
    try:
        end = time.monotonic() + 2.5 * TIMEOUT
        while time.monotonic() < end:
            await next_frames(r, 1)
        assert r.get_status() is ReactorStatus.READY
        assert ReactorStatus.DISCONNECTED not in rec.of("status_changed")
    finally:
        await r.disconnect()


async def test_without_pings_the_runtime_drops_the_connection(strict_runtime: LocalRuntime) -> None:
    r = Reactor("testpattern", local=True, local_url=strict_runtime.url, ping_interval=60)
    rec = Recorder().attach(r)
    await r.connect()
    try:
        await rec.await_(
            lambda: ReactorStatus.DISCONNECTED in rec.of("status_changed"),
            timeout=4 * TIMEOUT + 5,
            what="the runtime's keepalive watchdog closing the silent connection",
        )
        assert r.get_session_id() == "local"  # a recoverable disconnect keeps the session
    finally:
        await r.disconnect()

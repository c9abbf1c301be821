"""Keepalive: the official clients' 5 s data-channel pings hold a connection open past the watchdog.

protocol.md §4.2: the runtime closes a connection after ``keepalive_timeout`` of silence on
``data``. Both runtimes here use a short watchdog (7 s instead of 20 s) so the test stays short
while still needing at least two pings from each client to survive; without pings the runtime
would close both connections and the clients would leave READY.
"""

from __future__ import annotations

import time
from typing import Any

from harness import frame_indices, health, increasing_run
from jspage import connect, describe

WATCHDOG = 7.0  # seconds of data-channel silence after which the runtime closes a connection
HOLD = 2 * WATCHDOG  # observed window: only pings can keep the connections open this long


def test_pings_keep_both_clients_connected_past_the_watchdog(
    runtime_factory: Any, py08: Any, page: Any
) -> None:
    options = {"model": "testpattern", "keepalive_timeout": WATCHDOG, "keepalive_check": 0.5}
    rt_py, rt_js = runtime_factory(**options), runtime_factory(**options)
    client = py08("--mode", "cloud", "--api-url", rt_py.url, "--api-key", "k", "--frame-every", "12")
    client.connect_ready()
    connect(page, api_url=rt_js.url, local=True)

    deadline = time.monotonic() + HOLD
    while (left := deadline - time.monotonic()) > 0:
        # Fails as soon as either client leaves READY; otherwise observes the whole window.
        assert client.statuses()[-1] == "ready", client.describe()
        assert page.evaluate("js29.status()") == "ready", describe(page)
        changed = [e for e in client.of("status") if e["status"] != "ready" and e["t"] > deadline - HOLD]
        assert not changed, client.describe()
        page.wait_for_timeout(min(500, left * 1000))

    assert health(rt_py.url)["state"] == "STREAMING"
    assert health(rt_js.url)["state"] == "STREAMING"
    assert not client.of("error"), client.describe()
    indices = frame_indices(client.wait_frames(3, 10, start=client.mark()))
    assert increasing_run(indices) and indices[-1] > indices[0], indices
    since = page.evaluate("performance.now()")
    page.wait_for_function("(t) => js29.frames(t).length >= 5", arg=since, timeout=10_000)

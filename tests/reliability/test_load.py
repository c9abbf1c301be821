"""Load: many sequential sessions against one runtime, and concurrent sessions.

* Sequential (own 300 s timeout): ``REACTOR_LOAD_CYCLES`` (default 200, about 0.3 s each on loopback) connect →
  stream → disconnect cycles against one runtime process without restart. All must succeed; client fds/threads return to the baseline and
  client and runtime RSS stay flat (figures printed).
* Concurrent: while a cloud-like session streams, a local ``/start_session`` is refused with 409
  (the SDK raises ConflictError) and a second cloud session is queued PENDING; neither disturbs
  the first. A second *local* client joins the local session as another connection (served).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
from support import RuntimeProcess, http, record_figure, rss_mb, settle, snapshot
from testutil import poll_until

from reactor_notebook import protocol
from reactor_notebook.sdk import ConflictError, Reactor, ReactorStatus

S = ReactorStatus
CYCLES = int(os.environ.get("REACTOR_LOAD_CYCLES", "200"))


@pytest.fixture(scope="module")
def rt() -> Iterator[RuntimeProcess]:
    with RuntimeProcess("--keepalive-check", "0.2") as proc:
        yield proc


def _frames(r: Reactor, n: int, timeout: float = 15.0) -> None:
    seq = r.frames.seq
    try:
        poll_until(lambda: r.frames.seq >= seq + n, timeout, f"{n} frames")
    except AssertionError as exc:
        transport = r._transport
        detail = {"status": r.get_status().value, "stats": r.get_stats(),
                  "rx_packets": transport.rx_packets() if transport else None,
                  "tracks": list(transport.remote_tracks) if transport else None}
        raise AssertionError(f"{exc}; {detail}") from None


# Its own deadline: 200 cycles take ~60-100 s on an idle 2-core machine, close to the suite's
# 120 s per-test default; a hung cycle still fails (each wait inside has its own deadline).
@pytest.mark.timeout(max(300, 3 * CYCLES))
def test_sequential_connect_stream_disconnect_cycles(rt: RuntimeProcess) -> None:
    def cycle() -> float:
        t0 = time.monotonic()
        r = Reactor("testpattern", local=True, local_url=rt.url)
        r.connect_sync()
        _frames(r, 5)
        r.disconnect_sync()
        assert r.get_status() is S.DISCONNECTED
        return time.monotonic() - t0

    cycle()  # warm-up (SDK loop thread, codecs)
    base = snapshot()
    rss0, rt_rss0 = rss_mb(), rt.rss_mb()
    series = []
    durations = []
    for i in range(CYCLES):
        durations.append(cycle())
        if i % 10 == 9:
            series.append((i + 1, round(rss_mb(), 1), round(rt.rss_mb(), 1)))
    after = settle(base)
    rss1, rt_rss1 = rss_mb(), rt.rss_mb()
    assert http("GET", rt.url + "/health")[1]["state"] == "READY"
    record_figure(
        "sequential_cycles", cycles=CYCLES, ok=len(durations), mean_cycle_s=round(sum(durations) / len(durations), 2),
        client_before=base, client_after=after, client_rss_mb=[round(rss0, 1), round(rss1, 1)],
        runtime_rss_mb=[round(rt_rss0, 1), round(rt_rss1, 1)], rss_series=series,
    )
    assert rss1 - rss0 < 40, f"client RSS grew {rss1 - rss0:.1f} MB over {CYCLES} cycles"
    assert rt_rss1 - rt_rss0 < 50, f"runtime RSS grew {rt_rss1 - rt_rss0:.1f} MB over {CYCLES} cycles"


def test_second_session_is_refused_or_queued_without_disturbing_the_first(rt: RuntimeProcess) -> None:
    first = Reactor("testpattern", api_key="load-test-key", api_url=rt.url)
    first.connect_sync()
    errors: list[Any] = []
    first.on("error", errors.append)
    try:
        _frames(first, 5)
        # A local session cannot start while a cloud session holds the model: 409 with a detail.
        status, body, _ = http("POST", rt.url + "/start_session", b"{}")
        assert status == 409 and "held by cloud session" in body["detail"], (status, body)
        local = Reactor("testpattern", local=True, local_url=rt.url)
        with pytest.raises(ConflictError) as info:
            local.connect_sync()
        assert info.value.status == 409 and local.get_status() is S.DISCONNECTED
        # A second cloud session is queued (PENDING) behind the first, then deleted.
        _, token, _ = http("POST", rt.url + "/tokens", headers={protocol.HEADER_API_KEY: "k2"})
        auth = {"Authorization": f"Bearer {token['jwt']}", "Content-Type": "application/json"}
        body = b'{"model": {"name": "testpattern"}}'
        status, created, _ = http("POST", rt.url + "/sessions", body, auth)
        assert status == 201
        status, polled, _ = http("GET", f"{rt.url}/sessions/{created['session_id']}", headers=auth)
        assert status == 200 and polled["state"] == "PENDING", polled
        assert http("DELETE", f"{rt.url}/sessions/{created['session_id']}", headers=auth)[0] == 200
        # The first session never noticed.
        _frames(first, 10)
        assert first.get_status() is S.READY and not errors
    finally:
        first.disconnect_sync()


def test_second_local_client_joins_the_local_session_as_another_connection(rt: RuntimeProcess) -> None:
    a = Reactor("testpattern", local=True, local_url=rt.url)
    b = Reactor("testpattern", local=True, local_url=rt.url)
    try:
        a.connect_sync()
        b.connect_sync()
        _frames(a, 10)
        _frames(b, 10)
        b.disconnect_sync(recoverable=True)  # leaving without ending the shared session
        _frames(a, 10)
        assert a.get_status() is S.READY
    finally:
        b.disconnect_sync()
        a.disconnect_sync()

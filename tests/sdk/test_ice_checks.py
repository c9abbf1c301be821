"""ICE check pacing (media/ice_checks.py): first checks start together, so connect() needs one pacing tick.

Real aioice connections on this machine's interfaces, and the real path: our SDK connecting to
our runtime, both ends set up by :func:`start_checks_together`. Counted, not timed: aioice's
pacing loop calls ``_check_periodic`` once per 20 ms tick until it returns False, so one call
per connection means connect() never slept a tick after the checks started.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import aioice
import pytest
from sdk_support import next_frames

from reactor_notebook.media.ice_checks import pace_together, start_checks_together
from reactor_notebook.runtime import LocalRuntime
from reactor_notebook.sdk import Reactor


@pytest.fixture
def ticks(monkeypatch: pytest.MonkeyPatch) -> Counter[int]:
    """Calls of aioice's own ``_check_periodic`` (one per pacing tick), per connection."""
    counts: Counter[int] = Counter()
    original = aioice.Connection._check_periodic

    def counted(self: Any) -> bool:
        counts[id(self)] += 1
        return bool(original(self))

    monkeypatch.setattr(aioice.Connection, "_check_periodic", counted)
    return counts


async def pair_up(end_of_candidates: bool) -> tuple[aioice.Connection, aioice.Connection]:
    """Two gathered aioice connections that know each other's credentials and host candidates."""
    a = aioice.Connection(ice_controlling=True, use_ipv6=False)
    b = aioice.Connection(ice_controlling=False, use_ipv6=False)
    await asyncio.gather(a.gather_candidates(), b.gather_candidates())
    for local, remote in ((a, b), (b, a)):
        local.remote_username, local.remote_password = remote.local_username, remote.local_password
        for candidate in remote.local_candidates:
            await local.add_remote_candidate(candidate)
        if end_of_candidates:
            await local.add_remote_candidate(None)
    return a, b


async def test_all_candidates_known_one_tick_each(ticks: Counter[int]) -> None:
    a, b = await pair_up(end_of_candidates=True)
    assert pace_together(a) and pace_together(b)
    try:
        await asyncio.wait_for(asyncio.gather(a.connect(), b.connect()), 10)
        assert ticks[id(a)] == 1 and ticks[id(b)] == 1
        assert a._nominated and b._nominated  # a pair was nominated on both sides
    finally:
        await asyncio.gather(a.close(), b.close())


async def test_candidates_still_expected_keep_pacing(ticks: Counter[int]) -> None:
    a, b = await pair_up(end_of_candidates=False)
    assert pace_together(a) and pace_together(b)
    try:
        await asyncio.wait_for(asyncio.gather(a.connect(), b.connect()), 10)
        # trickle still possible: the first tick asked for another, as aioice's own pacing does
        assert ticks[id(a)] >= 2 and ticks[id(b)] >= 2
        assert a._nominated and b._nominated
    finally:
        await asyncio.gather(a.close(), b.close())


def test_other_shapes_left_alone() -> None:
    class NotAioice:
        _check_periodic = None

    thing = NotAioice()
    assert pace_together(thing) is False
    assert thing._check_periodic is None

    class NoPeer:
        sctp = None

        def getTransceivers(self) -> list[Any]:
            return []

    assert start_checks_together(NoPeer()) == 0  # type: ignore[arg-type]


async def test_sdk_to_runtime_connects_in_one_tick(runtime: LocalRuntime, ticks: Counter[int]) -> None:
    r = Reactor("testpattern", local=True, local_url=runtime.url)
    await r.connect()
    try:
        frames = await next_frames(r, 1)
        assert frames[0][0].shape == (runtime.model.height, runtime.model.width, 3)
        assert len(ticks) == 2  # the SDK's ICE connection and the runtime's (bundled: one each)
        assert sorted(ticks.values()) == [1, 1]
    finally:
        await r.disconnect()

"""The link watchdog's decision rule with a controlled peer: silence alone is not enough, answers keep it alive."""

from __future__ import annotations

import asyncio

import pytest

from reactor_notebook.sdk import linkwatch


class Peer:
    """Stands in for the ICE connection: answers consent probes or not, counts them."""

    def __init__(self, answers: bool) -> None:
        self.answers = answers
        self.probes = 0

    async def probe(self, conn: object) -> bool:
        self.probes += 1
        await asyncio.sleep(0.02 if self.answers else 0.1)  # an answer, or the transaction timeout
        return self.answers


async def _watch(monkeypatch: pytest.MonkeyPatch, peer: Peer | None, limit: float, run_for: float) -> list[str]:
    if peer is not None:
        monkeypatch.setattr(linkwatch, "consent_probe", peer.probe)
    lost: list[str] = []
    closing = asyncio.Event()
    dog = linkwatch.LinkWatchdog(lambda: 7, lambda: None if peer is None else object(), limit,
                                 lost.append, closing.is_set)
    task = asyncio.create_task(dog.run())
    await asyncio.wait({task}, timeout=run_for)
    closing.set()
    await asyncio.wait_for(task, 5)
    return lost


async def test_silence_with_unanswered_probes_is_a_lost_link(monkeypatch: pytest.MonkeyPatch) -> None:
    peer = Peer(answers=False)
    lost = await _watch(monkeypatch, peer, limit=0.5, run_for=5)
    assert len(lost) == 1 and "ICE consent probes unanswered" in lost[0], lost
    assert peer.probes >= linkwatch.MIN_UNANSWERED


async def test_silence_with_answered_probes_is_a_live_link(monkeypatch: pytest.MonkeyPatch) -> None:
    peer = Peer(answers=True)
    lost = await _watch(monkeypatch, peer, limit=0.5, run_for=2.0)  # four times the limit, all quiet
    assert lost == [] and peer.probes >= 3


async def test_without_ice_internals_only_long_silence_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(linkwatch, "FALLBACK_SILENCE_S", 1.0)
    assert await _watch(monkeypatch, None, limit=0.2, run_for=0.6) == []  # the limit alone is not enough
    lost = await _watch(monkeypatch, None, limit=0.2, run_for=5)
    assert len(lost) == 1 and "probes" not in lost[0], lost


def test_ice_connection_is_none_for_objects_without_ice_internals() -> None:
    class Bare:
        sctp = None

        def getTransceivers(self) -> list[object]:
            return []

    assert linkwatch.ice_connection(Bare()) is None

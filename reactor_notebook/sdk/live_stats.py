"""Connection statistics of :class:`~.session.Reactor`: ``get_stats()``, ``collect_stats()`` and the 2 s timer.

The network part comes from aiortc's ``getStats`` and the transport's probes; the frame part
from the session's one :class:`~.stats.FrameCounters`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from .core import SessionCore
from .stats import empty_stats, summarize_report, timings_dict
from .types import ConnectionStats, ReactorStatus

logger = logging.getLogger(__name__)


class StatsPart(SessionCore):
    """Stats for :class:`Reactor` (one source: the session's frame counters plus the peer's report)."""

    _stats_interval: float

    def get_stats(self) -> ConnectionStats:
        """Latest connection stats (network part refreshed every 2 s) with live frame counters."""
        stats = dict(self._last_stats or empty_stats())
        stats.update(self._counters())
        return stats  # type: ignore[return-value]

    async def collect_stats(self) -> ConnectionStats:
        """Collect fresh stats now (also what the 2 s ``stats_update`` timer does)."""
        return await self._sdk.run(self._collect_stats())

    def _counters(self) -> dict[str, Any]:
        readers = self._transport.readers.values() if self._transport else ()
        return self._frame_counters.as_stats((r.stats.frames_dropped for r in readers), self._dispatcher.dropped)

    async def _collect_stats(self) -> ConnectionStats:
        stats = empty_stats()
        transport = self._transport
        if transport is not None and transport.pc is not None:
            try:
                report = await transport.pc.getStats()
                stats.update(summarize_report(report))  # type: ignore[typeddict-item]
            except Exception as exc:
                logger.debug("getStats failed: %s", exc)
            if stats.get("rtt") is None:
                stats["rtt"] = transport.sctp_rtt_ms()
            stats["candidate_type"] = transport.candidate_type()
            stats["available_outgoing_bitrate"] = transport.outgoing_bitrate()
        stats["connection_timings"] = timings_dict(self._timings)
        stats["frames_per_second"] = self._fps.update(self._frame_counters.received)
        stats.update(self._counters())  # type: ignore[typeddict-item]
        self._last_stats = stats
        return stats

    async def _stats_loop(self) -> None:
        self._fps.update(self._frame_counters.received)
        while self._status == ReactorStatus.READY:
            await asyncio.sleep(self._stats_interval)
            if self._status != ReactorStatus.READY:
                break
            stats = await self._collect_stats()
            self._emit("stats_update", stats)

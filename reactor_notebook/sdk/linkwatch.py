"""Dead-link detection for a READY connection: silence first, then ICE consent probes that must be answered.

A killed runtime or a cut cable sends no close, and aiortc notices a dead peer only after ~30 s of
failed consent checks. A silence timer alone cannot tell a dead link from a live one whose model
sends nothing (paused or stalled), so once nothing has arrived for a short while the watchdog sends
STUN binding requests on the selected candidate pair (the consent check of RFC 7675, answered by
the peer's ICE agent whatever its model does) and reports the link lost only when the link stays
silent for ``limit`` seconds *and* those probes go unanswered.

Time the event loop did not run (a stopped process, a cell holding the GIL, a starved machine) is
never counted as silence: packets and answers may be waiting unread in the socket, so a stall
restarts the judgement. Where aiortc's ICE internals are not reachable, the watchdog falls back to
a silence timer of at least :data:`FALLBACK_SILENCE_S`, so a paused model cannot trip it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

LINK_TIMEOUT_S = 1.5  # default: silence, with unanswered probes, before a READY link counts as dead
FALLBACK_SILENCE_S = 10.0  # without probes only long silence is evidence (a model may pause for seconds)
TICK_S = 0.1  # how often the received-packet counter is read
STALL_S = 0.5  # a tick this much late means the loop itself did not run
PROBE_TIMEOUT_S = 0.5  # aioice's single-shot transaction timeout (its RTO)
MIN_UNANSWERED = 2  # probes that must time out before the link is declared lost


def ice_connection(pc: Any) -> Any | None:
    """The aioice Connection under a peer connection's (bundled) transport, or None if unreachable."""
    try:
        dtls = pc.sctp.transport if pc.sctp is not None else pc.getTransceivers()[0].receiver.transport
        conn = dtls.transport._connection  # RTCIceTransport → aioice.Connection (aiortc internals)
    except (AttributeError, IndexError):
        return None
    needed = ("_nominated", "build_request", "remote_password")
    return conn if all(hasattr(conn, name) for name in needed) else None


async def consent_probe(conn: Any) -> bool:
    """One STUN binding request on each selected pair; True if any pair answered within the RTO."""
    from aioice import stun

    pairs = list(getattr(conn, "_nominated", {}).values())
    if not pairs or conn.remote_password is None:
        return False

    async def one(pair: Any) -> bool:
        """Probe one candidate pair once (no retransmission); True if it answered."""
        try:
            await pair.protocol.request(
                conn.build_request(pair, nominate=False), pair.remote_addr,
                integrity_key=conn.remote_password.encode("utf8"), retransmissions=0,
            )
            return True
        except (stun.TransactionError, OSError, ConnectionError):
            return False
        except Exception as exc:  # a protocol closing under us: no answer
            logger.debug("consent probe failed: %r", exc)
            return False

    return any(await asyncio.gather(*(one(p) for p in pairs)))


class LinkWatchdog:
    """Watches one READY peer connection; calls ``on_lost(reason)`` once when the link is dead."""

    def __init__(
        self,
        rx_packets: Callable[[], int | None],
        ice: Callable[[], Any | None],
        limit: float,
        on_lost: Callable[[str], None],
        closing: Callable[[], bool],
    ) -> None:
        self._rx = rx_packets
        self._ice = ice
        self.limit = float(limit)
        self._on_lost = on_lost
        self._closing = closing
        self.probe_after = min(0.4, self.limit / 4)
        self.probe_every = min(0.3, self.limit / 5)
        self.probes_sent = self.probes_answered = 0
        self._alive_at = time.monotonic()
        self._epoch = 0  # bumped on every sign of life or stall: older probe failures stop counting
        self._unanswered = 0
        self._tasks: set[asyncio.Task[None]] = set()

    def _alive(self, now: float) -> None:
        self._alive_at = now
        self._unanswered = 0
        self._epoch += 1

    async def _probe(self, conn: Any, epoch: int) -> None:
        self.probes_sent += 1
        if await consent_probe(conn):
            self.probes_answered += 1
            self._alive(time.monotonic())  # an answer at any time proves the peer is there
        elif epoch == self._epoch:
            self._unanswered += 1

    def _start_probe(self, conn: Any) -> None:
        task = asyncio.get_running_loop().create_task(self._probe(conn, self._epoch), name="reactor-consent")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def run(self) -> None:
        """Tick until the link is lost (then report it) or the transport closes."""
        last = self._rx()
        if last is None:
            logger.debug("link watchdog off: this aiortc does not expose received-packet counts")
            return
        conn = self._ice()
        limit = self.limit if conn is not None else max(self.limit, FALLBACK_SILENCE_S)
        if conn is None:
            logger.debug("no ICE internals: link watchdog falls back to %.0f s of silence", limit)
        self._alive(time.monotonic())
        last_probe = 0.0
        try:
            while not self._closing():
                tick = time.monotonic()
                await asyncio.sleep(TICK_S)
                now, count = time.monotonic(), self._rx()
                if now - tick > TICK_S + STALL_S or count != last:
                    last = count  # the loop was stalled (judge only time it ran) or a packet came
                    self._alive(now)
                    continue
                quiet = now - self._alive_at
                if conn is not None and quiet >= self.probe_after and now - last_probe >= self.probe_every:
                    last_probe = now
                    self._start_probe(conn)
                if quiet >= limit and (conn is None or self._unanswered >= MIN_UNANSWERED):
                    await asyncio.sleep(0.05)  # let datagrams already queued reach the counter
                    if self._rx() != last or time.monotonic() - self._alive_at < limit:
                        continue
                    reason = f"no packet from the runtime for {quiet:.1f} s"
                    if conn is not None:
                        reason += f" and {self._unanswered} ICE consent probes unanswered"
                    logger.warning("%s: link lost", reason)
                    if not self._closing():
                        self._on_lost(reason + " (link lost)")
                    return
        finally:
            for task in list(self._tasks):
                task.cancel()

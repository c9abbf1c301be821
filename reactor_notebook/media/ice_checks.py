"""ICE helpers for aiortc peers on both ends (SDK and runtime): their aioice connections, check pacing.

aioice's ``connect()`` starts one connectivity check, then sleeps a whole 20 ms pacing tick before
it looks at the check list again. On loopback or a LAN the first check succeeds in under a
millisecond, so each side reported ICE complete ~20 ms after the path was known (and DTLS, which
the answering side starts, waited for that side's tick too). :func:`start_checks_together` starts
a handful of first checks in one tick, which ends the pacing loop at once when the remote side's
candidates are all known. Everything here reaches into aiortc/aioice internals, guarded: a
version without them is left alone.
"""

from __future__ import annotations

from typing import Any

from aiortc import RTCPeerConnection

CHECK_BURST = 8  # pairs whose first check starts at once; more are paced as aioice paces them


def ice_connections(pc: RTCPeerConnection) -> list[Any]:
    """The aioice connection(s) under the peer's ICE transports, once the offer exists (aiortc internals)."""
    gatherers: dict[int, Any] = {}
    transports = [t.receiver.transport for t in pc.getTransceivers()]
    if pc.sctp is not None:
        transports.append(pc.sctp.transport)
    for dtls in transports:
        gatherer = getattr(getattr(dtls, "transport", None), "iceGatherer", None)
        if gatherer is not None:
            gatherers[id(gatherer)] = gatherer
    connections = (getattr(gatherer, "_connection", None) for gatherer in gatherers.values())
    return [connection for connection in connections if connection is not None]


def _unstarted(connection: Any) -> list[Any]:
    """Pairs whose check has not started (a started check stays Waiting until its task runs)."""
    return [p for p in connection._check_list if p.task is None and p.state.name in ("WAITING", "FROZEN")]


def start_checks_together(pc: RTCPeerConnection, burst: int = CHECK_BURST) -> int:
    """Let the peer's ICE start its first connectivity checks together instead of one per 20 ms tick.

    aioice's ``connect()`` starts one check, sleeps a whole 20 ms tick, and only then sees that
    the check list completed: on loopback the first check succeeds in under a millisecond, so
    READY came ~20 ms after the path was known. Starting up to ``burst`` checks in one tick ends
    the pacing loop at once when no more remote candidates are expected (the answer had them
    all); with trickled candidates still to come it paces on as before. Returns how many ICE
    connections were set up this way (0 when aioice lacks the expected methods: nothing changes).
    """
    return sum(pace_together(connection, burst) for connection in ice_connections(pc))


def pace_together(connection: Any, burst: int = CHECK_BURST) -> bool:
    """:func:`start_checks_together` for one aioice ``Connection``; False (unchanged) if it lacks the methods."""
    original = getattr(connection, "_check_periodic", None)
    expected = getattr(connection, "_remote_candidates_expected", None)
    if not (
        callable(original) and callable(expected) and callable(getattr(connection, "check_start_task", None))
    ):
        return False

    def check_periodic() -> bool:
        if not original():
            return False
        for pair in _unstarted(connection)[: burst - 1]:
            connection.check_start_task(pair)
        return bool(expected()) or bool(_unstarted(connection))

    connection._check_periodic = check_periodic
    return True

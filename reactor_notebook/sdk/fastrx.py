"""Receive fast path: SRTP and SRTCP datagrams go from aioice straight to aiortc's media handlers.

Stock aiortc queues every datagram the ICE connection receives (``aioice.Connection.data_received``
puts it on an ``asyncio.Queue``) and the DTLS transport's reader task takes it from there: one
more event-loop iteration, a future and a task step per datagram, before the datagram is
decrypted, parsed and routed. :class:`DirectMedia` replaces ``data_received`` on the ICE
connection of one of our own peer connections (an instance attribute: every other connection in
the process keeps aiortc's stock path) and handles SRTP/SRTCP right there, in the loop iteration
that read the datagram, with aiortc's own handlers (``_handle_rtp_data``/``_handle_rtcp_data``:
jitter buffer, NACK, PLI, receiver reports and stats work as before). DTLS records (the data
channels) and anything received before SRTP keys exist still take the stock queue. The DTLS
transport's received packet/byte counters are kept, which ``get_stats`` and the link watchdog read.

Installed by :func:`install_direct_media` once the peer is connected, on the aiortc version its
internals were verified against; elsewhere it logs once and the stock path stays.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Generator
from typing import Any

import aiortc
import pylibsrtp
from aiortc import clock
from aiortc.rtcdtlstransport import RTCDtlsTransport, State
from aiortc.rtp import is_rtcp

logger = logging.getLogger(__name__)

VERIFIED_VERSIONS = ("1.16.",)
_RX_PACKETS = "_RTCDtlsTransport__rx_packets"  # aiortc's private counters, read by getStats
_RX_BYTES = "_RTCDtlsTransport__rx_bytes"
_DTLS_NEEDS = ("_rx_srtp", "_state", "_handle_rtp_data", "_handle_rtcp_data", _RX_PACKETS, _RX_BYTES)
_warned: set[str] = set()


def _log_once(key: str, message: str, *args: Any) -> None:
    if key not in _warned:
        _warned.add(key)
        logger.info(message, *args)


class _Resume:
    """Awaitable that finishes a coroutine started by hand, which suspended on ``first``."""

    def __init__(self, coro: Coroutine[Any, Any, None], first: Any) -> None:
        self._coro = coro
        self._first = first

    def __await__(self) -> Generator[Any, Any, None]:
        value = self._first
        while True:
            try:
                sent = yield value
            except BaseException as exc:  # cancellation or an error: hand it to the coroutine
                try:
                    value = self._coro.throw(exc)
                except StopIteration:
                    return
            else:
                try:
                    value = self._coro.send(sent)
                except StopIteration:
                    return


class DirectMedia:
    """The ``data_received`` of one aioice connection: SRTP/SRTCP handled at once, the rest queued."""

    def __init__(self, dtls: RTCDtlsTransport, connection: Any) -> None:
        self._dtls = dtls
        self._connection = connection
        self._queued = connection.data_received  # the stock bound method: put on the queue
        self._tasks: set[asyncio.Future[None]] = set()
        self.rtp = 0  # RTP packets handled on the fast path
        self.rtcp = 0  # RTCP compounds handled on the fast path
        self.queued = 0  # datagrams left to the stock queue (DTLS records, before keys)
        self.suspended = 0  # handlers that had to wait and were finished by a task
        self.errors = 0

    def install(self) -> None:
        """Take over the connection's ``data_received`` (this connection only)."""
        self._connection.data_received = self.data_received

    def uninstall(self) -> None:
        """Give the connection back its stock ``data_received``."""
        if self._connection.__dict__.get("data_received") == self.data_received:
            del self._connection.data_received

    def data_received(self, data: bytes, component: int) -> None:
        """Called by aioice for every non-STUN datagram, on the event loop."""
        dtls = self._dtls
        srtp = dtls._rx_srtp
        if srtp is None or not data or not 127 < data[0] < 192 or dtls._state is not State.CONNECTED:
            self.queued += 1
            self._queued(data, component)
            return
        setattr(dtls, _RX_BYTES, getattr(dtls, _RX_BYTES) + len(data))
        setattr(dtls, _RX_PACKETS, getattr(dtls, _RX_PACKETS) + 1)
        try:
            if is_rtcp(data):
                coro = dtls._handle_rtcp_data(srtp.unprotect_rtcp(data))
                self.rtcp += 1
            else:
                arrival_ms = clock.current_ms()
                coro = dtls._handle_rtp_data(srtp.unprotect(data), arrival_time_ms=arrival_ms)
                self.rtp += 1
        except pylibsrtp.Error as exc:
            logger.debug("SRTP unprotect failed: %s", exc)  # what the stock reader does too
            return
        self._run(coro)

    def _run(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run a handler to completion now; if it has to wait, a task finishes it."""
        try:
            first = coro.send(None)
        except StopIteration:
            return
        except Exception:
            self.errors += 1
            if self.errors == 1 or self.errors % 1000 == 0:
                logger.warning("receive fast path: handler failed (%d so far)", self.errors, exc_info=True)
            return
        self.suspended += 1
        task = asyncio.ensure_future(self._finish(_Resume(coro, first)))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _finish(self, resume: _Resume) -> None:
        try:
            await resume
        except asyncio.CancelledError:
            raise
        except Exception:
            self.errors += 1
            logger.warning("receive fast path: handler failed after waiting", exc_info=True)


def supported() -> bool:
    """True on aiortc versions whose DTLS/ICE receive internals this module was verified against."""
    return aiortc.__version__.startswith(VERIFIED_VERSIONS)


def _hookable(dtls: Any, connection: Any) -> bool:
    return (
        isinstance(dtls, RTCDtlsTransport)
        and all(hasattr(dtls, name) for name in _DTLS_NEEDS)
        and callable(getattr(type(connection), "data_received", None))
        and "data_received" not in vars(connection)
        and isinstance(getattr(connection, "_queue", None), asyncio.Queue)
    )


def _dtls_transports(pc: Any) -> list[Any]:
    """The peer's distinct DTLS transports (one with max-bundle), data channels' first."""
    found: list[Any] = [pc.sctp.transport] if getattr(pc, "sctp", None) is not None else []
    found += [tr.receiver.transport for tr in pc.getTransceivers()]
    unique: dict[int, Any] = {id(d): d for d in found if d is not None}
    return list(unique.values())


def install_direct_media(pc: Any) -> list[DirectMedia]:
    """Give each transport of a connected peer the fast path; empty (stock path kept) where not possible."""
    if not supported():
        _log_once("version", "receive fast path off: aiortc %s is not a verified version", aiortc.__version__)
        return []
    installed: list[DirectMedia] = []
    for dtls in _dtls_transports(pc):
        connection = getattr(getattr(dtls, "transport", None), "_connection", None)  # → aioice.Connection
        if not _hookable(dtls, connection):
            _log_once(
                "internals", "receive fast path off: aiortc/aioice internals differ from the verified ones"
            )
            continue
        direct = DirectMedia(dtls, connection)
        direct.install()
        installed.append(direct)
    return installed

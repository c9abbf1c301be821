"""Connections and their SDP offers for the :class:`~.session.SessionManager` (a mixin).

Connection ids, offers (POST and PUT alike) answered in the background, the answer's status for
``GET …/sdp_params``, and trickled candidates kept until the peer has its offer
(``docs/protocol.md`` "Signalling").
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any, cast

from .. import protocol
from .models.base import TrackSpec
from .peer import Peer, fallback_mapping
from .sdp import MappingError, validate_track_mapping
from .session_state import Connection, Session, SessionError
from .trickle import CandidateError
from .wire_choice import expects_v1

if TYPE_CHECKING:
    from .config import RuntimeConfig
    from .peer import PeerHost
    from .session_state import ModelInfo

log = logging.getLogger("reactor_notebook.runtime.session")


class OffersMixin:
    """Offer/answer handling; the manager provides ``info``, ``config`` and ``loop``."""

    info: ModelInfo
    config: RuntimeConfig

    if TYPE_CHECKING:

        @property
        def loop(self) -> asyncio.AbstractEventLoop:
            """The runtime's event loop, where peers and answers are built."""

    def register_connection(self, s: Session, *, viewer: bool = False) -> int:
        """Mint a fresh connection id in 1002-9999 (``viewer``: a watch-only connection, counted apart)."""
        for _ in range(protocol.MAX_CONNECTION_ID):
            cid = s.next_cid
            s.next_cid = cid + 1 if cid < protocol.MAX_CONNECTION_ID else protocol.FLAT_CONNECTION_ID + 1
            if cid not in s.connections:
                s.connections[cid] = Connection(cid, viewer=viewer)
                return cid
        raise SessionError(409, "No free connection ids left in this session")

    def connection(self, s: Session, cid: int, *, create: bool) -> Connection:
        """A connection of the session; ``create`` registers an unknown id in range (404 otherwise)."""
        conn = s.connections.get(cid)
        if conn is not None:
            return conn
        if not create or not protocol.MIN_CONNECTION_ID <= cid <= protocol.MAX_CONNECTION_ID:
            raise SessionError(404, f"Connection {cid} not found in session {s.id}")
        conn = Connection(cid)
        s.connections[cid] = conn
        return conn

    async def offer(self, s: Session, cid: int, body: Any) -> None:
        """Accept an offer (POST and PUT alike): validate, replace the old peer, answer in background."""
        if not isinstance(body, dict):
            raise SessionError(400, "Body must be an object with 'sdp_offer' and 'track_mapping'")
        sdp = body.get("sdp_offer")
        if not isinstance(sdp, str) or "m=" not in sdp:
            raise SessionError(400, "'sdp_offer' must be a non-empty SDP offer string")
        raw_mapping = body.get("track_mapping")
        try:
            mapping = validate_track_mapping(raw_mapping, sdp, self.info.tracks)
        except MappingError as exc:
            raise SessionError(400, f"Bad track_mapping: {exc}") from None
        if raw_mapping is None:
            mapping = fallback_mapping(sdp, self.info.tracks)
        conn = self.connection(s, cid, create=True)
        async with conn.lock:
            if conn.task is not None and not conn.task.done():
                conn.task.cancel()
                await asyncio.gather(conn.task, return_exceptions=True)
            if conn.peer is not None:
                old, conn.peer = conn.peer, None
                await old.close()
            if not s.live:
                raise SessionError(404, f"Session not found: {s.id}")
            if conn.peer is not None or conn.offer_state != "none":
                conn.trickle.final = False  # a re-offer brings its own candidates
            peer = Peer(cast("PeerHost", self), cid, ice_servers=self.config.ice_servers, encoder=self.config.encoder)
            peer.session = s
            peer.wire_hint = "v1" if expects_v1(sdp) else None
            conn.peer = peer
            conn.offer_state, conn.answer, conn.error = "pending", None, None
            s.idle_since = time.monotonic()
            conn.task = self.loop.create_task(self._answer(s, conn, peer, sdp, mapping), name=f"answer-{cid}")

    async def _answer(self, s: Session, conn: Connection, peer: Peer, sdp: str, mapping: dict[str, TrackSpec]) -> None:
        try:
            answer = await peer.answer(sdp, mapping, self.config.answer_timeout)
        except asyncio.CancelledError:
            raise
        except asyncio.TimeoutError:
            conn.offer_state, conn.error = "failed", f"ICE gathering took longer than {self.config.answer_timeout} s"
        except Exception as exc:
            conn.offer_state, conn.error = "failed", f"Could not apply the offer: {type(exc).__name__}: {exc}"
        else:
            if conn.peer is peer:
                conn.offer_state, conn.answer = "ready", answer
                await conn.trickle.apply(peer.pc)  # candidates that came before or during the offer
            return
        log.warning("connection %s: %s", conn.connection_id, conn.error)
        if conn.peer is peer:
            conn.peer = None
        await peer.close()

    def answer_status(self, s: Session, cid: int) -> tuple[int, Any]:
        """``GET …/sdp_params``: 202 null while pending, 200 answer, 400 failure, 404 no offer."""
        conn = s.connections.get(cid)
        if conn is None or conn.offer_state == "none":
            raise SessionError(404, f"No pending SDP offer for connection {cid}")
        if conn.offer_state == "pending":
            return 202, None
        if conn.offer_state == "failed":
            raise SessionError(400, conn.error or "Building the answer failed")
        return 200, {"sdp_answer": conn.answer, "connection_id": cid}

    async def add_candidates(self, s: Session, cid: int, body: Any) -> None:
        """Trickled candidates: applied once the connection's peer has its offer, kept until then."""
        conn = s.connections.get(cid)
        if conn is None:
            raise SessionError(404, f"Connection {cid} not found in session {s.id}")
        try:
            conn.trickle.add(body)
        except CandidateError as exc:
            raise SessionError(400, f"Bad ice_candidates: {exc}") from None
        if conn.peer is not None and conn.offer_state == "ready":
            await conn.trickle.apply(conn.peer.pc)

"""Sessions: the state machine, broadcasting, and the watchdog (offers live in :mod:`.offers`).

One model instance serves one session at a time (``docs/protocol.md`` "Sessions"). A session walks
PENDING → WAITING → STREAMING ⇄ ORPHANED → CLOSING → CLOSED; the :class:`SessionManager`
queues cloud sessions behind the holder, runs the keepalive/orphan watchdog and closes
sessions cleanly (peers first, then the model thread with the *disconnected* hook).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections import OrderedDict, deque
from typing import Any

from aiortc import RTCDataChannel
from av import VideoFrame

from .. import protocol
from ..chunked_channel import ChunkedChannel
from ..protocol.steps import STEPPED
from .config import CLUSTER, SERVER_VERSION, RuntimeConfig
from .media import ModelWorker, OutgoingTrack
from .models.base import Model
from .offers import OffersMixin
from .peer import Peer
from .recording import Recorder
from .session_state import PUBLIC_STATE, Connection, ModelInfo, Session, SessionError, State
from .uploads import UploadStore
from .wire_choice import Encoded, holds, requester_of, v1_descriptor_fields

__all__ = [
    "PUBLIC_STATE",
    "Connection",
    "ModelInfo",
    "Session",
    "SessionError",
    "SessionManager",
    "State",
    "send_text",
]

log = logging.getLogger(__name__)


class SessionManager(OffersMixin):
    """Owns the model, the sessions, the uploads and the watchdog of one runtime."""

    def __init__(self, model: Model, config: RuntimeConfig) -> None:
        self.model = model
        self.info = ModelInfo.of(model)
        self.config = config
        self.fps = model.fps
        self.uploads = UploadStore()
        self.recorder = Recorder(config.recording_settings)
        self.sessions: dict[str, Session] = {}
        self.closed: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self.holder: Session | None = None
        self.queue: deque[Session] = deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self._closing: dict[str, asyncio.Task[None]] = {}
        self._timers: list[asyncio.TimerHandle] = []
        self.dispatcher: Any = None  # channels.Dispatcher, attached by the app
        self.stopped = False

    # --- lifecycle ---------------------------------------------------------------------
    def start(self) -> None:
        """Start the watchdog on the running loop."""
        self._loop = asyncio.get_running_loop()
        self._watchdog = self._loop.create_task(self._watch(), name="reactor-watchdog")

    async def shutdown(self) -> None:
        """Close every session and stop the watchdog."""
        self.stopped = True
        for t in self._timers:
            t.cancel()
        for s in list(self.sessions.values()):
            await self.close_session(s, "runtime shutting down")
        await asyncio.gather(*self._closing.values(), return_exceptions=True)
        await self.recorder.close()
        if self._watchdog is not None:
            self._watchdog.cancel()
            await asyncio.gather(self._watchdog, return_exceptions=True)

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The runtime's event loop (set by :meth:`start`)."""
        assert self._loop is not None, "SessionManager.start() not called"
        return self._loop

    # --- creating sessions -------------------------------------------------------------------
    def create_cloud(self, extra: dict[str, Any] | None = None) -> Session:
        """A new cloud session: holds the model at once if free, else queued (PENDING)."""
        sid = "sess_" + secrets.token_hex(8)
        s = Session(sid, local=False, extra=extra or {})
        self.sessions[sid] = s
        self.queue.append(s)
        self._promote()
        return s

    def start_local(self, extra: dict[str, Any] | None = None) -> Session:
        """Create (or return, idempotently) the local session; 409 while a cloud session holds the model."""
        s = self.sessions.get(protocol.LOCAL_SESSION_ID)
        if s is not None and s.live:
            return s
        holder = self.holder
        if holder is not None and not holder.local:
            raise SessionError(409, f"The model is held by cloud session {holder.id}; try again once it ends")
        if self.stopped:
            raise SessionError(503, "Runtime is shutting down")
        s = Session(protocol.LOCAL_SESSION_ID, local=True, extra=extra or {})
        self.sessions[s.id] = s
        self.closed.pop(s.id, None)
        self.holder = s
        self._activate(s)
        return s

    def _promote(self) -> None:
        if self.holder is not None or not self.queue or self.stopped:
            return
        s = self.queue.popleft()
        self.holder = s
        delay = self.config.assignment_delay
        if delay > 0:
            self._timers.append(self.loop.call_later(delay, self._activate, s))
        else:
            self._activate(s)

    def _activate(self, s: Session) -> None:
        if s.state != State.PENDING or self.holder is not s:
            return
        s.state = State.WAITING
        s.activated_at = s.idle_since = time.monotonic()
        s.worker = ModelWorker(self.model, self.loop, self.config.encoder)
        s.recording = self.recorder.start(
            [t.name for t in self.info.tracks if t.direction == "out" and t.kind == "video"], self.fps
        )
        if s.recording is not None:
            s.worker.tap = s.recording.offer
        self.model.bind(self._emitter(s))
        log.info("session %s ready (WAITING)", s.id)

    def _emitter(self, s: Session) -> Any:
        loop = self.loop

        def emit(message: dict[str, Any]) -> None:
            """The model's broadcast, called on the model thread: hops onto the loop, dropped at shutdown."""
            try:  # a v1 requester gets its command's messages after its reply (channels_v1)
                loop.call_soon_threadsafe(self.broadcast, s, message, requester_of(message))
            except RuntimeError:  # loop closed during shutdown
                pass

        return emit

    # --- lookups ----------------------------------------------------------------------------------
    def get(self, sid: str) -> Session | None:
        """A live session by id, or None."""
        s = self.sessions.get(sid)
        return s if s is not None and s.live else None

    def live_for_transport(self, sid: str) -> Session:
        """The session for a transport call: 404 unknown/closed, 400 not yet running."""
        s = self.get(sid)
        if s is None:
            raise SessionError(404, f"Session not found: {sid}")
        if not s.ready:
            raise SessionError(400, f"No session running: session {sid} is {PUBLIC_STATE[s.state]}")
        return s

    def machine_state(self) -> str:
        """The runtime machine state for ``/health``."""
        h = self.holder
        if h is None or h.state in (State.CLOSED, State.PENDING):
            return State.READY.name
        return h.state.name

    def descriptor(self, s: Session, *, initial: bool = False) -> dict[str, Any]:
        """The session descriptor (``docs/protocol.md`` "Sessions"); the initial cloud create response has five keys."""
        d: dict[str, Any] = {
            "session_id": s.id,
            "state": protocol.STATE_CREATED if initial else PUBLIC_STATE.get(s.state, protocol.STATE_CLOSED),
            "cluster": CLUSTER,
            "model": {"name": self.model.name, "version": self.model.version},
            "server_info": {"server_version": SERVER_VERSION},
        }
        if s.local:
            viewers = {id(c.peer) for c in s.connections.values() if c.viewer and c.peer is not None}
            live = [p for p in s.peers if p.connected]
            d[protocol.ATTACHED_CLIENTS_KEY] = sum(1 for p in live if id(p) not in viewers)
            d[protocol.ATTACHED_VIEWERS_KEY] = len(live) - d[protocol.ATTACHED_CLIENTS_KEY]
        if not initial and s.ready:
            d["selected_transport"] = dict(protocol.TRANSPORTS[0])
            d["capabilities"] = self.info.capabilities
            d["schema"] = self.info.schema
            d.update(v1_descriptor_fields(s.generation))
            d["recording"] = self.recorder.descriptor()
        return d

    def closed_descriptor(self, sid: str) -> dict[str, Any] | None:
        """The last descriptor of a recently closed session, or None."""
        return self.closed.get(sid)

    @staticmethod
    def descriptor_closed(closed: dict[str, Any] | None) -> dict[str, Any]:
        """A copy of a closed descriptor (empty when unknown)."""
        return dict(closed or {})

    # --- PeerHost callbacks -------------------------------------------------------------------------
    def _session_of(self, peer: Peer) -> Session | None:
        s = getattr(peer, "session", None)
        return s if isinstance(s, Session) else None

    def output_attached(self, peer: Peer, track: OutgoingTrack) -> None:
        """A peer's output track joins the session's model worker."""
        s = self._session_of(peer)
        if s is not None and s.worker is not None:
            s.worker.attach(track)

    def output_detached(self, peer: Peer, track: OutgoingTrack) -> None:
        """A peer's output track leaves the model worker."""
        s = self._session_of(peer)
        if s is not None and s.worker is not None:
            s.worker.detach(track)

    def peer_connected(self, peer: Peer) -> None:
        """A peer connected: the session streams (the model hears of its first peer only)."""
        s = self._session_of(peer)
        if s is None or not s.live or s.worker is None:
            return
        s.state = State.STREAMING
        if not s.started_model:
            s.started_model = True
            s.worker.submit(self.model.on_session_start)
        if s.generation != STEPPED:  # a stepped session renders only when a step asks
            s.worker.start()
        log.info("session %s: connection %s connected (STREAMING)", s.id, peer.connection_id)

    def peer_gone(self, peer: Peer) -> None:
        """A peer left: free its inputs; without peers the session is ORPHANED."""
        s = self._session_of(peer)
        if s is None:
            return
        for name in list(peer.published):
            self.release_input(s, peer, name)
        for conn in s.connections.values():
            if conn.peer is peer:
                conn.peer = None
        if s.live and s.state == State.STREAMING and not any(p.connected for p in s.peers):
            s.state = State.ORPHANED
            s.idle_since = time.monotonic()
            log.info("session %s: last peer gone (ORPHANED)", s.id)

    def channel_opened(self, peer: Peer, channel: RTCDataChannel | ChunkedChannel) -> None:
        """Hand a new data channel to the message dispatcher."""
        if self.dispatcher is not None:
            self.dispatcher.attach(peer, channel)

    def input_frame(self, peer: Peer, track: str, frame: VideoFrame) -> None:
        """A frame on an input track: to the model, if this peer holds the input."""
        s = self._session_of(peer)
        if s is None or s.worker is None or not s.live:
            return
        if track not in peer.published and not self.claim_input(s, peer, track):
            return  # another connection publishes this input: first publisher wins
        s.worker.offer_input(track, frame)

    def input_ended(self, peer: Peer, track: str) -> None:
        """An input track ended: free its publisher slot."""
        s = self._session_of(peer)
        if s is not None and track in peer.published:
            self.release_input(s, peer, track)

    def claim_input(self, s: Session, peer: Peer, track: str) -> bool:
        """Take the publisher slot of an input; False if another connection holds it."""
        owner = s.input_owner.get(track)
        if owner is not None and owner is not peer and not owner.closed:
            return False
        if owner is not peer:
            s.input_owner[track] = peer
            peer.published.add(track)
            if s.worker is not None:
                s.worker.submit(self.model.on_input_changed, track, True)
        return True

    def release_input(self, s: Session, peer: Peer, track: str) -> None:
        """Free the publisher slot of an input held by ``peer``."""
        peer.published.discard(track)
        if s.input_owner.get(track) is peer:
            del s.input_owner[track]
            if s.worker is not None and not s.worker.closed:
                s.worker.submit(self.model.on_input_changed, track, False)

    # --- messages -----------------------------------------------------------------------------------
    def broadcast(self, s: Session, message: dict[str, Any], skip: Peer | None = None) -> None:
        """Send an application message to every open ``data`` channel of the session (but ``skip``)."""
        self.broadcast_raw(s, protocol.SCOPE_APPLICATION, message, skip)

    def broadcast_raw(self, s: Session, scope: str, message: dict[str, Any], skip: Peer | None = None) -> None:
        """Send a message of ``scope`` to every open ``data`` channel, each in its wire."""
        encoded = Encoded(scope, message, self.encode)
        for peer in s.peers:
            if peer is skip:
                continue
            send_text(peer.channels.get(protocol.CHANNEL_DATA), encoded.for_peer(peer))

    def send_to(self, peer: Peer, messages: list[dict[str, Any]]) -> None:
        """Application messages for one connection, in its wire (held until a v1-era client speaks)."""
        if holds(peer):
            peer.held_messages.extend(messages)
            return
        for message in messages:
            send_text(peer.channels.get(protocol.CHANNEL_DATA), Encoded(protocol.SCOPE_APPLICATION, message, self.encode).for_peer(peer))

    @staticmethod
    def encode(scope: str, message: dict[str, Any]) -> str:
        """Envelope a message; an oversized one becomes a runtime ``error`` message instead."""
        try:
            text = protocol.encode_message(scope, message)
        except (TypeError, ValueError) as exc:
            log.error("cannot serialise %s message %r: %s", scope, message.get("type"), exc)
            return _runtime_error("MESSAGE_NOT_SERIALISABLE", f"message {message.get('type')!r}: {exc}")
        size = len(text.encode("utf-8"))
        if size > protocol.MAX_MESSAGE_SIZE:
            log.error("dropping %s message %r of %d bytes (> %d)", scope, message.get("type"), size, protocol.MAX_MESSAGE_SIZE)
            return _runtime_error(
                "MESSAGE_TOO_LARGE",
                f"message {message.get('type')!r} of {size} bytes exceeds the {protocol.MAX_MESSAGE_SIZE}-byte limit",
            )
        return text

    # --- closing ----------------------------------------------------------------------------------------
    async def close_session(self, s: Session, reason: str) -> None:
        """Close a session: peers, then the model thread (disconnected hook), then promote the next."""
        task = self._closing.get(s.id + str(id(s)))
        if task is None:
            task = self.loop.create_task(self._close(s, reason))
            self._closing[s.id + str(id(s))] = task
        await asyncio.shield(task)

    async def _close(self, s: Session, reason: str) -> None:
        log.info("session %s closing: %s", s.id, reason)
        was_pending = s.state == State.PENDING
        s.state = State.CLOSING
        if s in self.queue:
            self.queue.remove(s)
        for conn in s.connections.values():
            if conn.task is not None and not conn.task.done():
                conn.task.cancel()
        await asyncio.gather(*(c.task for c in s.connections.values() if c.task is not None), return_exceptions=True)
        await asyncio.gather(*(p.close() for p in s.peers), return_exceptions=True)
        if s.worker is not None:
            await s.worker.close(self.model.on_session_end if not was_pending else None)
        await self.recorder.end(s.recording)
        if self.holder is s:
            self.model.bind(None)
            self.holder = None
        s.state = State.CLOSED
        s.connections.clear()
        self.uploads.drop_session(s.id)
        if self.sessions.get(s.id) is s:
            del self.sessions[s.id]
        self.closed[s.id] = {**self.descriptor(s, initial=True), "state": protocol.STATE_CLOSED}
        while len(self.closed) > 256:
            self.closed.popitem(last=False)
        self._closing.pop(s.id + str(id(s)), None)
        self._promote()

    async def _watch(self) -> None:
        """Every ``keepalive_check`` s: close silent peers, time out idle and over-long sessions."""
        cfg = self.config
        while True:
            await asyncio.sleep(cfg.keepalive_check)
            now = time.monotonic()
            self.uploads.expire()
            for s in list(self.sessions.values()):
                if not s.live:
                    continue
                for peer in s.peers:
                    if now - peer.last_activity > cfg.keepalive_timeout:
                        log.info("session %s: connection %s silent for %.0f s, closing it", s.id, peer.connection_id, cfg.keepalive_timeout)
                        self.loop.create_task(peer.close())
                if s.state in (State.WAITING, State.ORPHANED) and not s.peers and now - s.idle_since > cfg.orphan_timeout:
                    self.loop.create_task(self.close_session(s, f"no peer for {cfg.orphan_timeout:g} s"))
                elif (
                    cfg.max_session_duration is not None
                    and s.activated_at is not None
                    and now - s.activated_at > cfg.max_session_duration
                ):
                    self.loop.create_task(self.close_session(s, "maximum session duration reached"))


def send_text(channel: RTCDataChannel | ChunkedChannel | None, text: str | bytes | None) -> None:
    """Send a frame (text or binary) on a channel if it is open; never raises."""
    if channel is None or text is None or channel.readyState != "open":
        return
    try:
        channel.send(text)
    except Exception as exc:
        log.debug("send on %s failed: %s", channel.label, exc)


def _runtime_error(code: str, message: str) -> str:
    return protocol.encode_envelope(protocol.SCOPE_RUNTIME, protocol.MSG_RUNTIME_ERROR, {"code": code, "message": message})

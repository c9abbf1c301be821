"""Sessions: the state machine, connections and their offers, broadcasting, and the watchdog.

One model instance serves one session at a time (protocol.md §2.5). A session walks
PENDING → WAITING → STREAMING ⇄ ORPHANED → CLOSING → CLOSED; the :class:`SessionManager`
queues cloud sessions behind the holder, runs the keepalive/orphan watchdog and closes
sessions cleanly (peers first, then the model thread with the *disconnected* hook).
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from aiortc import RTCDataChannel
from av import VideoFrame

from .. import protocol, schema
from ..schema import CommandSpec
from .config import CLUSTER, SERVER_VERSION, RuntimeConfig
from .media import ModelWorker, OutputTrack
from .models.base import Model, TrackSpec
from .peer import Peer, fallback_mapping
from .recording import Recorder, SessionRecording
from .sdp import MappingError, validate_track_mapping
from .trickle import CandidateError, Trickle
from .uploads import UploadStore
from .wire_choice import Encoded, expects_v1, holds, requester_of, v1_descriptor_fields

log = logging.getLogger(__name__)


class State(str, Enum):
    """Runtime session machine (names reported by ``/health``) plus PENDING / CLOSED."""

    PENDING = "PENDING"
    READY = "READY"
    WAITING = "WAITING"
    STREAMING = "STREAMING"
    ORPHANED = "ORPHANED"
    CLOSING = "CLOSING"
    CLOSED = "CLOSED"


PUBLIC_STATE = {
    State.PENDING: "PENDING",
    State.WAITING: "WAITING",
    State.ORPHANED: "WAITING",
    State.STREAMING: "ACTIVE",
    State.CLOSING: "CLOSED",
    State.CLOSED: "CLOSED",
}


class SessionError(Exception):
    """A request refused with an HTTP status and a clear detail."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


@dataclass
class ModelInfo:
    """A model's static declarations, read once at startup (then only the model thread calls it)."""

    model: Model
    tracks: list[TrackSpec]
    commands: list[CommandSpec]
    capabilities: dict[str, Any]
    schema: dict[str, Any]

    @classmethod
    def of(cls, model: Model) -> ModelInfo:
        tracks = list(model.tracks)
        commands = list(model.commands())
        caps_tracks = [t.capability() for t in tracks]
        messages = [{"name": n, "schema": s.get("properties", {})} for n, s in model.message_schemas().items()]
        caps = schema.legacy_capabilities(commands, caps_tracks, model.fps, messages)
        doc = schema.openapi_schema(
            model.name, f"v{model.version}", model.description, commands, caps_tracks, model.message_schemas()
        )
        return cls(model, tracks, commands, caps, doc)


@dataclass
class Connection:
    """A registered connection id and the state of its latest offer."""

    connection_id: int
    peer: Peer | None = None
    offer_state: str = "none"  # none | pending | ready | failed
    answer: str | None = None
    error: str | None = None
    task: asyncio.Task[None] | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # one offer at a time per connection
    trickle: Trickle = field(default_factory=Trickle)  # candidates waiting for the peer's offer


@dataclass
class Session:
    """One session: its connections, peers, model worker and timers."""

    id: str
    local: bool
    state: State = State.PENDING
    created: float = field(default_factory=time.monotonic)
    connections: dict[int, Connection] = field(default_factory=dict)
    worker: ModelWorker | None = None
    started_model: bool = False
    idle_since: float = field(default_factory=time.monotonic)
    activated_at: float | None = None
    input_owner: dict[str, Peer] = field(default_factory=dict)
    next_cid: int = protocol.FLAT_CONNECTION_ID + 1
    extra: dict[str, Any] = field(default_factory=dict)
    recording: SessionRecording | None = None
    generation: str | None = None  # "streamed" | "stepped", from the session-creating body
    stepper: Any = None  # runtime/stepping.Stepper of a stepped session (created on its first step)

    @property
    def peers(self) -> list[Peer]:
        return [c.peer for c in self.connections.values() if c.peer is not None and not c.peer.closed]

    @property
    def live(self) -> bool:
        return self.state not in (State.CLOSING, State.CLOSED)

    @property
    def ready(self) -> bool:
        return self.state in (State.WAITING, State.STREAMING, State.ORPHANED)


class SessionManager:
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
        s.worker = ModelWorker(self.model, self.loop)
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
            try:  # a v1 requester gets its command's messages after its reply (channels_v1)
                loop.call_soon_threadsafe(self.broadcast, s, message, requester_of(message))
            except RuntimeError:  # loop closed during shutdown
                pass

        return emit

    # --- lookups ----------------------------------------------------------------------------------
    def get(self, sid: str) -> Session | None:
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
        """The session descriptor (§2.5); the initial cloud create response has only five keys."""
        d: dict[str, Any] = {
            "session_id": s.id,
            "state": "CREATED" if initial else PUBLIC_STATE.get(s.state, "CLOSED"),
            "cluster": CLUSTER,
            "model": {"name": self.model.name, "version": self.model.version},
            "server_info": {"server_version": SERVER_VERSION},
        }
        if s.local:
            d[protocol.ATTACHED_CLIENTS_KEY] = sum(1 for p in s.peers if p.connected)
        if not initial and s.ready:
            d["selected_transport"] = {"protocol": "webrtc", "version": protocol.WEBRTC_VERSION}
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
        return dict(closed or {})

    # --- connections and offers -----------------------------------------------------------------
    def register_connection(self, s: Session) -> int:
        """Mint a fresh connection id in 1002-9999."""
        for _ in range(protocol.MAX_CONNECTION_ID):
            cid = s.next_cid
            s.next_cid = cid + 1 if cid < protocol.MAX_CONNECTION_ID else protocol.FLAT_CONNECTION_ID + 1
            if cid not in s.connections:
                s.connections[cid] = Connection(cid)
                return cid
        raise SessionError(409, "No free connection ids left in this session")

    def connection(self, s: Session, cid: int, *, create: bool) -> Connection:
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
            peer = Peer(self, cid, ice_servers=self.config.ice_servers, encoder=self.config.encoder)
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

    # --- PeerHost callbacks -------------------------------------------------------------------------
    def _session_of(self, peer: Peer) -> Session | None:
        s = getattr(peer, "session", None)
        return s if isinstance(s, Session) else None

    def output_attached(self, peer: Peer, track: OutputTrack) -> None:
        s = self._session_of(peer)
        if s is not None and s.worker is not None:
            s.worker.subscribe(track)

    def output_detached(self, peer: Peer, track: OutputTrack) -> None:
        s = self._session_of(peer)
        if s is not None and s.worker is not None:
            s.worker.unsubscribe(track)

    def peer_connected(self, peer: Peer) -> None:
        s = self._session_of(peer)
        if s is None or not s.live or s.worker is None:
            return
        s.state = State.STREAMING
        if not s.started_model:
            s.started_model = True
            s.worker.submit(self.model.on_session_start)
        if s.generation != "stepped":  # a stepped session renders only when a step asks
            s.worker.start()
        log.info("session %s: connection %s connected (STREAMING)", s.id, peer.connection_id)

    def peer_gone(self, peer: Peer) -> None:
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

    def channel_opened(self, peer: Peer, channel: RTCDataChannel) -> None:
        if self.dispatcher is not None:
            self.dispatcher.attach(peer, channel)

    def input_frame(self, peer: Peer, track: str, frame: VideoFrame) -> None:
        s = self._session_of(peer)
        if s is None or s.worker is None or not s.live:
            return
        if track not in peer.published and not self.claim_input(s, peer, track):
            return  # another connection publishes this input: first publisher wins
        s.worker.offer_input(track, frame)

    def input_ended(self, peer: Peer, track: str) -> None:
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
        peer.published.discard(track)
        if s.input_owner.get(track) is peer:
            del s.input_owner[track]
            if s.worker is not None and not s.worker.closed:
                s.worker.submit(self.model.on_input_changed, track, False)

    # --- messages -----------------------------------------------------------------------------------
    def broadcast(self, s: Session, message: dict[str, Any], skip: Peer | None = None) -> None:
        """Send an application message to every open ``data`` channel of the session (but ``skip``)."""
        self.broadcast_raw(s, "application", message, skip)

    def broadcast_raw(self, s: Session, scope: str, message: dict[str, Any], skip: Peer | None = None) -> None:
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
            send_text(peer.channels.get(protocol.CHANNEL_DATA), Encoded("application", message, self.encode).for_peer(peer))

    @staticmethod
    def encode(scope: str, message: dict[str, Any]) -> str:
        """Envelope a message; an oversized one becomes a runtime ``error`` message instead."""
        try:
            text = json.dumps({"scope": scope, "data": message}, separators=(",", ":"), allow_nan=False)
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
        self.closed[s.id] = {**self.descriptor(s, initial=True), "state": "CLOSED"}
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


def send_text(channel: RTCDataChannel | None, text: str | bytes | None) -> None:
    """Send a frame (text or binary) on a channel if it is open; never raises."""
    if channel is None or text is None or channel.readyState != "open":
        return
    try:
        channel.send(text)
    except Exception as exc:
        log.debug("send on %s failed: %s", channel.label, exc)


def _runtime_error(code: str, message: str) -> str:
    return json.dumps({"scope": "runtime", "data": {"type": "error", "data": {"code": code, "message": message}}})

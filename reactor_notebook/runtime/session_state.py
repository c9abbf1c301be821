"""Runtime session records: the state machine's states, a session, its connections, the model's facts.

Plain data shared by the :class:`~.session.SessionManager`, its offer handling (:mod:`.offers`)
and the HTTP routes; the public names of the states are the wire's (``docs/protocol.md``
"Session states").
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from .. import protocol, schema
from ..schema import CommandSpec
from .errors import RequestRefused
from .media import ModelWorker
from .models.base import Model, TrackSpec
from .peer import Peer
from .recording import SessionRecording
from .trickle import Trickle


class State(str, Enum):
    """Runtime session machine (names reported by ``/health``) plus PENDING / CLOSED."""

    PENDING = "PENDING"
    READY = "READY"
    WAITING = "WAITING"
    STREAMING = "STREAMING"
    ORPHANED = "ORPHANED"
    CLOSING = "CLOSING"
    CLOSED = "CLOSED"


# What GET /sessions/{id} reports for each runtime state (a closing session already reads CLOSED).
PUBLIC_STATE = {
    State.PENDING: protocol.STATE_PENDING,
    State.WAITING: protocol.STATE_WAITING,
    State.ORPHANED: protocol.STATE_WAITING,
    State.STREAMING: protocol.STATE_ACTIVE,
    State.CLOSING: protocol.STATE_CLOSED,
    State.CLOSED: protocol.STATE_CLOSED,
}
assert set(PUBLIC_STATE.values()) <= set(protocol.SESSION_STATES)


SessionError = RequestRefused  # the runtime's one refusal, under the name this module exports


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
        """Read a model's tracks, commands, capabilities and schema."""
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
        """The peers of its connections that are not closed."""
        return [c.peer for c in self.connections.values() if c.peer is not None and not c.peer.closed]

    @property
    def live(self) -> bool:
        """Not closing or closed."""
        return self.state not in (State.CLOSING, State.CLOSED)

    @property
    def ready(self) -> bool:
        """Ready for transport calls (WAITING, STREAMING or ORPHANED)."""
        return self.state in (State.WAITING, State.STREAMING, State.ORPHANED)

"""Which wire (v0 JSON or v1 protobuf) each connection speaks, and messages encoded for it.

Like the reference runtime, a connection's wire is latched by the first frame it sends on
either data channel (:func:`reactor_notebook.protocol.v1.sniff`); until then it is v0. A
client whose offer carries the ``a=x-reactor-*`` attributes of today's official packages is
expected to speak v1, so the messages greeting it wait for its first frame instead of going
out as JSON it cannot read. Runtime-scope (v0 platform) messages have no v1 form here.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from .. import protocol
from ..protocol import v1
from ..protocol import v1_messages as out

log = logging.getLogger(__name__)

V1_OFFER_MARK = "a=x-reactor-"
RUNNING = threading.local()  # the v1 command the model thread is handling: its peer and emitted messages


def requester_of(message: dict[str, Any]) -> Any:
    """On the model thread: the v1 peer whose command emitted ``message`` (it gets it after the reply), or None."""
    held = getattr(RUNNING, "held", None)
    if held is None:
        return None
    held.append(message)
    return RUNNING.peer


def expects_v1(offer_sdp: str) -> bool:
    """Whether an offer comes from a v1-era client (it declares reactor SDP extensions)."""
    return V1_OFFER_MARK in offer_sdp


def latch_wire(manager: Any, peer: Any, raw: str | bytes) -> str:
    """The connection's wire, sniffed from its first inbound frame (held greetings then go out)."""
    if peer.wire is None:
        peer.wire = v1.sniff(raw)
        log.info("connection %s speaks wire %s", peer.connection_id, peer.wire)
        held, peer.held_messages = peer.held_messages, []
        if held:
            manager.send_to(peer, held)
    return peer.wire


def holds(peer: Any) -> bool:
    """True while a v1-era connection has not said which wire it speaks."""
    return peer.wire is None and peer.wire_hint == "v1"


class Encoded:
    """One outbound message, encoded lazily (once per wire) for every connection that gets it."""

    def __init__(self, scope: str, message: dict[str, Any], v0: Callable[[str, dict[str, Any]], str]) -> None:
        self.scope, self.message, self._v0 = scope, message, v0
        self._frames: dict[str, str | bytes | None] = {}

    def for_peer(self, peer: Any) -> str | bytes | None:
        """The frame for this connection's wire, or None when the message has no form there."""
        wire = "v1" if peer.wire == "v1" else "v0"
        if wire not in self._frames:
            self._frames[wire] = self._v1() if wire == "v1" else self._v0(self.scope, self.message)
        return self._frames[wire]

    def _v1(self) -> bytes | None:
        if self.scope != protocol.SCOPE_APPLICATION:
            return None
        try:
            return out.model_message(self.message)
        except (v1.V1EncodeError, TypeError, ValueError) as exc:
            log.error("cannot encode message %r for wire v1: %s", self.message.get("type"), exc)
            return None


def v1_descriptor_fields(generation: str | None) -> dict[str, Any]:
    """Descriptor fields today's official client reads: transports, recording, step results, generation."""
    return {
        "transports": [dict(t) for t in protocol.TRANSPORTS],
        "wire_versions": list(protocol.WIRE_VERSIONS),
        "recording": {"enabled": False},
        "step_results": {"enabled": False},
        "generation": generation or protocol.GENERATIONS[0],
    }

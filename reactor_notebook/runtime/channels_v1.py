"""Wire v1 (protobuf ``reactor_wire.v1``) on the ``data`` and ``control`` channels of one connection.

A connection speaks v1 when its first data-channel frame sniffs as v1 (channels.py decides).
Every request is answered for its ``request_id``: a command with the model's reply message, a
bodyless ack or ``error{code, message}``; a control request with its payload or an error. Bad
input (malformed protobuf, a payload we do not serve, a duplicate request_id) gets a specific
error and the connection goes on. Model broadcasts reach v1 connections as NOTIFICATIONs
(session.py). Two single hooks stand in for what other modules serve: :func:`answer_clip`
(clips/recordings) and :func:`answer_step` (stepped generation).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from .. import protocol
from ..protocol import v1
from ..protocol import v1_messages as out
from ..protocol.v1_schema import MESSAGES
from ..schema import CommandValidationError, validate_command
from .clip_routes import clip_answer_v1
from .models.base import Upload
from .session import Session, send_text
from .step_channel import serve_step
from .wire_choice import RUNNING as _RUNNING

if TYPE_CHECKING:
    from .channels import Dispatcher
    from .peer import Peer

log = logging.getLogger(__name__)


def _payloads(message: str) -> dict[str, int]:
    return {f[0]: f[1] for f in MESSAGES[message] if len(f) > 3 and f[3] == "oneof:payload" and f[0] != "error"}


DATA_PAYLOADS = _payloads("DataClientMessage")
CONTROL_PAYLOADS = _payloads("ControlClientMessage")
CLIP_REQUESTS = ("request_clip", "request_recording")


def answer_clip(manager: Any, s: Session, field: str, data: dict[str, Any]) -> dict[str, Any]:
    """The ``ControlServerMessage`` payload answering ``request_clip`` / ``request_recording``."""
    return clip_answer_v1(manager, s, field, data)


def answer_step(dispatcher: Dispatcher, s: Session, peer: Peer, request_id: str, body: dict[str, Any]) -> None:
    """Answer a ``request_step`` with a ``step_result`` (stepped generation: runtime/step_channel.py)."""
    serve_step(dispatcher, s, peer, request_id, body)


def send_data(peer: Peer, frame: bytes) -> None:
    """Send an encoded v1 frame on the connection's ``data`` channel (dropped if it is not open)."""
    send_text(peer.channels.get(protocol.CHANNEL_DATA), frame)


def send_control(peer: Peer, frame: bytes) -> None:
    """Send an encoded v1 frame on the connection's ``control`` channel (dropped if it is not open)."""
    send_text(peer.channels.get(protocol.CHANNEL_CONTROL), frame)


def integer_properties(dispatcher: Dispatcher, command: str) -> dict[str, Any]:
    """``{param: {"type": ...}}`` of a command, to restore integers that travelled as doubles."""
    for spec in dispatcher.manager.info.commands:
        if spec.name == command:
            return {p.name: {"type": p.type} for p in spec.params}
    return {}


class V1Channels:
    """The v1 side of the runtime's channel dispatch (one instance per runtime)."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher
        self.manager = dispatcher.manager

    # --- data ------------------------------------------------------------------------------------
    def on_data(self, s: Session, peer: Peer, raw: str | bytes) -> None:
        """One v1 ``data`` message: a command or a step request; anything else gets an error reply."""
        try:
            msg = v1.decode_data_client(_as_bytes(raw))
        except v1.V1DecodeError as exc:
            log.info("connection %s: malformed v1 data message: %s", peer.connection_id, exc)
            send_data(peer, out.data_error(None, out.MALFORMED_MESSAGE, str(exc)))
            return
        rid = str(msg.get("request_id") or "")
        field, body = v1.payload_of(msg)
        if field == "command":
            self.on_command(s, peer, rid, body)
        elif field == "request_step":
            answer_step(self.dispatcher, s, peer, rid, body)
        else:
            why = describe_payload("DataClientMessage", field, _as_bytes(raw), DATA_PAYLOADS)
            log.info("connection %s: %s", peer.connection_id, why)
            send_data(peer, out.data_error(rid or None, out.UNKNOWN_MESSAGE, why))

    def on_command(self, s: Session, peer: Peer, rid: str, body: dict[str, Any]) -> None:
        """Validate like a v0 command, then run it on the model thread and answer ``rid``."""
        command = str(body.get("type") or "")
        pending = _in_flight(peer)
        if rid and rid in pending:
            send_data(peer, out.data_error(rid, out.DUPLICATE_REQUEST_ID, (
                f"{command or 'command'}: request_id {rid!r} is already in flight on this connection; "
                "every request needs a fresh id"
            )))
            return
        data = v1.restore_integers(body.get("data") or {}, integer_properties(self.dispatcher, command))
        uploads = body.get("uploads") or None
        try:
            args = validate_command(self.manager.info.commands, command, data, fill_defaults=True, uploads=uploads)
            resolved = self.dispatcher._resolve_uploads(s, command, uploads or {})
        except CommandValidationError as err:
            log.info("connection %s: rejected v1 command: %s", peer.connection_id, err)
            send_data(peer, out.data_error(rid or None, err.reason, str(err)))
            return
        if s.worker is None:
            send_data(peer, out.data_error(rid or None, "invalid_state", f"{command}: the session is not running"))
            return
        if rid:
            pending.add(rid)
        s.worker.submit(self._run, s, peer, rid, command, args, resolved)

    def _run(self, s: Session, peer: Peer, rid: str, command: str, args: dict[str, Any],
             uploads: dict[str, Upload]) -> None:
        """On the model thread: apply the command and answer on the loop (after its broadcasts)."""
        _RUNNING.peer, _RUNNING.held = peer, []
        reply: Any = None
        try:
            reply = self.manager.model.handle_command(command, args, uploads)
            frame = out.model_message(reply, rid or None) if isinstance(reply, dict) else (
                out.command_ack(rid) if rid else None)
        except CommandValidationError as err:
            frame = out.data_error(rid or None, err.reason, str(err))
        except Exception as exc:
            log.exception("model failed on v1 command %r", command)
            frame = out.data_error(rid or None, out.INTERNAL_ERROR, f"{command}: the model failed: {type(exc).__name__}: {exc}")
        finally:
            held, _RUNNING.held = _RUNNING.held, None
        rest = [m for m in held if m is not reply]  # the reply itself is not sent twice
        self.manager.loop.call_soon_threadsafe(self._answered, peer, rid, frame, rest)

    def _answered(self, peer: Peer, rid: str, frame: bytes | None, emitted: list[dict[str, Any]]) -> None:
        """The reply first, then what the command broadcast (the requester was skipped meanwhile)."""
        _in_flight(peer).discard(rid)
        if frame is not None:
            send_data(peer, frame)
        self.manager.send_to(peer, emitted)

    # --- control ---------------------------------------------------------------------------------
    def on_control(self, s: Session, peer: Peer, raw: str | bytes) -> None:
        """One v1 ``control`` message: schema, uploads, clips and track verbs; unknown ones get an error."""
        try:
            msg = v1.decode_control_client(_as_bytes(raw))
        except v1.V1DecodeError as exc:
            log.info("connection %s: malformed v1 control message: %s", peer.connection_id, exc)
            send_control(peer, out.control_error(None, out.MALFORMED_MESSAGE, str(exc)))
            return
        rid = str(msg.get("request_id") or "") or None
        field, body = v1.payload_of(msg)
        body = body if isinstance(body, dict) else {}
        if field in (protocol.MSG_PING, protocol.V1_CLIENT_STATS):
            return  # liveness (channels.py touched the peer) and statistics we do not keep
        if field == protocol.V1_REQUEST_SCHEMA:
            send_control(peer, out.model_schema(rid, self.manager.info.schema))
        elif field == protocol.V1_FILE_UPLOADED:
            if not self.manager.uploads.announce(body.get("upload_id"), s.id):
                log.info("file_uploaded for unknown upload %r", body.get("upload_id"))
        elif field in CLIP_REQUESTS:
            send_control(peer, out.control_reply(rid, answer_clip(self.manager, s, field, body)))
        elif field in protocol.TRACK_METHODS:
            self._track(s, peer, rid, field, body.get("name"))
        else:
            why = describe_payload("ControlClientMessage", field, _as_bytes(raw), CONTROL_PAYLOADS)
            log.info("connection %s: %s", peer.connection_id, why)
            send_control(peer, out.control_error(rid, out.UNKNOWN_MESSAGE, why))

    def _track(self, s: Session, peer: Peer, rid: str | None, verb: str, name: Any) -> None:
        error = self.dispatcher._control_request(s, peer, verb, name)
        if verb == protocol.METHOD_PUBLISH_TRACK:
            if error is None:
                send_control(peer, out.control_reply(rid, {protocol.METHOD_PUBLISH_TRACK: {"name": str(name)}}))
            else:
                send_control(peer, out.control_error(rid, out.PUBLISH_REFUSED, f"publish_track: {error['message']}"))
        elif error is not None:
            log.info("connection %s: %s refused: %s", peer.connection_id, verb, error["message"])
            if rid:
                send_control(peer, out.control_error(rid, error["code"].lower(), f"{verb}: {error['message']}"))
        elif rid:
            send_control(peer, out.control_reply(rid))


def describe_payload(message: str, field: str | None, raw: bytes, served: dict[str, int]) -> str:
    """Why a message is not served: a client-side payload we do not handle, or unknown field numbers."""
    if field is not None:
        return f"{message} payload {field!r} is not one a client may send (served: {', '.join(served)})"
    return out.describe_unknown(message, raw, served)


def _as_bytes(raw: str | bytes) -> bytes:
    return raw.encode("utf-8") if isinstance(raw, str) else bytes(raw)


def _in_flight(peer: Peer) -> set[str]:
    """request_ids of this connection's commands that have not been answered yet."""
    pending = getattr(peer, "v1_in_flight", None)
    if pending is None:
        pending = peer.v1_in_flight = set()  # type: ignore[attr-defined]
    return pending

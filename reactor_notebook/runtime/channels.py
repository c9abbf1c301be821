"""Data-channel dispatch: ``data`` (commands + runtime messages) and ``control`` (track slots).

Commands are validated here on the event loop, then queued to the model thread in arrival
order; rejections go back as the model's error messages (``docs/protocol.md`` "Data channel, wire v0" and "Commands").
"""

from __future__ import annotations

import json
import logging
from typing import Any

from aiortc import RTCDataChannel

from .. import protocol
from ..protocol import clips
from ..schema import CommandValidationError, validate_command
from .channels_v1 import V1Channels
from .clip_routes import clip_answer
from .models.base import Upload
from .peer import Peer
from .session import Session, SessionManager, send_text
from .wire_choice import latch_wire

log = logging.getLogger(__name__)


class Dispatcher:
    """Routes messages of every peer's channels to the session and the model."""

    def __init__(self, manager: SessionManager) -> None:
        self.manager = manager
        manager.dispatcher = self
        self.v1 = V1Channels(self)

    def attach(self, peer: Peer, channel: RTCDataChannel) -> None:
        """A client opened a channel; wire it by label."""
        s = getattr(peer, "session", None)
        if not isinstance(s, Session):
            return
        if channel.label == protocol.CHANNEL_DATA:
            channel.on("message", lambda raw: self.on_data(s, peer, raw))
            self._greet(s, peer)
        elif channel.label == protocol.CHANNEL_CONTROL:
            channel.on("message", lambda raw: self.on_control(s, peer, raw))
        else:
            log.info("connection %s opened unknown channel %r; ignoring it", peer.connection_id, channel.label)

    def _greet(self, s: Session, peer: Peer) -> None:
        worker = s.worker
        if worker is None:
            return
        fut = worker.submit(self.manager.model.greeting)

        def done(f: Any) -> None:
            """Send the greeting once the model thread produced it (a failed greeting sends nothing)."""
            if f.cancelled() or f.exception() is not None:
                return
            self.manager.send_to(peer, f.result() or [])

        fut.add_done_callback(done)

    # --- data ---------------------------------------------------------------------------------
    def on_data(self, s: Session, peer: Peer, raw: str | bytes) -> None:
        """One ``data`` message: hand v1 to :class:`V1Channels`, else route the envelope by scope.
        Oversized messages are rejected as a command error so the sender learns to use uploads."""
        peer.touch()
        if latch_wire(self.manager, peer, raw) == "v1":
            self.v1.on_data(s, peer, raw)
            return
        if len(raw) > protocol.MAX_MESSAGE_SIZE:
            self._reject(s, CommandValidationError(
                _peek_type(raw), "invalid_value",
                f"message of {len(raw)} bytes exceeds the {protocol.MAX_MESSAGE_SIZE}-byte limit; send large files as uploads",
            ))
            return
        try:
            env = protocol.decode_envelope(raw)
        except protocol.EnvelopeError as exc:
            log.warning("connection %s: dropping data message: %s", peer.connection_id, exc)
            return
        if env.scope == protocol.SCOPE_APPLICATION:
            self.on_command(s, env.type or "", env.data, env.uploads)
        elif env.scope == protocol.SCOPE_RUNTIME:
            self.on_runtime(s, peer, env.type or "", env.data)
        else:
            log.warning("connection %s: dropping message without envelope", peer.connection_id)

    def on_command(self, s: Session, command: str, data: Any, uploads: dict[str, Any] | None) -> None:
        """Validate, resolve uploads, and queue to the model thread (arrival order)."""
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except ValueError:
                pass
        try:
            args = validate_command(self.manager.info.commands, command, data, fill_defaults=True, uploads=uploads)
            resolved = self._resolve_uploads(s, command, uploads or {})
        except CommandValidationError as err:
            self._reject(s, err)
            return
        if s.worker is not None:
            s.worker.submit(self._run_command, s, command, args, resolved)

    def _resolve_uploads(self, s: Session, command: str, uploads: dict[str, Any]) -> dict[str, Upload]:
        out: dict[str, Upload] = {}
        for key, ref in uploads.items():
            uid = ref.get("upload_id") if isinstance(ref, dict) else ref
            rec = self.manager.uploads.completed(uid, s.id)
            if rec is None:
                raise CommandValidationError(
                    command, "unknown_upload", f"upload {uid!r} is unknown, expired or not completed", key
                )
            out[key] = rec.as_upload()
        return out

    def _run_command(self, s: Session, command: str, args: dict[str, Any], uploads: dict[str, Upload]) -> None:
        """On the model thread: apply a command; report semantic rejections as model messages."""
        model = self.manager.model
        try:
            model.handle_command(command, args, uploads)
        except CommandValidationError as err:
            for msg in model.error_messages(err):
                model.emit(msg)
        except Exception as exc:
            log.exception("model failed on command %r", command)
            failure = CommandValidationError(command, "invalid_state", f"the model failed: {type(exc).__name__}: {exc}")
            for msg in model.error_messages(failure):
                model.emit(msg)

    def _reject(self, s: Session, err: CommandValidationError) -> None:
        log.info("rejected command: %s", err)
        for msg in self.manager.model.error_messages(err):
            self.manager.broadcast(s, msg)

    def on_runtime(self, s: Session, peer: Peer, type_: str, data: Any) -> None:
        """A runtime-scope message: answer capabilities, schema and clip requests; note uploads."""
        channel = peer.channels.get(protocol.CHANNEL_DATA)
        info = self.manager.info
        if type_ == protocol.MSG_PING:
            return
        if type_ == protocol.MSG_REQUEST_CAPABILITIES:
            reply: dict[str, Any] = {"type": protocol.MSG_MODEL_CAPABILITIES, "data": info.capabilities}
        elif type_ == protocol.MSG_REQUEST_SCHEMA:
            reply = {"type": protocol.MSG_MODEL_SCHEMA, "data": info.schema}
        elif type_ == protocol.MSG_FILE_UPLOADED:
            uid = data.get("upload_id") if isinstance(data, dict) else None
            if not self.manager.uploads.announce(uid, s.id):
                log.info("fileUploaded for unknown upload %r", uid)
            return
        elif type_ in (clips.REQUEST_CLIP, clips.REQUEST_RECORDING):
            answer, fields = clip_answer(self.manager, s, type_, data)
            reply = {"type": answer, "data": fields}
        else:
            log.info("dropping unknown runtime message %r", type_)
            return
        send_text(channel, self.manager.encode(protocol.SCOPE_RUNTIME, reply))

    # --- control ----------------------------------------------------------------------------------
    def on_control(self, s: Session, peer: Peer, raw: str | bytes) -> None:
        """One ``control`` message: answer requests (track verbs) and apply notifications (pause, resume…)."""
        peer.touch()
        if latch_wire(self.manager, peer, raw) == "v1":
            self.v1.on_control(s, peer, raw)
            return
        msg = protocol.decode_control(raw)
        if msg is None:
            log.warning("connection %s: dropping malformed control message", peer.connection_id)
            return
        name = msg.name
        if msg.kind == protocol.KIND_REQUEST:
            method = str(msg.method)
            error = self._control_request(s, peer, method, name)
            send_text(
                peer.channels.get(protocol.CHANNEL_CONTROL),
                protocol.control_response(method, str(msg.request_id), {} if error is None else None, error),
            )
        elif msg.kind == protocol.KIND_NOTIFICATION:
            event = msg.method
            if event == protocol.METHOD_PAUSE_TRACK and isinstance(name, str):
                peer.pause_output(name)
            elif event == protocol.METHOD_RESUME_TRACK and isinstance(name, str):
                peer.resume_output(name)
            elif event == protocol.METHOD_UNPUBLISH_TRACK and isinstance(name, str):
                self.manager.release_input(s, peer, name)
            else:
                log.info("dropping control notification %r", event)

    def _control_request(self, s: Session, peer: Peer, method: str, name: Any) -> dict[str, str] | None:
        inputs = {t.name for t in self.manager.info.tracks if t.direction == "in"}
        outputs = {t.name for t in self.manager.info.tracks if t.direction == "out"}
        if method in (protocol.METHOD_PUBLISH_TRACK, protocol.METHOD_UNPUBLISH_TRACK):
            if not isinstance(name, str) or name not in inputs:
                return {"code": "UNKNOWN_TRACK", "message": f"{name!r} is not an input track (inputs: {sorted(inputs)})"}
            if method == protocol.METHOD_UNPUBLISH_TRACK:
                self.manager.release_input(s, peer, name)
                return None
            if not self.manager.claim_input(s, peer, name):
                return {"code": "PUBLISHER_SLOT_TAKEN", "message": f"another connection already publishes {name!r}"}
            return None
        if method in protocol.OUTPUT_METHODS:
            if not isinstance(name, str) or name not in outputs:
                return {"code": "UNKNOWN_TRACK", "message": f"{name!r} is not an output track (outputs: {sorted(outputs)})"}
            (peer.pause_output if method == protocol.METHOD_PAUSE_TRACK else peer.resume_output)(name)
            return None
        return {"code": "UNKNOWN_METHOD", "message": f"unknown control method {method!r}"}


def _peek_type(raw: str | bytes) -> str:
    try:
        obj = json.loads(raw)
        inner = obj.get("data") if isinstance(obj, dict) else None
        t = inner.get("type") if isinstance(inner, dict) else None
        return t if isinstance(t, str) else "(unknown)"
    except (ValueError, UnicodeDecodeError, AttributeError):
        return "(unknown)"

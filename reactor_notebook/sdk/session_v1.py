"""The :class:`~.session.Reactor` side of wire v1 (a mixin): commands, schema and uploads over v1.

On a v1 connection every command is a request the runtime answers: the model's reply message,
a bare acknowledgement, or ``error{code, message}`` (the runtime's validation or the model's own
``CommandError``). Fire-and-forget ``send_command`` still returns at once; its answer is read in
the background, so a refusal lands in ``last_rejection`` and the ``command_rejected`` event as on
v0. Runtime notifications are mapped to the v0 runtime-message names the rest of the SDK knows
(``modelSchema``, ``clipReady``, ``clipFailed``, ``moderation``, ``sessionEnded``).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from typing import TYPE_CHECKING, Any

from .. import protocol as P
from ..protocol import clips as PC
from ..schema import CommandSpec
from .channels_v1 import REQUEST_TIMEOUT_S, V1Channels, V1RequestError
from .replies import CommandReply, Rejection, coerce_integers, in_schema_order

if TYPE_CHECKING:
    from .transport import WebRTCTransport

logger = logging.getLogger(__name__)

# ControlServerMessage payload → the v0 runtime-message type the session already handles.
V0_NAMES = {
    P.V1_MODEL_SCHEMA: P.MSG_MODEL_SCHEMA,
    PC.V1_CLIP_READY: PC.CLIP_READY,
    PC.V1_CLIP_FAILED: PC.CLIP_FAILED,
    P.V1_MODERATION: "moderation",
    P.V1_SESSION_ENDED: "sessionEnded",
}


class V1SessionMixin:
    """v1 hooks used by :class:`Reactor` when :func:`.channels_v1.choose_wire` picked v1."""

    _transport: WebRTCTransport | None
    _last_rejection: Rejection | None
    _int_fields: dict[str, frozenset[str]]
    _field_orders: dict[str, tuple[str, ...]]
    _commands: list[CommandSpec]
    _status: Any
    _sdk: Any
    _schema_doc: dict[str, Any] | None = None
    _capabilities: Any
    _bg: set[asyncio.Future[Any]]

    if TYPE_CHECKING:  # provided by Reactor / EventsMixin (declared here for type checkers only)

        def _emit(self, event: str, *args: Any) -> None: ...

        def _on_application_message(self, inner: dict[str, Any]) -> None: ...

        def _on_runtime_message(self, inner: dict[str, Any]) -> None: ...

    @property
    def v1(self) -> V1Channels | None:
        """The v1 request/response client of the current connection (None on wire v0)."""
        return self._transport.v1 if self._transport is not None else None

    async def request_data(self, msg: dict[str, Any], timeout: float | None = None) -> dict[str, Any]:
        """Advanced: one wire-v1 ``data`` request (e.g. ``{"request_step": {...}}``); the correlated reply.

        See :mod:`reactor_notebook.sdk.channels_v1` for the message form. Raises ``NotReadyError``
        unless READY on a v1 connection, ``V1RequestError`` / ``V1TimeoutError`` as documented there.
        """
        return await self._sdk.run(self._v1_call("data", msg, timeout))

    async def request_control(self, msg: dict[str, Any], timeout: float | None = None) -> dict[str, Any]:
        """Advanced: one wire-v1 ``control`` request (e.g. ``{"request_clip": {...}}``); the correlated reply."""
        return await self._sdk.run(self._v1_call("control", msg, timeout))

    async def _v1_call(self, channel: str, msg: dict[str, Any], timeout: float | None) -> dict[str, Any]:
        from .errors import NotReadyError, ReactorException
        from .types import ReactorStatus

        v1 = self.v1
        if self._status != ReactorStatus.READY:
            raise NotReadyError("send a wire-v1 request", self._status)
        if v1 is None:
            raise ReactorException(
                "NOT_SUPPORTED",
                "this session speaks wire v0 (the runtime does not serve v1, or wire='v0' was asked for); "
                "wire-v1 requests need a runtime that serves v1, such as reactor-runtime 3.x",
            )
        if channel == "data":
            return await v1.request_data(msg, timeout)
        return await v1.request_control(msg, timeout)

    def _attach_v1(self, transport: WebRTCTransport, current: Any) -> None:
        """Give a new transport its v1 channel client, reporting to this session while it is current."""

        def model_message(message: dict[str, Any]) -> None:
            """A v1 model message, delivered as the v0 application message while this transport is current."""
            if current():
                self._on_application_message(self._v1_message(message))

        def control(msg: dict[str, Any]) -> None:
            """A v1 control notification (schema, clips, moderation, end) as its v0 runtime message."""
            if not current():
                return
            for field, name in V0_NAMES.items():
                if field in msg:
                    body = msg[field]
                    data = body.get("openapi") if field == "model_schema" and isinstance(body, dict) else body
                    self._on_runtime_message({"type": name, "data": data})
                    return
            logger.debug("v1 control notification ignored: %s", sorted(msg))

        transport.v1 = V1Channels(transport.send_frame, model_message, control)

    async def _v1_fetch_schema(self, timeout: float) -> None:
        """``request_schema`` → ``model_schema``: fed to the same handler as v0's ``modelSchema``."""
        assert self.v1 is not None
        reply = await self.v1.request_control({P.V1_REQUEST_SCHEMA: {}}, timeout)
        schema = (reply.get(P.V1_MODEL_SCHEMA) or {}).get("openapi")
        if isinstance(schema, dict):
            self._schema_doc = schema
            self._on_runtime_message({"type": P.MSG_MODEL_SCHEMA, "data": schema})

    async def _v1_runtime_request(self, request: str, timeout: float) -> Any:
        """v0's ``requestSchema`` on a v1 connection (``requestCapabilities`` has no v1 form)."""
        if request == P.MSG_REQUEST_SCHEMA:
            await self._v1_fetch_schema(timeout)
            return self._schema_doc
        caps = self._capabilities
        if request == P.MSG_REQUEST_CAPABILITIES and isinstance(caps, dict) and caps.get("commands"):
            return dict(caps)  # no v1 request: the session descriptor's capabilities are the answer
        from .errors import ReactorException

        raise ReactorException(
            "NOT_SUPPORTED", f"{request} does not exist on wire v1 and the descriptor lists no commands (use the schema)"
        )

    def _v1_command(
        self, command: str, data: dict[str, Any], uploads: dict[str, Any], expect: bool
    ) -> asyncio.Future[CommandReply] | None:
        """Send a command as a v1 request; its answer resolves the returned future (``expect``) or is recorded."""
        assert self.v1 is not None
        body: dict[str, Any] = {"type": command, "data": data}
        if uploads:
            body["uploads"] = uploads
        t0 = time.monotonic()
        rid = self.v1.send_request(P.CHANNEL_DATA, {P.V1_COMMAND: body})  # too big / channel closed: raises here
        request = asyncio.ensure_future(self.v1.wait_reply(rid, REQUEST_TIMEOUT_S))
        result: asyncio.Future[CommandReply] = asyncio.get_running_loop().create_future()

        def done(task: asyncio.Future[dict[str, Any]]) -> None:
            """Resolve the command's future from the v1 answer; a rejection also reaches message handlers."""
            elapsed = (time.monotonic() - t0) * 1000
            exc = None if task.cancelled() else task.exception()
            if isinstance(exc, V1RequestError) and exc.error_code != "DISCONNECTED":
                params = {p.name for c in self._commands if c.name == command for p in c.params}
                field = _field_of(exc.error_message, params)
                rejection = Rejection(command, exc.error_code, exc.error_message, field)
                # Also as the typed ``command_error`` message v0 delivers, so message handlers, the
                # timeline, last_rejection and the command_rejected event see it on either wire.
                self._on_application_message({"type": P.MSG_COMMAND_ERROR, "data": {
                    "command": command, "field": field, "reason": exc.error_code, "message": exc.error_message,
                }})
                outcome: BaseException | CommandReply = rejection.to_error()
            elif exc is not None or task.cancelled():
                outcome = exc or asyncio.CancelledError()
            else:
                reply = task.result()
                message = reply.get("message")
                if isinstance(message, dict):  # the reply also reaches on_message and the timeline
                    message = coerce_integers(self._v1_message(message), self._int_fields)
                    self._on_application_message(message)
                rid = str(reply.get("request_id") or "") or None
                outcome = CommandReply(command, message if isinstance(message, dict) else None, True, elapsed, rid)
            if isinstance(outcome, CommandReply):
                result.set_result(outcome)
            else:
                result.set_exception(outcome)
                result.exception()  # fire-and-forget callers never read it

        request.add_done_callback(done)
        self._bg.add(request)
        request.add_done_callback(self._bg.discard)
        return result if expect else None

    def _v1_message(self, message: dict[str, Any]) -> dict[str, Any]:
        """A v1 ``ModelMessage`` as ``{"type", "data"}`` with its fields in schema order (a Struct has none)."""
        return in_schema_order({"type": message.get("type"), "data": message.get("data") or {}}, self._field_orders)

    def _v1_file_uploaded(self, ref: dict[str, Any]) -> None:
        """``file_uploaded`` notification on control (v0: ``fileUploaded`` on data)."""
        assert self.v1 is not None
        self.v1.notify_control({"file_uploaded": ref})


def _field_of(message: str, params: set[str]) -> str | None:
    """The parameter a v1 error message names: ``… field 'r': …`` (ours) or ``r: 300.0 > le(255)`` (3.x)."""
    match = re.search(r"field '([^']+)'", message) or re.match(r"\s*([A-Za-z_][\w]*)\s*:", message)
    name = match.group(1) if match else None
    return name if name is not None and (name in params or "field '" in message) else None

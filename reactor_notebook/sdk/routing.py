"""Message and frame routing of :class:`~.session.Reactor`: what the runtime sends, delivered once.

Data-channel messages are decoded with the protocol codec and routed by scope: application
messages update the model state, the reply book and the timeline, and fire ``message`` plus the
typed ``state`` / ``model_error`` events (:mod:`.messages`); runtime messages update the
commands and capabilities and wake the waiters of ``requestSchema`` / ``requestCapabilities``.
Decoded frames go to ``reactor.frames`` and the frame callbacks.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from .. import protocol as P
from ..schema import commands_from_openapi, normalize_commands
from .core import SCHEMA_REQUEST_TIMEOUT_S, SessionCore
from .errors import TIMEOUT, NotReadyError, ReactorException
from .messages import model_error_of, model_state_of
from .reader import Frame, FrameTiming
from .replies import coerce_integers, field_orders, integer_fields, reply_types
from .types import Capabilities, ReactorStatus

if TYPE_CHECKING:
    from .channels_v1 import V1Channels

logger = logging.getLogger(__name__)


class RoutingPart(SessionCore):
    """Incoming traffic for :class:`Reactor`: frames, application and runtime messages, runtime replies."""

    if TYPE_CHECKING:  # provided by V1SessionMixin

        @property
        def v1(self) -> V1Channels | None:
            """The v1 request/response client of the current connection (None on wire v0)."""

        async def _v1_runtime_request(self, request: str, timeout: float) -> Any: ...

        async def _v1_fetch_schema(self, timeout: float) -> None: ...

    # --- frames ---------------------------------------------------------------------------------
    def _on_frame(self, arr: Frame, track: str, timing: FrameTiming) -> None:
        self._frame_counters.on_frame(timing)
        if track != self._primary_video():
            self.frames.push(arr, track=track, latency_ms=timing.age_ms)
            return
        facts = self._indexer.facts(arr, self.frames.state)  # this frame's own model frame, chunk, prompt
        self.frames.push(
            arr,
            track=track,
            latency_ms=timing.age_ms,
            frame_index=facts.frame,
            chunk=facts.chunk,
            prompt=facts.prompt,
            exact=facts.exact,
        )
        self._dispatcher.submit(arr)

    def _primary_video(self) -> str | None:
        for t in self._tracks:
            if t.get("kind") == "video" and t.get("direction") == "recvonly":
                return t["name"]
        return None

    # --- messages -------------------------------------------------------------------------------
    def _on_message(self, raw: str) -> None:
        try:
            env = P.decode_envelope(raw)
        except P.EnvelopeError as exc:
            if "not valid JSON" in str(exc):
                self.frames.add_event("message", "raw", raw)
                self._emit("message", raw)  # un-enveloped payloads reach the user whole
            else:
                logger.info("dropped data-channel message: %s", exc)
            return
        if env.scope is None:
            self.frames.add_event("message", "raw", env.inner)
            self._emit("message", env.inner)
        elif env.scope == P.SCOPE_APPLICATION:
            self._on_application_message(env.inner)
        else:
            self._on_runtime_message(env.inner)

    def _on_application_message(self, inner: dict[str, Any]) -> None:
        inner = coerce_integers(inner, self._int_fields)
        rejection = self._replies.on_message(inner)
        if rejection is not None:
            self._last_rejection = rejection
            self._emit("command_rejected", rejection)
        state = model_state_of(inner)
        if state is not None:
            self._model_state = dict(state.data)
            self._indexer.on_state(state.data)
            self.frames.set_state(state.data)
        else:
            mtype, data = inner.get("type"), inner.get("data")
            name = mtype
            if mtype == P.MSG_EVENT and isinstance(data, dict) and isinstance(data.get("event"), str):
                name = f"event:{data['event']}"
            self.frames.add_event("message", str(name), data)
        self._emit("message", inner)
        if state is not None:
            self._emit("state", state)
        error = model_error_of(inner)
        if error is not None:
            self._emit("model_error", error)

    def _on_runtime_message(self, inner: dict[str, Any]) -> None:
        mtype, data = inner.get("type"), inner.get("data")
        if mtype == P.MSG_MODEL_SCHEMA and isinstance(data, dict):
            cmds = commands_from_openapi(data)
            if cmds:
                self._commands = cmds
                self._commands_from_schema = True
                self._use_schema_doc(data)
        elif mtype == P.MSG_MODEL_CAPABILITIES and isinstance(data, dict):
            if data.get("tracks"):
                self._capabilities = data  # type: ignore[assignment]
            if not self._commands_from_schema and data.get("commands"):
                self._commands = normalize_commands(data, None)
            self._emit("capabilities_received", data)
        for fut in self._runtime_waiters.pop(str(mtype), []):
            if not fut.done():
                fut.set_result(data)
        self.frames.add_event("event", f"runtime:{mtype}", data)
        self._emit("runtime_message", inner)

    def _use_schema_doc(self, doc: dict[str, Any] | None) -> None:
        """Reply types and integer message fields from an OpenAPI schema (descriptor or ``modelSchema``)."""
        self._replies.reply_types = reply_types(doc)
        self._int_fields = integer_fields(doc)
        self._field_orders = field_orders(doc)

    # --- runtime requests -----------------------------------------------------------------------
    async def _await_runtime_reply(self, request: str, timeout: float) -> Any:
        """Send a runtime request (``requestSchema``, ``requestCapabilities``) and await its reply's data."""
        if self._transport is None or self._status != ReactorStatus.READY:
            raise NotReadyError(f"send {request}", self._status)
        if self.v1 is not None:  # a v1 connection takes no v0 frame
            return await self._v1_runtime_request(request, timeout)
        reply = P.RUNTIME_REPLIES[request]
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._runtime_waiters.setdefault(reply, []).append(fut)
        try:
            self._transport.send_raw(P.encode_envelope(P.SCOPE_RUNTIME, request, {}))
            return await asyncio.wait_for(fut, timeout)
        except asyncio.TimeoutError:
            raise ReactorException(TIMEOUT, f"no {reply!r} reply to {request!r} within {timeout} s") from None
        finally:
            waiters = self._runtime_waiters.get(reply, [])
            if fut in waiters:
                waiters.remove(fut)

    async def _fetch_schema(self) -> None:
        """No schema in the descriptor: ask with ``requestSchema`` (3 s), else keep the capabilities' commands."""
        if self.v1 is not None:
            try:
                await self._v1_fetch_schema(SCHEMA_REQUEST_TIMEOUT_S)
            except ReactorException as exc:
                logger.info("no v1 model_schema reply (%s); using the capabilities' commands", exc)
            return
        try:
            await self._await_runtime_reply(P.MSG_REQUEST_SCHEMA, SCHEMA_REQUEST_TIMEOUT_S)
        except ReactorException as exc:
            logger.debug("no modelSchema reply (%s); using the capabilities' commands", exc.code)

    async def request_capabilities(self, timeout: float = 5.0) -> Capabilities:
        """Ask the runtime for its capabilities (``requestCapabilities`` → ``modelCapabilities``).

        Waits up to ``timeout`` seconds for the reply: a ReactorException with code ``TIMEOUT``
        after that, NotReadyError when the session is not READY or disconnects meanwhile.
        """
        result: Capabilities = await self._sdk.run(
            self._await_runtime_reply(P.MSG_REQUEST_CAPABILITIES, timeout)
        )
        return result

    async def request_schema(self, timeout: float = 5.0) -> dict[str, Any]:
        """Ask the runtime for its OpenAPI command schema (``requestSchema`` → ``modelSchema``); errors as
        :meth:`request_capabilities`."""
        result: dict[str, Any] = await self._sdk.run(self._await_runtime_reply(P.MSG_REQUEST_SCHEMA, timeout))
        return result

"""Wire v1 on the ``control`` and ``data`` channels: requests correlated by ``request_id``.

From a :class:`~reactor_notebook.sdk.Reactor` (any loop): ``await reactor.request_data(msg)`` /
``await reactor.request_control(msg)`` (``NotReadyError`` unless READY on a v1 connection;
``reactor.wire`` says which wire the session speaks). The channel client itself (``reactor.v1``,
None on v0) offers the same on the SDK loop, for other SDK modules (steps, clips, commands)::

    reply = await channels.request_data({"command": {"type": "set_color", "data": {"r": 1}}})
    reply = await channels.request_data({"request_step": {...}}, timeout=60)
    reply = await channels.request_control({"request_clip": {"duration_seconds": 5.0}})

A request is one ``DataClientMessage`` / ``ControlClientMessage`` given as a dict of its payload
field (the protobuf field names of ``reactor_wire.v1``; ``request_id`` and ``kind`` are filled in).
The reply is the server message with the same ``request_id`` as a dict: ``{"request_id", "kind",
<payload field>: {...}}``, e.g. ``{"message": {"type": "color_set", "data": {...}}}`` for a command
the model answered, no payload field for a bare acknowledgement. A reply carrying ``error`` raises
:class:`V1RequestError` (``code``, ``message``: the runtime's or the model's own); no reply within
``timeout`` raises :class:`V1TimeoutError`; a disconnect fails every pending request with
:class:`V1RequestError` code ``DISCONNECTED``. Server notifications (model broadcasts, moderation,
session end, schema pushes) go to the callbacks given at construction.

Which wire a connection speaks is decided per session by :func:`choose_wire`: v1 where the
runtime serves it (our runtime lists ``wire_versions``; reactor-runtime 3.x sniffs the first frame
of each connection and serves both), v0 (the JSON envelope) otherwise and as the fallback. The
wire itself is described in docs/protocol-v1.md.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable
from typing import Any, Literal

from .. import protocol as P
from ..protocol import v1 as wire  # loaded with the SDK: a lazy import cost ~19 ms inside the first connect
from .errors import ReactorException, V1RequestError, V1TimeoutError  # noqa: F401  (defined in errors, still importable here)

logger = logging.getLogger(__name__)

Wire = Literal["v0", "v1"]
REQUEST_TIMEOUT_S = 10.0
Channel = Literal["data", "control"]


def choose_wire(descriptor: dict[str, Any] | None, preference: str = "auto") -> Wire:
    """v1 when asked, or (``auto``) when the descriptor shows a runtime that serves it; else v0.

    Signals, most explicit first: a ``wire_versions`` list naming ``v1``; a reactor-runtime 3.x
    descriptor (``server_info.server_version`` major >= 3 together with its ``transports`` list).
    """
    if preference in ("v0", "v1"):
        return preference  # type: ignore[return-value]
    desc = descriptor or {}
    versions = desc.get("wire_versions")
    if isinstance(versions, list):
        return "v1" if "v1" in versions else "v0"
    server = str((desc.get("server_info") or {}).get("server_version") or "")
    major = server.split(".", 1)[0]
    if major.isdigit() and int(major) >= 3 and isinstance(desc.get("transports"), list):
        return "v1"
    return "v0"


def codec() -> Any:
    """The v1 codec of the protocol package (dicts keyed by ``reactor_wire.v1`` field names)."""
    return wire


def is_v1_frame(frame: str | bytes) -> bool:
    """A binary frame that is not JSON text (how reactor-runtime 3.x tells v1 from v0)."""
    return codec().sniff(frame) == "v1"


class V1Channels:
    """The v1 client side of one connection: encode, send, correlate, dispatch."""

    def __init__(
        self,
        send: Callable[[Channel, bytes], None],
        on_model_message: Callable[[dict[str, Any]], None],
        on_control_notification: Callable[[dict[str, Any]], None],
        *,
        timeout: float = REQUEST_TIMEOUT_S,
    ) -> None:
        self._wire = codec()
        self._send = send
        self._on_model_message = on_model_message
        self._on_control_notification = on_control_notification
        self.timeout = timeout
        self._ids = itertools.count(1)
        self._pending: dict[str, tuple[str, asyncio.Future[dict[str, Any]]]] = {}

    # --- requests --------------------------------------------------------------------------
    async def request_data(self, msg: dict[str, Any], timeout: float | None = None) -> dict[str, Any]:
        """Send a ``DataClientMessage`` request and return the correlated ``DataServerMessage``."""
        return await self._request("data", msg, timeout)

    async def request_control(self, msg: dict[str, Any], timeout: float | None = None) -> dict[str, Any]:
        """Send a ``ControlClientMessage`` request and return the correlated ``ControlServerMessage``."""
        return await self._request("control", msg, timeout)

    def notify_control(self, msg: dict[str, Any]) -> None:
        """Send a ``ControlClientMessage`` notification (ping, pause/resume/unpublish track, stats)."""
        self._send(P.CHANNEL_CONTROL, self._wire.encode_control_client({"kind": P.KIND_NOTIFICATION, **msg}))

    def _what(self, msg: dict[str, Any]) -> str:
        payload = next((k for k in msg if k not in ("request_id", "kind")), P.KIND_REQUEST)
        inner = msg.get(payload)
        name = inner.get("type") if isinstance(inner, dict) else None
        return f"{payload} {name!r}" if name else payload

    def send_request(self, channel: Channel, msg: dict[str, Any]) -> str:
        """Encode and send a request now (send errors raise here); returns its ``request_id``.

        Await the answer with :meth:`wait_reply` (which also forgets the request).
        """
        rid = f"r{next(self._ids)}"
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[rid] = (self._what(msg), fut)
        body = {**msg, "request_id": rid, "kind": P.KIND_REQUEST}
        try:
            frame = (
                self._wire.encode_data_client(body)
                if channel == "data"
                else self._wire.encode_control_client(body)
            )
            self._send(channel, frame)
        except BaseException:
            self._pending.pop(rid, None)
            raise
        return rid

    async def wait_reply(self, rid: str, timeout: float | None = None) -> dict[str, Any]:
        """The reply to request ``rid`` (``V1RequestError`` for an error reply, ``V1TimeoutError``)."""
        pending = self._pending.get(rid)
        if pending is None:
            raise V1RequestError(rid, "UNKNOWN_REQUEST", "no such pending request")
        what, fut = pending
        limit = self.timeout if timeout is None else timeout
        try:
            return await asyncio.wait_for(asyncio.shield(fut), limit)
        except asyncio.TimeoutError:
            raise V1TimeoutError(what, limit) from None
        finally:
            self._pending.pop(rid, None)

    async def _request(self, channel: Channel, msg: dict[str, Any], timeout: float | None) -> dict[str, Any]:
        return await self.wait_reply(self.send_request(channel, msg), timeout)

    # --- incoming ----------------------------------------------------------------------------
    def on_frame(self, channel: Channel, frame: bytes) -> None:
        """One binary frame from the runtime: resolve its request or dispatch its notification."""
        try:
            msg = (
                self._wire.decode_data_server(frame)
                if channel == "data"
                else self._wire.decode_control_server(frame)
            )
        except Exception as exc:  # a frame we cannot read is logged, never fatal
            logger.info("dropped an unreadable v1 %s frame (%d bytes): %s", channel, len(frame), exc)
            return
        rid = str(msg.get("request_id") or "")
        pending = self._pending.get(rid) if rid else None
        if pending is not None:
            what, fut = pending
            if not fut.done():
                err = msg.get("error")
                if isinstance(err, dict):
                    fut.set_exception(
                        V1RequestError(what, str(err.get("code") or "ERROR"), str(err.get("message") or ""))
                    )
                    fut.exception()
                else:
                    fut.set_result(msg)
            return
        if channel == "data":
            model_message = msg.get("message")
            if isinstance(model_message, dict):
                self._on_model_message(model_message)
            elif msg.get("error"):
                logger.info("v1 data error without a pending request: %s", msg.get("error"))
        else:
            self._on_control_notification(msg)

    def fail_all(self, code: str = "DISCONNECTED", message: str = "disconnected while waiting") -> None:
        """Fail every pending request (full or recoverable disconnect)."""
        for what, fut in list(self._pending.values()):
            if not fut.done():
                fut.set_exception(V1RequestError(what, code, message))
                fut.exception()
        self._pending.clear()

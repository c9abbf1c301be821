"""Command replies and rejections: what the model answered to the command a caller sent.

On wire v1 every command carries a ``request_id`` and the runtime answers that id (a reply
message, a bodyless ack, or an error); the channel client in :mod:`.channels_v1` resolves those.
On wire v0 (our runtime's JSON, reactor-runtime 2.0) nothing is correlated on the wire, so
:class:`ReplyBook` correlates by content: a rejection (legacy ``event``/``error`` or typed
``command_error``) names its ``command``, and a reply is the message type the schema declares as
that command's ``200`` response (OpenAPI ``$ref`` shared by the response and a webhook). Waits
are bounded; on v0 a command the model accepts without a declared reply resolves as unconfirmed
when the bound passes. The same module reads the schema's integer message fields, because
runtimes that carry data as protobuf ``Struct`` (reactor-runtime 3.x) send integers as floats.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from .errors import CommandRejectedError
from .messages import is_refusal

REPLY_WAIT_S = 5.0  # default bound of send_command_and_wait


@dataclass(frozen=True)
class CommandReply:
    """The outcome of one command: the model's reply message, or acceptance without one.

    ``reply`` is the reply message ``{"type", "data"}`` (None when the model sends none);
    ``confirmed`` is True when the runtime answered this command itself (a reply or an ack), False
    when only the wait bound passed without a rejection (wire v0, no reply declared).
    """

    command: str
    reply: dict[str, Any] | None = None
    confirmed: bool = False
    elapsed_ms: float = 0.0
    request_id: str | None = None

    @property
    def data(self) -> dict[str, Any] | None:
        """The reply message's ``data`` (None without a reply)."""
        return None if self.reply is None else self.reply.get("data")


@dataclass(frozen=True)
class Rejection:
    """A model's refusal of a command, as read from a rejection message or a v1 error."""

    command: str
    code: str
    message: str
    field: str | None = None
    at: float = dataclasses.field(default_factory=time.time)

    def to_error(self) -> CommandRejectedError:
        """The exception a caller waiting on the command receives."""
        return CommandRejectedError(self.command, self.code, self.message, field=self.field)

    def to_dict(self) -> dict[str, Any]:
        """The rejection as plain JSON-ready fields (with ``at``, its wall-clock time)."""
        return {"command": self.command, "code": self.code, "field": self.field, "message": self.message, "at": self.at}


def rejection_of(message: dict[str, Any]) -> Rejection | None:
    """The rejection carried by an application message (legacy ``event:error``, typed ``command_error``)."""
    if not is_refusal(message):
        return None
    data = message["data"]
    command = str(data.get("command") or "")
    code = str(data.get("reason") or data.get("code") or "rejected")
    text = str(data.get("message") or data.get("reason") or "rejected by the model")
    fld = data.get("field")
    return Rejection(command, code, text, fld if isinstance(fld, str) and fld else None)


def _ref_name(node: Any) -> str | None:
    ref = node.get("$ref") if isinstance(node, dict) else None
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None


def _json_schema(op: Any) -> Any:
    try:
        return op["requestBody"]["content"]["application/json"]["schema"]
    except (KeyError, TypeError):
        return None


def reply_types(doc: dict[str, Any] | None) -> dict[str, str]:
    """Command name → the message type the schema declares as its reply (OpenAPI ``200`` response)."""
    if not isinstance(doc, dict):
        return {}
    by_ref: dict[str, str] = {}
    for name, hook in (doc.get("webhooks") or {}).items():
        ref = _ref_name(_json_schema((hook or {}).get("post")))
        if ref:
            by_ref[ref] = name
    out: dict[str, str] = {}
    for path, item in (doc.get("paths") or {}).items():
        op = (item or {}).get("post") if isinstance(item, dict) else None
        if not isinstance(op, dict) or not str(path).startswith("/events/"):
            continue
        try:
            schema = op["responses"]["200"]["content"]["application/json"]["schema"]
        except (KeyError, TypeError):
            continue
        ref = _ref_name(schema)
        if ref in by_ref:
            out[str(op.get("operationId") or path.rsplit("/", 1)[-1])] = by_ref[ref]
    return out


def _message_properties(doc: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """Message type → its schema ``properties`` (in declaration order), from the schema's webhooks."""
    if not isinstance(doc, dict):
        return {}
    components = (doc.get("components") or {}).get("schemas") or {}
    out: dict[str, dict[str, Any]] = {}
    for name, hook in (doc.get("webhooks") or {}).items():
        schema = _json_schema((hook or {}).get("post"))
        ref = _ref_name(schema)
        if ref is not None:
            schema = components.get(ref)
        props = (schema or {}).get("properties") if isinstance(schema, dict) else None
        if isinstance(props, dict):
            out[str(name)] = props
    return out


def integer_fields(doc: dict[str, Any] | None) -> dict[str, frozenset[str]]:
    """Message type → names of its ``integer`` fields, from the schema's webhooks."""
    out: dict[str, frozenset[str]] = {}
    for name, props in _message_properties(doc).items():
        ints = frozenset(k for k, v in props.items() if isinstance(v, dict) and v.get("type") == "integer")
        if ints:
            out[name] = ints
    return out


def field_orders(doc: dict[str, Any] | None) -> dict[str, tuple[str, ...]]:
    """Message type → its fields in schema order (a ``Struct`` on wire v1 carries no order)."""
    return {name: tuple(props) for name, props in _message_properties(doc).items()}


def in_schema_order(message: dict[str, Any], orders: dict[str, tuple[str, ...]]) -> dict[str, Any]:
    """The message with its ``data`` keys in schema order, unknown keys after them alphabetically."""
    data = message.get("data")
    if not isinstance(data, dict):
        return message
    order = orders.get(str(message.get("type")), ())
    rank = {k: i for i, k in enumerate(order)}
    keys = sorted(data, key=lambda k: (rank.get(k, len(order)), k))
    return {**message, "data": {k: data[k] for k in keys}}


def coerce_integers(message: dict[str, Any], fields: dict[str, frozenset[str]]) -> dict[str, Any]:
    """Integral floats → int in the fields the schema types as integer (a new dict when changed)."""
    names = fields.get(str(message.get("type")))
    data = message.get("data")
    if not names or not isinstance(data, dict):
        return message
    fixed, changed = dict(data), False
    for key in names & fixed.keys():
        value = fixed[key]
        if isinstance(value, float) and value.is_integer():
            fixed[key], changed = int(value), True
    return {**message, "data": fixed} if changed else message


@dataclass
class _Waiter:
    command: str
    reply_type: str | None
    future: asyncio.Future[CommandReply]
    started: float = dataclasses.field(default_factory=time.monotonic)


class ReplyBook:
    """Wire-v0 correlation: pending commands matched, oldest first, to the messages that answer them."""

    def __init__(self) -> None:
        self._waiters: deque[_Waiter] = deque()
        self.reply_types: dict[str, str] = {}

    def expect(self, command: str) -> asyncio.Future[CommandReply]:
        """Register a just-sent command; the future resolves with its reply or fails with its rejection."""
        fut: asyncio.Future[CommandReply] = asyncio.get_running_loop().create_future()
        self._waiters.append(_Waiter(command, self.reply_types.get(command), fut))
        return fut

    def expects_reply(self, command: str) -> bool:
        """True when the schema names a reply message for ``command``, so a send can wait for it."""
        return command in self.reply_types

    def on_message(self, message: dict[str, Any]) -> Rejection | None:
        """Resolve the waiter a message answers; returns the rejection the message carries, if any."""
        rejection = rejection_of(message)
        for waiter in list(self._waiters):
            if waiter.future.done():
                self._waiters.remove(waiter)
                continue
            elapsed = (time.monotonic() - waiter.started) * 1000
            if rejection is not None and rejection.command in ("", waiter.command):
                self._waiters.remove(waiter)
                waiter.future.set_exception(rejection.to_error())
                break
            if rejection is None and waiter.reply_type and message.get("type") == waiter.reply_type:
                self._waiters.remove(waiter)
                waiter.future.set_result(CommandReply(waiter.command, message, True, elapsed))
                break
        return rejection

    def discard(self, fut: asyncio.Future[CommandReply]) -> None:
        """Forget a waiter (its bound passed or its caller went away)."""
        for waiter in list(self._waiters):
            if waiter.future is fut:
                self._waiters.remove(waiter)

    def fail_all(self, exc: BaseException) -> None:
        """Disconnect: every pending wait fails with ``exc``."""
        while self._waiters:
            fut = self._waiters.popleft().future
            if not fut.done():
                fut.set_exception(exc)
                fut.exception()


async def await_reply(book: ReplyBook, command: str, fut: asyncio.Future[CommandReply], timeout: float) -> CommandReply:
    """Wait (bounded) for a v0 command's answer: its reply/rejection, or acceptance when the bound passes.

    A command whose schema declares a reply and gets none within ``timeout`` raises
    :class:`CommandTimeoutError`; one without a declared reply resolves unconfirmed.
    """
    from .errors import CommandTimeoutError

    t0 = time.monotonic()
    try:
        return await asyncio.wait_for(asyncio.shield(fut), timeout)
    except asyncio.TimeoutError:
        if book.expects_reply(command):
            raise CommandTimeoutError(command, timeout) from None
        return CommandReply(command, None, False, (time.monotonic() - t0) * 1000)
    finally:
        book.discard(fut)

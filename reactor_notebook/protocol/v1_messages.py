"""Wire v1 messages a runtime sends, as bytes, plus the error codes it puts on them.

Every answer to a client request carries that request's ``request_id`` and kind RESPONSE;
unsolicited messages (model broadcasts, errors about frames that had no id) are NOTIFICATIONs.
Codes shared with the reference runtime keep its spelling (``invalid_command``,
``internal_error``, ``publish_refused``); a rejected command's code is the validation reason
(``out_of_range``, ``unknown_command``, ...), its message names command, field and why.
"""

from __future__ import annotations

from typing import Any

from . import v1

# --- error codes ---------------------------------------------------------------------------------
MALFORMED_MESSAGE = "malformed_message"  # bytes that do not parse as the channel's message type
UNKNOWN_MESSAGE = "unknown_message"  # a payload this runtime does not serve (e.g. a newer oneof member)
DUPLICATE_REQUEST_ID = "duplicate_request_id"  # a request_id still in flight on this connection
INTERNAL_ERROR = "internal_error"  # the model's handler raised
PUBLISH_REFUSED = "publish_refused"  # publish_track refused (unknown input, slot taken)
STEP_NOT_SUPPORTED = "step_not_supported"

RESPONSE, NOTIFICATION = "response", "notification"


def _kind(request_id: str | None) -> dict[str, Any]:
    return {"request_id": request_id, "kind": RESPONSE} if request_id else {"kind": NOTIFICATION}


def model_message(message: dict[str, Any], request_id: str | None = None) -> bytes:
    """A model message ``{"type", "data"}``: a RESPONSE when ``request_id`` is given, else a NOTIFICATION."""
    data = message.get("data")
    body = {"type": str(message.get("type") or ""), "data": data if isinstance(data, dict) else {"value": data}}
    return v1.encode_data_server({**_kind(request_id), "message": body})


def command_ack(request_id: str) -> bytes:
    """The bodyless RESPONSE acknowledging a command whose handler returned no message."""
    return v1.encode_data_server({"request_id": request_id, "kind": RESPONSE})


def data_error(request_id: str | None, code: str, message: str) -> bytes:
    """``error{code, message}`` on ``data`` (a RESPONSE to ``request_id``, or a NOTIFICATION without one)."""
    return v1.encode_data_server({**_kind(request_id), "error": {"code": code, "message": message}})


def control_error(request_id: str | None, code: str, message: str) -> bytes:
    """``error{code, message}`` on ``control``."""
    return v1.encode_control_server({**_kind(request_id), "error": {"code": code, "message": message}})


def control_reply(request_id: str | None, payload: dict[str, Any] | None = None) -> bytes:
    """A ``ControlServerMessage`` answering ``request_id`` with one payload member (or none: an ack)."""
    return v1.encode_control_server({**_kind(request_id), **(payload or {})})


def model_schema(request_id: str | None, openapi: dict[str, Any]) -> bytes:
    """The answer to ``request_schema``: the OpenAPI document as a Struct."""
    return control_reply(request_id, {"model_schema": {"openapi": openapi}})


def unknown_fields(raw: bytes) -> list[int]:
    """Top-level field numbers of a protobuf message outside its envelope fields (1, 2) and error (40).

    Used to name the payload a peer sent that this codec does not know. Returns [] for bytes
    that are not a well-formed sequence of fields.
    """
    numbers: list[int] = []
    pos, end = 0, len(raw)

    def varint() -> int:
        """Read one base-128 varint at ``pos`` and advance past it; raises on truncated input."""
        nonlocal pos
        shift = value = 0
        while True:
            if pos >= end or shift > 63:
                raise ValueError("truncated varint")
            byte = raw[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return value
            shift += 7

    try:
        while pos < end:
            tag = varint()
            number, wire_type = tag >> 3, tag & 7
            if wire_type == 0:
                varint()
            elif wire_type == 1:
                pos += 8
            elif wire_type == 2:
                length = varint()  # read first: the varint advances pos
                pos += length
            elif wire_type == 5:
                pos += 4
            else:
                return []
            if pos > end:
                return []
            numbers.append(number)
    except ValueError:
        return []
    return [n for n in numbers if n not in (1, 2, 40)]


def describe_unknown(message_name: str, raw: bytes, known: dict[str, int]) -> str:
    """Why a decoded message has no payload we serve, naming the field numbers it did carry."""
    fields = sorted(set(unknown_fields(raw)))
    served = ", ".join(f"{name} ({number})" for name, number in known.items())
    if fields:
        which = ", ".join(str(n) for n in fields)
        return f"{message_name} payload field {which} is not one this runtime serves (served: {served})"
    return f"{message_name} carries no payload (served: {served})"

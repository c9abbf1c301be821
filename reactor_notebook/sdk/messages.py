"""Typed application messages: the model's ``state`` and its refusals, parsed once by the SDK.

The session emits them as the ``state`` and ``model_error`` events (beside the raw ``message``
event), so the widget, its forms and the magic read fields instead of re-parsing dicts. A
refusal comes in two families: the typed ``command_error`` and the legacy
``{"type": "event", "data": {"event": "error", ...}}`` (``docs/protocol.md`` "Application messages").
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from .. import protocol as P


@dataclass(frozen=True)
class ModelState:
    """The data of one ``state`` message (a copy) and when it arrived (Unix seconds)."""

    data: dict[str, Any]
    at: float = field(default_factory=time.time)


@dataclass(frozen=True)
class ModelError:
    """The model's own refusal of a command, as shown next to its form."""

    command: str | None
    field: str | None
    reason: str | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        """``{"command", "field", "reason", "message"}``, the widget's ``model_error`` shape."""
        return {"command": self.command, "field": self.field, "reason": self.reason, "message": self.message}


def model_state_of(message: Any) -> ModelState | None:
    """The :class:`ModelState` of an application message, or None when it is not a ``state``."""
    if not isinstance(message, dict) or message.get("type") != P.MSG_STATE:
        return None
    data = message.get("data")
    return ModelState(dict(data)) if isinstance(data, dict) else None


def is_refusal(message: Any) -> bool:
    """True for ``command_error`` and the legacy ``event``/``error`` message."""
    if not isinstance(message, dict) or not isinstance(message.get("data"), dict):
        return False
    mtype, data = message.get("type"), message["data"]
    return mtype == P.MSG_COMMAND_ERROR or (mtype == P.MSG_EVENT and data.get("event") == P.EVENT_ERROR)


def model_error_of(message: Any) -> ModelError | None:
    """The :class:`ModelError` an application message carries, or None."""
    if not is_refusal(message):
        return None
    data = message["data"]
    text, command, reason = data.get("message"), data.get("command"), data.get("reason")
    if not isinstance(text, str) or not text:
        text = f"{command or 'command'} rejected: {reason or 'error'}"
    return ModelError(
        command if isinstance(command, str) else None,
        data.get("field") if isinstance(data.get("field"), str) else None,
        reason if isinstance(reason, str) else None,
        text,
    )

"""What the ``%reactor`` magic prints after a command: the model's reply or its rejection.

The magic sends through :meth:`Reactor.send_command_and_wait_sync` with a short bound (the
magic's ``reply_wait``), so a rejection reaches the cell that caused it instead of only the
timeline. Session objects without that method (test fakes, older objects) are sent to
fire-and-forget.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

REPLY_WAIT_S = 0.4  # default bound (magic and widget forms): a loopback round trip, short for a script line


def _reason(command: str, message: str, field: str | None) -> str:
    """The model's message without its ``command:`` prefix, with the field named when it is not."""
    text = message[len(command) + 1 :].strip() if message.startswith(f"{command}:") else message
    return f"field {field!r}: {text}" if field and repr(field) not in text else text


def rejection_line(command: str, message: str, code: str, field: str | None) -> str:
    """One line naming command, field and reason: ``✗ start rejected: <model's message> [code]``."""
    return f"✗ {command} rejected: {_reason(command, message, field)} [{code}]"


def send_and_describe(
    reactor: Any, command: str, data: dict[str, Any], wait: float, show: Callable[[Any], str]
) -> str | None:
    """Send ``command``; return the line describing the model's answer (None: there is none).

    ``show`` renders the reply's data (the magic's own compact JSON).
    """
    waiter = getattr(reactor, "send_command_and_wait_sync", None)
    if waiter is None or wait <= 0:
        reactor.send_command_sync(command, data)
        return None
    from ..sdk.errors import CommandRejectedError, CommandTimeoutError

    try:
        result = waiter(command, data, timeout=wait)
    except CommandRejectedError as exc:
        return rejection_line(command, exc.model_message, exc.model_code, exc.field)
    except CommandTimeoutError:
        return f"… {command}: no reply within {wait:g} s (it may still come: see reactor.frames.timeline())"
    reply = getattr(result, "reply", None)
    if reply:
        name, data = reply.get("type"), reply.get("data")
        if name == "event" and isinstance(data, dict) and isinstance(data.get("event"), str):
            name, data = data["event"], {k: v for k, v in data.items() if k != "event"}  # Helios's legacy family
        return f"← {name} {show(data if isinstance(data, dict) else {'data': data})}"
    return None


def status_line(reactor: Any) -> str | None:
    """``rejected: …`` for ``%reactor status``: the model's latest refusal, apart from client errors."""
    rejection = getattr(reactor, "last_rejection", None)
    if rejection is None:
        return None
    ago = max(0.0, time.time() - rejection.at)
    reason = _reason(rejection.command, rejection.message, rejection.field)
    return f"rejected: {rejection.command}: {reason} [{rejection.code}] ({ago:.0f} s ago)"

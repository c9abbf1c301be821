"""Command forms: schema → form spec for the front end, and kernel-side validation of submissions.

The browser renders one form per command from :func:`form_spec` and validates with the
same rules as :func:`reactor_notebook.schema.validate_param`; the kernel validates again
with :func:`reactor_notebook.schema.validate_command` (the browser is never trusted) and
answers every ``{"type": "command", "id", "name", "args"}`` with a ``command_result``.
A session that can wait for the model's answer (``send_command_and_wait_sync``) puts the
model's reply into the ``command_result`` (``reply``) or its rejection into ``error``; later
rejections reach the widget as the SDK's typed ``model_error`` event (``sdk/messages.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..schema import CommandSpec, CommandValidationError, ParamSpec, validate_command


def widget_kind(p: ParamSpec) -> str:
    """Which input renders a parameter (see the module docstring of js/src/forms.js)."""
    if p.is_upload or p.type == "upload":
        return "upload"
    if p.format == "image-base64":
        return "image"
    if p.enum is not None:
        return "select"
    if p.type == "boolean":
        return "checkbox"
    if p.type in ("integer", "number"):
        return "slider" if p.minimum is not None and p.maximum is not None else "number"
    if p.type == "string":
        return "textarea" if p.format == "multiline" else "text"
    return "json"


def _step(p: ParamSpec) -> float | None:
    if p.type == "integer":
        return 1
    if p.type == "number" and p.minimum is not None and p.maximum is not None:
        span = float(p.maximum) - float(p.minimum)
        return span / 100 if span > 0 else None
    return None


def param_spec(p: ParamSpec) -> dict[str, Any]:
    """One field: the normalised parameter plus ``kind`` and ``step`` for the form."""
    d = p.to_dict()
    d["kind"] = widget_kind(p)
    d["step"] = _step(p)
    d["nullable"] = p.nullable
    return d


def _with_group(field: dict[str, Any], groups: tuple[tuple[str, ...], ...]) -> dict[str, Any]:
    """Mark a parameter of a one-of group: required as a group, not on its own."""
    for group in groups:
        if field["name"] in group:
            field["required"] = False
            field["alternatives"] = [n for n in group if n != field["name"]]
    return field


def form_spec(commands: list[CommandSpec], transport: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """JSON-friendly form description for every command, in declaration order; the parameter-less
    ones named in ``transport`` (the model profile's transport verbs) are drawn as buttons."""
    out = []
    for c in commands:
        out.append(
            {
                "name": c.name,
                "description": c.description,
                "params": [_with_group(param_spec(p), c.one_of) for p in c.params],
                "one_of": [list(g) for g in c.one_of],
                "transport": c.name in transport and not c.params,
            }
        )
    return out


def error_dict(exc: BaseException, command: str | None, reason: str = "send_failed") -> dict[str, Any]:
    """A ``command_result`` error: ``{command, field, reason, message}``."""
    if isinstance(exc, CommandValidationError):
        return exc.to_dict()
    code = getattr(exc, "model_code", None)  # CommandRejectedError: the model's own refusal, in its words
    if isinstance(code, str):
        return {"command": command, "field": getattr(exc, "field", None), "reason": code,
                "message": str(getattr(exc, "model_message", exc))}
    msg = str(exc) or type(exc).__name__
    return {
        "command": command,
        "field": None,
        "reason": reason,
        "message": f"{command}: {msg}" if command else msg,
    }


def handle_command(
    commands: list[CommandSpec],
    msg: dict[str, Any],
    send: Callable[[str, dict[str, Any]], Any],
) -> dict[str, Any]:
    """Validate a form submission, send it, and build the ``command_result`` reply (never raises)."""
    rid = msg.get("id")
    name = msg.get("name")
    reply: dict[str, Any] = {"type": "command_result", "id": rid, "name": name, "ok": False, "error": None}
    if not isinstance(name, str) or not name:
        reply["error"] = {
            "command": None,
            "field": None,
            "reason": "bad_request",
            "message": f"command message needs a non-empty string 'name', got {name!r}",
        }
        return reply
    args = msg.get("args", {})
    try:
        clean = validate_command(commands, name, args)
    except CommandValidationError as exc:
        reply["error"] = exc.to_dict()
        return reply
    try:
        answer = send(name, clean)
    except CommandValidationError as exc:
        reply["error"] = exc.to_dict()
        return reply
    except Exception as exc:
        reply["error"] = error_dict(exc, name)
        return reply
    reply["ok"] = True
    model_reply = getattr(answer, "reply", None)  # a CommandReply when the session waited for one
    if isinstance(model_reply, dict):
        reply["reply"] = {"type": model_reply.get("type"), "data": model_reply.get("data")}
    return reply


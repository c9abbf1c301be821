"""Type and shape checks of the runtime's JSON request bodies (``docs/protocol.md`` "HTTP API"), one function per route.

Every route that reads a body checks its JSON type first (an object where an object is meant, or
nothing), then the types of the fields it uses, and refuses anything else with an error that names
the route, the field and what it got. Unknown fields are ignored (clients may add some).
"""

from __future__ import annotations

from typing import Any

from .session import SessionError

MAX_TOKEN_LIFETIME_S = 30 * 24 * 3600  # bounded: no infinite (or float-overflowing) tokens


def json_type(value: Any) -> str:
    """The JSON name of a decoded value's type (for error messages)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, dict) else type(value).__name__


def _refuse(status: int, route: str, what: str, value: Any) -> SessionError:
    return SessionError(status, f"{route}: {what}, got {json_type(value)} {_short(value)}")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def optional_object(body: Any, route: str, status: int = 400) -> dict[str, Any]:
    """A body that may be absent or JSON null (→ ``{}``), else must be a JSON object."""
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise _refuse(status, route, "the body must be a JSON object, null or empty", body)
    return body


def optional_object_field(body: dict[str, Any], name: str, route: str, status: int = 400) -> dict[str, Any] | None:
    """``body[name]`` when it is an object, None when absent or null; anything else is refused."""
    value = body.get(name)
    if value is not None and not isinstance(value, dict):
        raise _refuse(status, route, f"'{name}' must be a JSON object or null", value)
    return value


def session_extra(body: dict[str, Any], route: str, status: int = 400) -> dict[str, Any] | None:
    """The model options a session start carries (``extra_configs``, or the older ``extra_args``)."""
    configs = optional_object_field(body, "extra_configs", route, status)
    args = optional_object_field(body, "extra_args", route, status)
    return configs or args


def token_request(body: Any) -> tuple[float | None, str | None]:
    """``POST /tokens``: nothing, null, or ``{expires_after?, session_id?, authorization_details?}``.

    ``authorization_details`` is the scoped-token request of the 1.x clients: a list of objects
    with a string ``type`` and object ``resources`` (``constraints`` optional). It is checked
    for shape; this runtime mints the same token for it (one model, no accounts to scope to).
    """
    route = "POST /tokens"
    req = optional_object(body, route)
    expires_after = req.get("expires_after")
    if expires_after is not None and (
        isinstance(expires_after, bool)
        or not isinstance(expires_after, (int, float))
        or not 0 < expires_after <= MAX_TOKEN_LIFETIME_S
    ):
        raise _refuse(400, route, f"'expires_after' must be a number of seconds in (0, {MAX_TOKEN_LIFETIME_S}]",
                      expires_after)
    sid = req.get("session_id")
    if sid is not None and not isinstance(sid, str):
        raise _refuse(400, route, "'session_id' must be a string", sid)
    details = req.get("authorization_details")
    if details is not None:
        if not isinstance(details, list):
            raise _refuse(400, route, "'authorization_details' must be an array of objects", details)
        for i, item in enumerate(details):
            where = f"authorization_details[{i}]"
            if not isinstance(item, dict):
                raise _refuse(400, route, f"'{where}' must be an object", item)
            if not isinstance(item.get("type"), str):
                raise _refuse(400, route, f"'{where}.type' must be a string", item.get("type"))
            if not isinstance(item.get("resources"), dict):
                raise _refuse(400, route, f"'{where}.resources' must be an object", item.get("resources"))
            optional_object_field(item, "constraints", f"{route} {where}")
    return expires_after, sid


def ice_candidates(body: Any) -> list[dict[str, Any]]:
    """``POST …/ice_candidates``: ``{"candidates": [{"candidate": str, ...}, ...]}``."""
    route = "POST ice_candidates"
    if not isinstance(body, dict):
        raise _refuse(400, route, "the body must be a JSON object with a 'candidates' array", body)
    cands = body.get("candidates")
    if not isinstance(cands, list):
        raise _refuse(400, route, "'candidates' must be an array", cands)
    for i, c in enumerate(cands):
        if not isinstance(c, dict) or not isinstance(c.get("candidate"), str):
            raise _refuse(400, route, f"'candidates[{i}]' must be an object with a string 'candidate'", c)
    return cands

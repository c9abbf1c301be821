"""When a session stops being usable: the runtime's own deadline, or the end of a token we cannot renew.

``session_expiration_changed`` carries this time (Unix seconds). A descriptor may state it
(``expires_at``); a JWT handed to ``Reactor(jwt=...)`` was minted elsewhere, so the session cannot
outlive its ``exp`` claim (an API key lets the SDK mint fresh tokens instead). The JWT is only
decoded, never verified: the claim is advisory for the user, the server enforces it.
"""

from __future__ import annotations

import base64
import json
from typing import Any


def jwt_expiry(token: str | None) -> float | None:
    """The ``exp`` claim of a JWT (Unix seconds), or None for an opaque or malformed token."""
    parts = token.split(".") if isinstance(token, str) else []
    if len(parts) != 3:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, TypeError):
        return None
    exp = payload.get("exp") if isinstance(payload, dict) else None
    return float(exp) if isinstance(exp, (int, float)) and not isinstance(exp, bool) else None


def descriptor_expiry(desc: dict[str, Any] | None) -> float | None:
    """``expires_at`` of a session descriptor (Unix seconds), if the runtime states one."""
    value = (desc or {}).get("expires_at")
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def session_expiry(desc: dict[str, Any] | None, unrenewable_jwt: str | None) -> float | None:
    """The earliest of the descriptor's deadline and the given token's expiry (None: no known end)."""
    known = [t for t in (descriptor_expiry(desc), jwt_expiry(unrenewable_jwt)) if t is not None]
    return min(known) if known else None

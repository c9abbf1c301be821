"""Pieces of the SDK's HTTP client that hold no connection: secrets, backoff, error mapping.

Split from :mod:`.http` so the client class reads in one sitting; see ``docs/protocol.md``
"HTTP API" for the statuses and headers.
"""

from __future__ import annotations

import email.utils
import json
import re
import time
from dataclasses import dataclass

from .. import protocol as P
from .errors import (
    BAD_REQUEST,
    NOT_FOUND,
    RATE_LIMITED,
    SERVER_ERROR,
    UNAUTHORIZED,
    VERSION_ERROR_CODES,
    ApiError,
    ConflictError,
    VersionMismatchError,
)

SDK_TYPE = "python"
try:  # the package version is the SDK version reported to servers
    from importlib.metadata import version as _pkg_version

    SDK_VERSION = _pkg_version("reactor-notebook")
except Exception:  # pragma: no cover - not installed
    SDK_VERSION = "0.1.0"

RETRYABLE = (429, 503)
# reactor-runtime 2.0 refuses /start_session with 400 "Cannot start session in state X"; in these
# states it is loading its model or finishing a stop, so the call is retried like a 503.
LEGACY_TRANSIENT_STATES = P.TRANSIENT_STATES
ORPHAN_TIMEOUT_HINT = "30 s on reactor_notebook's runtime and reactor-runtime 2.0, 60 s on reactor-runtime 3.x"
_REFUSED_STATE = re.compile(r"cannot start session in state (\w+)", re.IGNORECASE)


class Secret:
    """A string that never shows itself in repr/str (API keys, JWTs)."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The secret itself, for the one place that sends it."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)


@dataclass(frozen=True)
class PollPolicy:
    """Exponential backoff: first sleep, cap, and the number of attempts (docs/protocol.md "Timing")."""

    first_s: float
    cap_s: float
    attempts: int

    @classmethod
    def of(cls, triple: tuple[float, float, int]) -> PollPolicy:
        """A policy from ``(first sleep, cap, attempts)``."""
        return cls(*triple)


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` as seconds (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def detail(text: str) -> str:
    """A short human-readable reason from an error body (``{"detail": ...}`` or raw text)."""
    reason = text.strip()
    try:
        obj = json.loads(text)
        if isinstance(obj, dict) and "detail" in obj:
            reason = obj["detail"] if isinstance(obj["detail"], str) else json.dumps(obj["detail"])
    except ValueError:
        pass
    return reason[:300] + ("..." if len(reason) > 300 else "")


def refused_state(text: str) -> str | None:
    """The state named by a legacy runtime's "Cannot start session in state X" refusal, upper-case, or None."""
    match = _REFUSED_STATE.search(text)
    return match.group(1).upper() if match else None


def error_for_status(status: int, text: str, what: str, retry_after: float | None = None) -> ApiError:
    """Map an HTTP error status to the SDK exception (as reactor-sdk 1.x does)."""
    reason = detail(text)
    msg = f"{what} failed: HTTP {status}" + (f": {reason}" if reason else "")
    if status in VERSION_ERROR_CODES:
        hint = (
            "the server needs a newer client (upgrade reactor_notebook)"
            if status == 426
            else "the server is older than this client"
        )
        return VersionMismatchError(VERSION_ERROR_CODES[status], f"{msg} ({hint})", status=status)
    if status in (401, 403):
        return ApiError(UNAUTHORIZED, msg + " (check the API key)", status=status)
    if status == 404:
        return ApiError(NOT_FOUND, msg, status=status)
    if status == 409:
        return ConflictError(msg, status=status)
    if status == 429:
        return ApiError(RATE_LIMITED, msg, status=status, retry_after=retry_after)
    if 400 <= status < 500:
        return ApiError(BAD_REQUEST, msg, status=status)
    return ApiError(SERVER_ERROR, msg, status=status, retry_after=retry_after)



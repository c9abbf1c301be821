"""API-key checks and the cloud-like coordinator's bearer tokens (``docs/protocol.md`` "HTTP API").

Tokens are JWT-shaped (``header.payload.signature``) and signed with a per-process random
secret, so a forged or tampered token fails the HMAC check and an expired one fails the
``exp`` check. Neither keys nor tokens are ever logged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass


class AuthError(Exception):
    """A request that must be answered 401; the message is safe to show (no secrets)."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class TokenClaims:
    """What a valid token says: expiry and, if scoped, the one session it may use."""

    expires_at: float
    session_id: str | None


class Authenticator:
    """Checks API keys (timing-safe) and mints / verifies bearer tokens."""

    def __init__(self, api_keys: tuple[str, ...] = (), lifetime: float = 3600.0) -> None:
        self._keys = tuple(k.encode("utf-8") for k in api_keys)
        self._secret = secrets.token_bytes(32)
        self.lifetime = lifetime

    def check_api_key(self, key: str | None) -> None:
        """Accept any non-empty key, or only configured ones (compared in constant time)."""
        if not key:
            raise AuthError("Missing API key: send it in the Reactor-API-Key header")
        if not self._keys:
            return
        given = key.encode("utf-8")
        ok = False
        for k in self._keys:
            ok |= hmac.compare_digest(given, k)
        if not ok:
            raise AuthError("Invalid API key")

    def mint(self, expires_after: float | None = None, session_id: str | None = None) -> tuple[str, float]:
        """A new token and its expiry (unix seconds)."""
        lifetime = self.lifetime if expires_after is None else float(expires_after)
        exp = time.time() + lifetime
        header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        claims: dict[str, object] = {"exp": exp, "jti": secrets.token_hex(12), "iss": "reactor-notebook"}
        if session_id is not None:
            claims["sid"] = session_id
        payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
        sig = _b64(hmac.new(self._secret, f"{header}.{payload}".encode(), hashlib.sha256).digest())
        return f"{header}.{payload}.{sig}", exp

    def verify(self, token: str) -> TokenClaims:
        """Decode a token minted here; raise AuthError if forged, malformed or expired."""
        parts = token.split(".")
        if len(parts) != 3:
            raise AuthError("Invalid token")
        header, payload, sig = parts
        expected = _b64(hmac.new(self._secret, f"{header}.{payload}".encode(), hashlib.sha256).digest())
        if not hmac.compare_digest(expected.encode(), sig.encode()):
            raise AuthError("Invalid token")
        try:
            claims = json.loads(_unb64(payload))
            exp = float(claims["exp"])
        except (ValueError, KeyError, TypeError):
            raise AuthError("Invalid token") from None
        if exp <= time.time():
            raise AuthError("Token expired: request a new one from POST /tokens")
        sid = claims.get("sid")
        return TokenClaims(exp, sid if isinstance(sid, str) else None)

    def check_bearer(self, authorization: str | None, session_id: str | None = None) -> TokenClaims:
        """Validate an ``Authorization: Bearer <token>`` header, optionally for one session."""
        if not authorization:
            raise AuthError("Missing Authorization header: send 'Bearer <token>' from POST /tokens")
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthError("Malformed Authorization header: expected 'Bearer <token>'")
        claims = self.verify(token.strip())
        if session_id is not None and claims.session_id is not None and claims.session_id != session_id:
            raise AuthError("Token is scoped to another session")
        return claims

"""HTTP side of the SDK: tokens, sessions, polling and uploads (``docs/protocol.md`` "HTTP API").

One :class:`HttpApi` per connect attempt, living on the SDK loop. It knows the two modes
(cloud coordinator vs local runtime), sends the version headers, maps error statuses to SDK
exceptions (:mod:`.http_support`), polls with backoff (retrying 429/503 within the attempt
budget, honouring ``Retry-After``); the transport routes live in :mod:`.http_transport`.
Secrets never reach a log line or an error.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp

from .. import protocol as P
from .errors import SERVER_ERROR, TIMEOUT, UNAUTHORIZED, ApiError, ConflictError, scrub
from .http_support import (
    LEGACY_TRANSIENT_STATES,
    ORPHAN_TIMEOUT_HINT,
    RETRYABLE,
    SDK_TYPE,
    SDK_VERSION,
    PollPolicy,
    Secret,
    detail,
    error_for_status,
    parse_retry_after,
    refused_state,
)
from .http_transport import TransportRoutes

__all__ = ["HttpApi", "PollPolicy", "Secret", "error_for_status", "parse_retry_after"]

logger = logging.getLogger(__name__)


class HttpApi(TransportRoutes):
    """Coordinator + transport HTTP client for one Reactor (cloud or local mode)."""

    def __init__(
        self,
        base_url: str,
        *,
        model: str,
        local: bool,
        api_key: Secret | None = None,
        jwt: Secret | None = None,
        session_poll: PollPolicy | None = None,
        sdp_poll: PollPolicy | None = None,
        request_timeout: float = 10.0,
        generation: str = "streamed",
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.generation = generation  # "stepped" goes in the session-creating body
        self.model = model
        self.local = local
        self._api_key = api_key
        self.jwt: Secret | None = jwt  # given (minted elsewhere) or fetched with the API key
        self.session_poll = session_poll or PollPolicy.of(P.SESSION_POLL)
        self.sdp_poll = sdp_poll or PollPolicy.of(P.SDP_POLL)
        self._timeout = aiohttp.ClientTimeout(total=request_timeout)
        self._http: aiohttp.ClientSession | None = None
        self.flat_routes = False  # set when POST …/connections is not supported
        self.sdp_poll_attempts = 0

    def __repr__(self) -> str:
        return f"HttpApi(base_url={self.base_url!r}, local={self.local}, model={self.model!r})"

    # --- plumbing -----------------------------------------------------------------------
    def _secrets(self) -> list[str]:
        return [s.reveal() for s in (self._api_key, self.jwt) if s]

    def jwt_text(self) -> str | None:
        """The current token's text (for reading its expiry; never logged)."""
        return self.jwt.reveal() if self.jwt else None

    def _scrub(self, text: str) -> str:
        return scrub(text, self._secrets())

    @property
    def http(self) -> aiohttp.ClientSession:
        """The aiohttp session, opened on first use (and again after close)."""
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(timeout=self._timeout)
        return self._http

    async def close(self) -> None:
        """Close the HTTP session (idempotent)."""
        if self._http is not None and not self._http.closed:
            await self._http.close()
        self._http = None

    def _coordinator_headers(self) -> dict[str, str]:
        headers = {P.HEADER_API_VERSION: str(P.API_VERSION), P.HEADER_API_ACCEPT_VERSION: str(P.API_VERSION)}
        if not self.local and self.jwt:
            headers[P.HEADER_AUTHORIZATION] = P.bearer(self.jwt.reveal())
        return headers

    def _transport_headers(self) -> dict[str, str]:
        bearer = P.LOCAL_BEARER if self.local or not self.jwt else self.jwt.reveal()
        return {P.HEADER_AUTHORIZATION: P.bearer(bearer), P.HEADER_WEBRTC_VERSION: P.WEBRTC_VERSION}

    async def _request(
        self, method: str, url: str, headers: dict[str, str], body: Any = None, *, has_body: bool = False
    ) -> tuple[int, str, dict[str, str]]:
        """One HTTP call → (status, text, headers); network errors become ApiError."""
        kwargs: dict[str, Any] = {"headers": headers}
        if has_body:
            kwargs["json"] = body
        logger.debug("%s %s", method, url)
        try:
            async with self.http.request(method, url, **kwargs) as resp:
                text = await resp.text()
                logger.debug("%s %s -> %s", method, url, resp.status)
                return resp.status, text, dict(resp.headers)
        except asyncio.TimeoutError:
            raise ApiError(TIMEOUT, f"{method} {url} timed out") from None
        except aiohttp.ClientError as exc:
            raise ApiError(SERVER_ERROR, self._scrub(f"{method} {url} failed: {exc}")) from None

    async def _authed(
        self,
        method: str,
        url: str,
        headers: Callable[[], dict[str, str]],
        body: Any = None,
        *,
        has_body: bool = False,
    ) -> tuple[int, str, dict[str, str]]:
        """A call carrying the JWT: on 401 in cloud mode the token is renewed once and the call retried
        (notebook sessions outlive the 1 h token; reconnects, uploads and DELETE come much later)."""
        result = await self._request(method, url, headers(), body, has_body=has_body)
        if result[0] == 401 and not self.local and self._api_key and self.jwt is not None:
            logger.info("%s %s: 401, renewing the token once", method, url)
            await self.fetch_token()
            result = await self._request(method, url, headers(), body, has_body=has_body)
        return result

    def _fail(self, status: int, text: str, what: str, headers: dict[str, str]) -> ApiError:
        if status in (401, 403) and self.jwt and not self._api_key and not self.local:
            what += "; the token given as jwt=... was refused (expired, or not scoped for this call): mint a fresh one"
        err = error_for_status(status, self._scrub(text), what, parse_retry_after(headers.get("Retry-After")))
        return err

    def _json(self, text: str, what: str) -> Any:
        try:
            return json.loads(text) if text else None
        except ValueError:
            raise ApiError(
                SERVER_ERROR, f"{what}: response is not JSON: {self._scrub(text[:120])!r}"
            ) from None

    async def _backoff_sleep(self, delay: float, headers: dict[str, str] | None) -> None:
        retry_after = parse_retry_after((headers or {}).get("Retry-After"))
        await asyncio.sleep(max(delay, retry_after or 0.0))

    # --- coordinator --------------------------------------------------------------------
    async def fetch_token(self) -> Secret:
        """``POST /tokens`` with the API key (cloud mode only; never in local mode)."""
        if self.local:
            raise RuntimeError("fetch_token is never used in local mode")
        if not self._api_key:
            raise ApiError(UNAUTHORIZED, "no API key: pass api_key=... to Reactor() (or use local=True)")
        status, text, headers = await self._request(
            "POST", self.base_url + P.ROUTE_TOKENS, {P.HEADER_API_KEY: self._api_key.reveal()}
        )
        if not 200 <= status < 300:
            raise self._fail(status, text, "token exchange (POST /tokens)", headers)
        data = self._json(text, "POST /tokens")
        jwt = data.get("jwt") if isinstance(data, dict) else None
        if not isinstance(jwt, str) or not jwt:
            raise ApiError(SERVER_ERROR, "POST /tokens: response has no 'jwt'")
        self.jwt = Secret(jwt)
        return self.jwt

    async def create_session(self, extra_configs: dict[str, Any] | None = None) -> dict[str, Any]:
        """Cloud ``POST /sessions`` (initial descriptor) or local ``POST /start_session`` (full one)."""
        if self.local:
            return await self._start_local_session(extra_configs)
        body: dict[str, Any] = {
            "model": {"name": self.model},
            "client_info": {"sdk_version": SDK_VERSION, "sdk_type": SDK_TYPE},
            "supported_transports": list(P.TRANSPORTS),
        }
        if self.generation != "streamed":  # where reactor-sdk 1.13 puts it in cloud mode
            extra_configs = {**(extra_configs or {}), "generation": self.generation}
        if extra_configs:
            body["extra_configs"] = extra_configs
        status, text, headers = await self._authed(
            "POST", self.base_url + P.ROUTE_SESSIONS, self._coordinator_headers, body, has_body=True
        )
        if not 200 <= status < 300:
            raise self._fail(status, text, "create session (POST /sessions)", headers)
        data = self._json(text, "POST /sessions")
        if not isinstance(data, dict) or not isinstance(data.get("session_id"), str):
            raise ApiError(SERVER_ERROR, "POST /sessions: response has no 'session_id'")
        return data

    async def _start_local_session(self, extra_configs: dict[str, Any] | None) -> dict[str, Any]:
        body: dict[str, Any] = {"extra_configs": extra_configs} if extra_configs else {}
        if self.generation != "streamed":
            body["generation"] = self.generation
        policy = self.session_poll
        delay = policy.first_s
        for attempt in range(1, policy.attempts + 1):
            status, text, headers = await self._request(
                "POST", self.base_url + P.ROUTE_START_SESSION, self._coordinator_headers(), body, has_body=True
            )
            if 200 <= status < 300:
                data = self._json(text, "POST /start_session")
                if not isinstance(data, dict) or not isinstance(data.get("session_id"), str):
                    raise ApiError(SERVER_ERROR, "POST /start_session: response has no 'session_id'")
                return data
            refused_in = refused_state(text) if status == 400 else None
            loading = refused_in in LEGACY_TRANSIENT_STATES  # reactor-runtime 2.0's 400 where others answer 503
            if (status in RETRYABLE or loading) and attempt < policy.attempts:
                await self._backoff_sleep(delay, headers)
                delay = min(delay * 2, policy.cap_s)
                continue
            if loading:
                raise ApiError(
                    TIMEOUT,
                    f"the local runtime at {self.base_url} is still in state {refused_in} "
                    "(loading its model or closing a session) after all attempts",
                    status=status,
                )
            if status == 409 or (status == 400 and "cannot start session" in text.lower()):
                raise ConflictError(
                    f"the local runtime at {self.base_url} already runs another session "
                    f"(HTTP {status}: {detail(self._scrub(text))}); a client that went away holds it "
                    f"until the runtime's orphan timeout ({ORPHAN_TIMEOUT_HINT}): wait and retry, "
                    "or end it with POST /stop_session",
                    status=status,
                )
            raise self._fail(status, text, "start local session (POST /start_session)", headers)
        raise ApiError(
            TIMEOUT, "POST /start_session: runtime still busy after all attempts"
        )  # pragma: no cover

    async def poll_session_ready(self, session_id: str) -> dict[str, Any]:
        """Poll ``GET /sessions/{id}`` until ``selected_transport`` and ``capabilities`` are present."""
        policy = self.session_poll
        delay = policy.first_s
        url = self.base_url + P.route(P.ROUTE_SESSION, sid=session_id)
        for attempt in range(1, policy.attempts + 1):
            status, text, headers = await self._authed("GET", url, self._coordinator_headers)
            if 200 <= status < 300:
                data = self._json(text, "GET /sessions/{id}")
                if not isinstance(data, dict):
                    raise ApiError(SERVER_ERROR, "GET /sessions/{id}: response is not an object")
                state = data.get("state")
                if str(state).upper() in P.ENDED_STATES:  # reactor-runtime 3.x: lowercase
                    raise ApiError(SERVER_ERROR, f"session {session_id} entered terminal state {state!r}")
                if str(state).upper() not in P.SESSION_STATES:
                    logger.debug("session %s reports an unknown state %r; polling on", session_id, state)
                if data.get("selected_transport") and data.get("capabilities"):
                    return data
                headers = {}
            elif status not in RETRYABLE:
                raise self._fail(status, text, "poll session (GET /sessions/{id})", headers)
            if attempt < policy.attempts:
                await self._backoff_sleep(delay, headers)
                delay = min(delay * 2, policy.cap_s)
        raise ApiError(
            TIMEOUT,
            f"session {session_id} not ready after {policy.attempts} polls; the model may be unavailable or overloaded",
        )

    async def terminate_session(self, session_id: str) -> None:
        """Cloud ``DELETE /sessions/{id}`` (2xx and 404 are success) or local ``POST /stop_session``."""
        if self.local:
            status, text, headers = await self._request(
                "POST", self.base_url + P.ROUTE_STOP_SESSION, self._coordinator_headers()
            )
            if status == 409:  # reactor-runtime 3.x: nothing to stop (already ended or never started)
                logger.debug("POST /stop_session: 409, no session to stop (%s)", detail(text))
                return
            if not 200 <= status < 300:
                raise self._fail(status, text, "stop local session (POST /stop_session)", headers)
            return
        url = self.base_url + P.route(P.ROUTE_SESSION, sid=session_id)
        status, text, headers = await self._authed("DELETE", url, self._coordinator_headers)
        if 200 <= status < 300 or status == 404:
            return
        raise self._fail(status, text, "delete session (DELETE /sessions/{id})", headers)

    # --- uploads ----------------------------------------------------------------------
    async def create_upload(self, session_id: str, name: str, size: int, mime_type: str) -> dict[str, Any]:
        """``POST /sessions/{sid}/uploads`` → ``{"presigned_id", "presigned_url", "path"}``."""
        url = self.base_url + P.route(P.ROUTE_SESSION_UPLOADS, sid=session_id)
        body = {"name": name, "size": size, "mime_type": mime_type}
        status, text, headers = await self._authed(
            "POST", url, self._coordinator_headers, body, has_body=True
        )
        if not 200 <= status < 300:
            raise self._fail(status, text, "declare upload (POST /sessions/{id}/uploads)", headers)
        data = self._json(text, "POST uploads")
        if not isinstance(data, dict) or not data.get("presigned_id") or not data.get("presigned_url"):
            raise ApiError(SERVER_ERROR, "POST uploads: response lacks presigned_id/presigned_url")
        return data

    async def put_upload(self, url: str, data: bytes, mime_type: str) -> None:
        """``PUT`` the bytes to the presigned URL (no credentials: the URL itself is the grant)."""
        if self.local:  # as reactor-sdk 0.8.0 does: the runtime may have built the URL from another Host
            parsed, base = urlsplit(url), urlsplit(self.base_url)
            url = urlunsplit((base.scheme, base.netloc, parsed.path, parsed.query, parsed.fragment))
        logger.debug("PUT upload (%d bytes)", len(data))
        try:
            async with self.http.put(url, data=data, headers={"Content-Type": mime_type}) as resp:
                text = await resp.text()
                status, headers = resp.status, dict(resp.headers)
        except asyncio.TimeoutError:
            raise ApiError(TIMEOUT, "upload PUT timed out") from None
        except aiohttp.ClientError as exc:
            raise ApiError(SERVER_ERROR, self._scrub(f"upload PUT failed: {exc}")) from None
        if not 200 <= status < 300:
            raise self._fail(status, text, "upload (PUT presigned URL)", headers)


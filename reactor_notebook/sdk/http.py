"""HTTP side of the SDK: tokens, sessions, polling and the WebRTC transport routes (protocol.md §2).

One :class:`HttpApi` per connect attempt, living on the SDK loop. It knows the two modes
(cloud coordinator vs local runtime), sends the version headers of §2.1, maps error statuses
to SDK exceptions, polls with the backoff of §2.6 (retrying 429/503 within the attempt
budget, honouring ``Retry-After``) and falls back to the flat ``sdp_params`` routes when a
legacy runtime has no connection routes (§2.8). Secrets never reach a log line or an error.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import aiohttp

from .. import protocol as P
from .errors import (
    BAD_REQUEST,
    NOT_FOUND,
    RATE_LIMITED,
    SERVER_ERROR,
    TIMEOUT,
    UNAUTHORIZED,
    VERSION_ERROR_CODES,
    ApiError,
    ConflictError,
    VersionMismatchError,
    scrub,
)

logger = logging.getLogger(__name__)

SDK_TYPE = "python"
try:  # the package version is the SDK version reported to servers
    from importlib.metadata import version as _pkg_version

    SDK_VERSION = _pkg_version("reactor-notebook")
except Exception:  # pragma: no cover - not installed
    SDK_VERSION = "0.1.0"

RETRYABLE = (429, 503)
# RT20 refuses /start_session with 400 "Cannot start session in state X"; in these states it is
# loading its model or finishing a stop, so the call is retried like a 503 (§2.8).
LEGACY_TRANSIENT_STATES = ("CREATED", "CLOSING")
ORPHAN_TIMEOUT_HINT = "30 s on reactor_notebook's runtime and reactor-runtime 2.0, 60 s on reactor-runtime 3.x"
_REFUSED_STATE = re.compile(r"cannot start session in state (\w+)", re.IGNORECASE)


class Secret:
    """A string that never shows itself in repr/str (API keys, JWTs)."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)


@dataclass(frozen=True)
class PollPolicy:
    """Exponential backoff: first sleep, cap, and the number of attempts (§2.6)."""

    first_s: float
    cap_s: float
    attempts: int

    @classmethod
    def of(cls, triple: tuple[float, float, int]) -> PollPolicy:
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


def _detail(text: str) -> str:
    """A short human-readable reason from an error body (``{"detail": ...}`` or raw text)."""
    reason = text.strip()
    try:
        obj = json.loads(text)
        if isinstance(obj, dict) and "detail" in obj:
            reason = obj["detail"] if isinstance(obj["detail"], str) else json.dumps(obj["detail"])
    except ValueError:
        pass
    return reason[:300] + ("..." if len(reason) > 300 else "")


def _refused_state(text: str) -> str | None:
    """The state named by a legacy runtime's "Cannot start session in state X" refusal, upper-case, or None."""
    match = _REFUSED_STATE.search(text)
    return match.group(1).upper() if match else None


def error_for_status(status: int, text: str, what: str, retry_after: float | None = None) -> ApiError:
    """Map an HTTP error status to the SDK exception (as reactor-sdk 1.x does, §2.1)."""
    reason = _detail(text)
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


class HttpApi:
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
        self.flat_routes = False  # set when POST …/connections is not supported (§2.8)
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
            headers["Authorization"] = f"Bearer {self.jwt.reveal()}"
        return headers

    def _transport_headers(self) -> dict[str, str]:
        bearer = P.LOCAL_BEARER if self.local or not self.jwt else self.jwt.reveal()
        return {"Authorization": f"Bearer {bearer}", P.HEADER_WEBRTC_VERSION: P.WEBRTC_VERSION}

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
            "POST", f"{self.base_url}/tokens", {P.HEADER_API_KEY: self._api_key.reveal()}
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
            "supported_transports": [{"protocol": "webrtc", "version": P.WEBRTC_VERSION}],
        }
        if self.generation != "streamed":  # where reactor-sdk 1.13 puts it in cloud mode
            extra_configs = {**(extra_configs or {}), "generation": self.generation}
        if extra_configs:
            body["extra_configs"] = extra_configs
        status, text, headers = await self._authed(
            "POST", f"{self.base_url}/sessions", self._coordinator_headers, body, has_body=True
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
                "POST", f"{self.base_url}/start_session", self._coordinator_headers(), body, has_body=True
            )
            if 200 <= status < 300:
                data = self._json(text, "POST /start_session")
                if not isinstance(data, dict) or not isinstance(data.get("session_id"), str):
                    raise ApiError(SERVER_ERROR, "POST /start_session: response has no 'session_id'")
                return data
            refused_in = _refused_state(text) if status == 400 else None
            loading = refused_in in LEGACY_TRANSIENT_STATES  # RT20's 400 where RUNTIME answers 503
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
                    f"(HTTP {status}: {_detail(self._scrub(text))}); a client that went away holds it "
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
        url = f"{self.base_url}/sessions/{quote(session_id, safe='')}"
        for attempt in range(1, policy.attempts + 1):
            status, text, headers = await self._authed("GET", url, self._coordinator_headers)
            if 200 <= status < 300:
                data = self._json(text, "GET /sessions/{id}")
                if not isinstance(data, dict):
                    raise ApiError(SERVER_ERROR, "GET /sessions/{id}: response is not an object")
                state = data.get("state")
                if str(state).upper() in ("CLOSED", "INACTIVE"):  # reactor-runtime 3.x: lowercase
                    raise ApiError(SERVER_ERROR, f"session {session_id} entered terminal state {state!r}")
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
                "POST", f"{self.base_url}/stop_session", self._coordinator_headers()
            )
            if status == 409:  # reactor-runtime 3.x: nothing to stop (already ended or never started)
                logger.debug("POST /stop_session: 409, no session to stop (%s)", _detail(text))
                return
            if not 200 <= status < 300:
                raise self._fail(status, text, "stop local session (POST /stop_session)", headers)
            return
        url = f"{self.base_url}/sessions/{quote(session_id, safe='')}"
        status, text, headers = await self._authed("DELETE", url, self._coordinator_headers)
        if 200 <= status < 300 or status == 404:
            return
        raise self._fail(status, text, "delete session (DELETE /sessions/{id})", headers)

    # --- uploads (§2.7) ----------------------------------------------------------------------
    async def create_upload(self, session_id: str, name: str, size: int, mime_type: str) -> dict[str, Any]:
        """``POST /sessions/{sid}/uploads`` → ``{"presigned_id", "presigned_url", "path"}``."""
        url = f"{self.base_url}/sessions/{quote(session_id, safe='')}/uploads"
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
        if self.local:  # like PY08: the runtime may have built the URL from another Host
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

    # --- transport ------------------------------------------------------------------------
    def transport_base(self, session_id: str) -> str:
        return f"{self.base_url}/sessions/{quote(session_id, safe='')}/transport/webrtc"

    def _sdp_url(self, session_id: str, connection_id: int | None) -> str:
        base = self.transport_base(session_id)
        if self.flat_routes or connection_id is None:
            return f"{base}/sdp_params"
        return f"{base}/connections/{connection_id}/sdp_params"

    async def get_ice_servers(self, session_id: str) -> list[dict[str, Any]]:
        """``GET …/ice_servers`` → the raw ``ice_servers`` list (may be empty)."""
        status, text, headers = await self._authed(
            "GET", f"{self.transport_base(session_id)}/ice_servers", self._transport_headers
        )
        if status != 200:
            raise self._fail(status, text, "get ICE servers", headers)
        data = self._json(text, "GET ice_servers")
        servers = data.get("ice_servers") if isinstance(data, dict) else None
        return [s for s in servers or [] if isinstance(s, dict)]

    async def register_connection(self, session_id: str) -> int | None:
        """``POST …/connections`` → id; None (and flat mode) when the route is missing (404/405)."""
        status, text, headers = await self._authed(
            "POST", f"{self.transport_base(session_id)}/connections", self._transport_headers
        )
        if status in (404, 405) and "session not found" not in text.lower():
            logger.info(
                "runtime has no connection routes (HTTP %s); using the flat sdp_params routes", status
            )
            self.flat_routes = True
            return None
        if status != 201:
            raise self._fail(status, text, "register connection (POST …/connections)", headers)
        data = self._json(text, "POST connections")
        cid = data.get("connection_id") if isinstance(data, dict) else None
        if not isinstance(cid, int) or isinstance(cid, bool):
            raise ApiError(SERVER_ERROR, f"POST …/connections: bad connection_id {cid!r}")
        return cid

    async def send_offer(
        self,
        session_id: str,
        connection_id: int | None,
        sdp_offer: str,
        track_mapping: list[dict[str, str]],
        *,
        reconnect: bool = False,
    ) -> None:
        """``POST`` (or ``PUT`` on reconnect) the offer and track mapping; expects exactly 202."""
        body = {
            "sdp_offer": sdp_offer,
            "client_info": {"sdk_version": SDK_VERSION, "sdk_type": SDK_TYPE},
            "track_mapping": track_mapping,
        }
        method = "PUT" if reconnect else "POST"
        status, text, headers = await self._authed(
            method, self._sdp_url(session_id, connection_id), self._transport_headers, body, has_body=True
        )
        if status != 202:
            raise self._fail(status, text, f"send SDP offer ({method} sdp_params)", headers)

    async def send_ice_candidates(
        self, session_id: str, connection_id: int, candidates: list[dict[str, Any]], is_final: bool
    ) -> bool:
        """``POST …/connections/{cid}/ice_candidates`` (trickle); False when the runtime lacks the route."""
        url = f"{self.transport_base(session_id)}/connections/{connection_id}/ice_candidates"
        body = {"candidates": candidates, "is_final": is_final}
        status, text, headers = await self._authed("POST", url, self._transport_headers, body, has_body=True)
        if status in (404, 405):
            logger.debug("runtime has no ice_candidates route (HTTP %s); candidates not trickled", status)
            return False
        if not 200 <= status < 300:
            raise self._fail(status, text, "trickle ICE candidates (POST …/ice_candidates)", headers)
        return True

    async def poll_answer(self, session_id: str, connection_id: int | None) -> str:
        """Poll ``GET …/sdp_params`` until 200 ``sdp_answer`` (202 = pending; 429/503 retried)."""
        policy = self.sdp_poll
        delay = policy.first_s
        url = self._sdp_url(session_id, connection_id)
        if self.flat_routes and connection_id is not None:
            url += f"?connection_id={connection_id}"
        for attempt in range(1, policy.attempts + 1):
            self.sdp_poll_attempts = attempt
            status, text, headers = await self._authed("GET", url, self._transport_headers)
            if status == 200:
                data = self._json(text, "GET sdp_params")
                answer = data.get("sdp_answer") if isinstance(data, dict) else None
                if not isinstance(answer, str) or not answer:
                    raise ApiError(SERVER_ERROR, "GET sdp_params: 200 without 'sdp_answer'")
                return answer
            if status != 202 and status not in RETRYABLE:
                raise self._fail(status, text, "poll SDP answer (GET sdp_params)", headers)
            if attempt < policy.attempts:
                await self._backoff_sleep(delay, headers if status in RETRYABLE else None)
                delay = min(delay * 2, policy.cap_s)
        raise ApiError(TIMEOUT, f"no SDP answer after {policy.attempts} polls")

"""The WebRTC transport routes of the HTTP client: ICE servers, connections, offers, answers, candidates.

A mixin of :class:`.http.HttpApi` (see ``docs/protocol.md`` "Signalling"); it falls back to the
flat ``sdp_params`` routes when a runtime has no connection routes.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from .. import protocol as P
from .errors import SERVER_ERROR, TIMEOUT, ApiError
from .http_support import RETRYABLE, SDK_TYPE, SDK_VERSION, PollPolicy

logger = logging.getLogger(__name__)


class TransportRoutes:
    """``…/transport/webrtc`` calls; the host class provides the request plumbing."""

    base_url: str
    flat_routes: bool
    sdp_poll: PollPolicy
    sdp_poll_attempts: int
    _transport_headers: Callable[[], dict[str, str]]

    # the request plumbing of HttpApi: a JWT-carrying call -> (status, text, headers)
    _authed: Callable[..., Awaitable[tuple[int, str, dict[str, str]]]]

    def _fail(self, status: int, text: str, what: str, headers: dict[str, str]) -> ApiError:  # pragma: no cover
        raise NotImplementedError

    def _json(self, text: str, what: str) -> Any:  # pragma: no cover - provided by HttpApi
        raise NotImplementedError

    async def _backoff_sleep(self, delay: float, headers: dict[str, str] | None) -> None:  # pragma: no cover
        raise NotImplementedError

    def transport_base(self, session_id: str) -> str:
        """The session's ``…/transport/webrtc`` URL."""
        return self.base_url + P.route(P.ROUTE_TRANSPORT, sid=session_id)

    def _sdp_url(self, session_id: str, connection_id: int | None) -> str:
        if self.flat_routes or connection_id is None:
            return self.base_url + P.route(P.ROUTE_FLAT_SDP, sid=session_id)
        return self.base_url + P.route(P.ROUTE_CONNECTION_SDP, sid=session_id, cid=connection_id)

    async def get_ice_servers(self, session_id: str) -> list[dict[str, Any]]:
        """``GET …/ice_servers`` → the raw ``ice_servers`` list (may be empty)."""
        status, text, headers = await self._authed(
            "GET", self.base_url + P.route(P.ROUTE_ICE_SERVERS, sid=session_id), self._transport_headers
        )
        if status != 200:
            raise self._fail(status, text, "get ICE servers", headers)
        data = self._json(text, "GET ice_servers")
        servers = data.get("ice_servers") if isinstance(data, dict) else None
        return [s for s in servers or [] if isinstance(s, dict)]

    async def register_connection(self, session_id: str) -> int | None:
        """``POST …/connections`` → id; None (and flat mode) when the route is missing (404/405)."""
        status, text, headers = await self._authed(
            "POST", self.base_url + P.route(P.ROUTE_CONNECTIONS, sid=session_id), self._transport_headers
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
        url = self.base_url + P.route(P.ROUTE_ICE_CANDIDATES, sid=session_id, cid=connection_id)
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

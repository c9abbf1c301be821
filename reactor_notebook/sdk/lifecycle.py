"""Lifecycle of :class:`~.session.Reactor`: connect, reconnect, disconnect, and the transport's news.

Lifecycle: DISCONNECTED → CONNECTING → WAITING → READY; ``connect()`` returns only at READY and
re-raises on failure; ``reconnect()`` goes CONNECTING → READY and reports RECONNECTION_FAILED
without raising. A failed or silent link ends in a (recoverable) disconnect.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from aiortc.mediastreams import MediaStreamTrack

from .. import protocol as P
from ..schema import commands_from_openapi, normalize_commands
from .channels_v1 import choose_wire
from .errors import CONNECTION_FAILED, GPU_CONNECTION_ERROR, RECONNECTION_FAILED, TIMEOUT, ReactorException
from .expiry import session_expiry
from .frameindex import FrameIndexer
from .http import HttpApi
from .joining import check_model, check_sharing, warn_if_shared
from .routing import RoutingPart
from .sync import sync_twin
from .teardown import TeardownPart
from .transport import TransportCallbacks, TransportError, WebRTCTransport
from .types import ReactorStatus

logger = logging.getLogger(__name__)

T = TypeVar("T")


class _Default:
    """Sentinel shown as ``timeout=connect_timeout`` in signatures: use the constructor's value."""

    def __repr__(self) -> str:
        return "connect_timeout"


UNSET: Any = _Default()


class LifecyclePart(TeardownPart, RoutingPart):
    """connect / reconnect / disconnect for :class:`Reactor`, and the transport callbacks."""

    connect_timeout: float | None
    early_release: bool
    exclusive: bool
    shared_clients: int
    link_timeout: float | None
    ping_interval: float
    _wire_pref: str
    _request_timeout: float

    if TYPE_CHECKING:  # provided by StatsPart, V1SessionMixin and StepsMixin

        async def _stats_loop(self) -> None: ...

        def _attach_v1(self, transport: WebRTCTransport, current: Callable[[], bool]) -> None: ...

        def _step_wire(self, descriptor: dict[str, Any], preference: str) -> str: ...

    async def _connect_call(
        self,
        timeout: float | None = UNSET,
        *,
        session_id: str | None = None,
        extra_configs: dict[str, Any] | None = None,
    ) -> None:
        await self._sdk.run(
            self._connect(self.connect_timeout if timeout is UNSET else timeout, session_id, extra_configs)
        )

    async def connect(
        self,
        timeout: float | None = UNSET,
        *,
        session_id: str | None = None,
        extra_configs: dict[str, Any] | None = None,
    ) -> None:
        """Create (or start) the session and connect; returns at READY, raises on failure.

        ``timeout`` (default ``connect_timeout``, 15 s) bounds the whole call except the wait
        for a GPU while polling the coordinator, which has its own budget (``docs/protocol.md``
        "Timing"). ``session_id`` adopts an existing cloud session instead of creating one (it is
        then never deleted by this client); ``extra_configs`` is passed to session creation.
        """
        await self._connect_call(timeout, session_id=session_id, extra_configs=extra_configs)
        warn_if_shared(self)

    connect_sync = sync_twin(
        _connect_call, after=warn_if_shared, doc="Blocking :meth:`connect` for plain threads and notebook cells."
    )

    async def reconnect(self, timeout: float | None = UNSET) -> None:
        """Reconnect to the kept session (new connection + PUT offer); errors reported, not raised.

        Local mode: when the runtime answers 404 for the kept session (it was restarted), a fresh
        session is started instead (``session_id_changed`` fires; ``frames`` keeps its history).
        """
        await self._sdk.run(self._reconnect(self.connect_timeout if timeout is UNSET else timeout))

    reconnect_sync = sync_twin(reconnect)

    async def disconnect(self, recoverable: bool = False) -> None:
        """Disconnect; ``recoverable=True`` keeps the session (and its id) for :meth:`reconnect`.

        The last error is cleared (the user ended the session; the timeline keeps the history).
        """
        await self._sdk.run(self._user_disconnect(recoverable))

    disconnect_sync = sync_twin(disconnect, timeout=30.0)

    async def _user_disconnect(self, recoverable: bool) -> None:
        self._last_error = None
        await self._disconnect(recoverable)

    async def __aenter__(self) -> Any:
        """``async with Reactor(...) as reactor:`` — the first command connects if ``connect()`` was not called."""
        self._in_context = True
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._in_context = False
        await self.disconnect()

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.disconnect_sync()

    # --- building blocks ----------------------------------------------------------------------
    def _new_api(self) -> HttpApi:
        return HttpApi(
            self.base_url,
            model=self.model_name,
            local=self.local,
            api_key=self._api_key,
            jwt=self._jwt,
            session_poll=self._session_poll,
            sdp_poll=self._sdp_poll,
            request_timeout=self._request_timeout,
            generation=self.generation,
        )

    def _new_transport(self, api: HttpApi, session_id: str) -> WebRTCTransport:
        """A transport whose callbacks reach this session only while it is the current one."""
        transport: WebRTCTransport

        def current() -> bool:
            """True while ``transport`` is still this session's transport (not replaced by a reconnect)."""
            return self._transport is transport

        def guarded(fn: Callable[..., None]) -> Callable[..., None]:
            """Wrap a callback so a replaced transport's late events are ignored."""
            def call(*args: Any) -> None:
                """Forward to ``fn`` only while the transport is current."""
                if current():
                    fn(*args)

            return call

        def on_track(name: str, track: MediaStreamTrack) -> None:
            """Remember a remote track by name and tell listeners (``track_received``)."""
            self._remote_tracks[name] = track
            self._emit("track_received", name, track)

        callbacks = TransportCallbacks(
            guarded(lambda: self._on_transport_ready(transport)),
            guarded(self._on_transport_lost),
            guarded(self._on_message),
            guarded(on_track),
            guarded(self._on_frame),
            guarded(self._on_link_lost),
        )
        transport = WebRTCTransport(
            api,
            session_id,
            self._tracks,
            callbacks,
            early_release=self.early_release,
            link_timeout=self.link_timeout,
            ping_interval=self.ping_interval,
        )
        if self.wire == "v1":
            self._attach_v1(transport, current)
        transport.chunking = self.generation == "stepped"
        return transport

    async def _bounded(self, coro: Awaitable[T], deadline: float | None, what: str) -> T:
        if deadline is None:
            return await coro
        remaining = deadline - time.monotonic()
        try:
            return await asyncio.wait_for(coro, max(remaining, 0.001))
        except asyncio.TimeoutError:
            raise ReactorException(TIMEOUT, f"{what} did not finish within the connect timeout") from None

    # --- connect --------------------------------------------------------------------------------
    async def _connect(
        self,
        timeout: float | None,
        adopt: str | None = None,
        extra_configs: dict[str, Any] | None = None,
    ) -> None:
        await self._check_can_connect(adopt)
        t0, deadline = self._begin_connecting(timeout)
        ice_task: asyncio.Task[list[dict[str, Any]]] | None = None
        try:
            api = self._api = self._new_api()
            if not self.local and self._api_key:
                await self._bounded(api.fetch_token(), deadline, "token exchange")
            desc = await self._open_session(api, adopt, extra_configs, deadline)
            session_id = desc["session_id"]
            self._indexer = FrameIndexer()  # a new session's counters start afresh
            self._set_session_id(session_id)
            self._set_status(ReactorStatus.WAITING)
            ice_task = asyncio.get_running_loop().create_task(api.get_ice_servers(session_id))
            if self.local and desc.get("capabilities") and desc.get("selected_transport"):
                full = desc
            else:
                t_poll = time.monotonic()
                full = await api.poll_session_ready(session_id)
                if deadline is not None:
                    deadline += time.monotonic() - t_poll  # waiting for a GPU has its own budget
            self._timings["session_creation_ms"] = (time.monotonic() - t0) * 1000
            self._apply_descriptor(full)
            self.wire = choose_wire(full, self._step_wire(full, self._wire_pref))
            self._set_expiration(session_expiry(full, None if self._api_key else api.jwt_text()))
            await self._negotiate(api, session_id, deadline, ice_task)
        except asyncio.CancelledError:
            if self._aborting:  # disconnect() cancelled us and cleans up itself
                raise ReactorException(CONNECTION_FAILED, "connect() aborted by disconnect()") from None
            await asyncio.shield(self._fail_connect(None))
            raise
        except Exception as exc:
            await self._fail_connect(exc)
            raise
        finally:
            if ice_task is not None and not ice_task.done():
                ice_task.cancel()
            if self._connect_task is asyncio.current_task():
                self._connect_task = None

    async def _check_can_connect(self, adopt: str | None) -> None:
        if adopt is not None and self.local:
            raise ValueError("adopting an existing session (session_id=...) is not supported in local mode")
        if adopt is not None and (not isinstance(adopt, str) or not adopt):
            raise ValueError(f"session_id must be a non-empty string, got {adopt!r}")
        if self._status != ReactorStatus.DISCONNECTED:
            raise RuntimeError(
                f"connect() needs status 'disconnected', status is {self._status.value!r} "
                "(call disconnect() first, or reconnect() to resume a kept session)"
            )
        if self._session_id is not None:
            # A session kept by a recoverable disconnect: connect() starts afresh (the old one is ended).
            await self._disconnect(recoverable=False)
            if self._status != ReactorStatus.DISCONNECTED:  # another connect() won the race meanwhile
                raise RuntimeError(f"connect() needs status 'disconnected', status is {self._status.value!r}")

    async def _open_session(
        self, api: HttpApi, adopt: str | None, extra_configs: dict[str, Any] | None, deadline: float | None
    ) -> dict[str, Any]:
        """The session's first descriptor: adopted as given, or created (joining a shared local one)."""
        if adopt is not None:  # only the creator ends a session: never DELETEd by us
            self._created_session = False
            self.shared_clients = 0
            return {"session_id": adopt}
        desc = await self._bounded(api.create_session(extra_configs), deadline, "session creation")
        self._created_session = False  # a joiner must never stop a session others use
        self.shared_clients = check_sharing(desc, exclusive=self.exclusive, where=self.base_url)
        self._created_session = self.shared_clients == 0
        return desc

    async def _negotiate(
        self,
        api: HttpApi,
        session_id: str,
        deadline: float | None,
        ice_task: Awaitable[list[dict[str, Any]]],
        reconnect: bool = False,
    ) -> None:
        """ICE servers, a new transport, the offer/answer exchange, then wait until READY."""
        t_transport = time.monotonic()
        ice_servers = await self._bounded(ice_task, deadline, "ICE server fetch")
        transport = self._transport = self._new_transport(api, session_id)
        await self._bounded(transport.connect(ice_servers, reconnect=reconnect), deadline, "WebRTC negotiation")
        await transport.wait_ready(None if deadline is None else max(deadline - time.monotonic(), 0.001))
        start = self._t_connect if reconnect and self._t_connect is not None else t_transport
        self._timings["transport_connecting_ms"] = (time.monotonic() - start) * 1000

    async def _fail_connect(self, exc: BaseException | None) -> None:
        """A failure inside connect(): GPU_CONNECTION_ERROR if the transport failed, CONNECTION_FAILED, disconnect."""
        if isinstance(exc, TransportError):
            self._error(GPU_CONNECTION_ERROR, str(exc), "gpu", True)
        reason = "cancelled" if exc is None else f"{exc}"
        retry_after = getattr(exc, "retry_after", None)
        self._error(CONNECTION_FAILED, f"connection failed: {reason}", "api", True, retry_after)
        try:
            await self._disconnect(recoverable=False, from_connect=True)
        except Exception as dexc:
            logger.warning("cleanup after a failed connect failed: %s", dexc)

    def _apply_descriptor(self, desc: dict[str, Any]) -> None:
        check_model(self.model_name, desc, local=self.local, where=self.base_url)
        caps = desc.get("capabilities")
        transport = (desc.get("selected_transport") or {}).get("protocol")
        if transport != P.TRANSPORT_WEBRTC:
            raise ReactorException(
                CONNECTION_FAILED, f"unsupported transport {transport!r} (expected 'webrtc')"
            )
        if not isinstance(caps, dict) or not caps.get("tracks"):
            raise ReactorException(
                CONNECTION_FAILED, "the session descriptor lists no tracks in its capabilities"
            )
        self._session_response = desc
        self._capabilities = caps  # type: ignore[assignment]
        self._tracks = [
            t for t in caps["tracks"] if isinstance(t, dict) and "name" in t and "kind" in t  # type: ignore[misc]
        ]
        schema = desc.get("schema") if isinstance(desc.get("schema"), dict) else None
        self._commands = normalize_commands(caps, schema)
        self._commands_from_schema = bool(schema and commands_from_openapi(schema))
        self._use_schema_doc(schema)
        self._emit("capabilities_received", caps)

    # --- reconnect ------------------------------------------------------------------------------
    async def _reconnect(self, timeout: float | None) -> None:
        if self._status == ReactorStatus.READY:
            return
        if self._status != ReactorStatus.DISCONNECTED:
            raise RuntimeError(f"cannot reconnect while status is {self._status.value!r}")
        if self._session_id is None or not self._tracks or self._api is None:
            raise RuntimeError("no session to reconnect to (call connect() to start one)")
        _, deadline = self._begin_connecting(timeout)
        api, session_id = self._api, self._session_id
        try:
            if not self.local and self._api_key:
                await self._bounded(api.fetch_token(), deadline, "token exchange")
            await self._negotiate(api, session_id, deadline, api.get_ice_servers(session_id), reconnect=True)
        except asyncio.CancelledError:
            if self._aborting:
                return
            await asyncio.shield(self._disconnect(recoverable=True, from_connect=True))
            raise
        except Exception as exc:
            await self._disconnect(recoverable=True, from_connect=True)
            await self._reconnect_failed(exc, timeout)
        finally:
            if self._connect_task is asyncio.current_task():
                self._connect_task = None

    async def _reconnect_failed(self, exc: Exception, timeout: float | None) -> None:
        """Report RECONNECTION_FAILED; a local runtime that lost the session gets a fresh one instead."""
        if self.local and _local_session_gone(exc):
            # The local runtime no longer knows the session (it restarted, or the session timed out):
            # start a fresh one, which is what a notebook user wants then (frames are kept).
            logger.info("local session is gone (runtime restarted?); reconnect starts a new session")
            self.frames.add_event("event", "session_restarted", {"reason": str(exc)})
            try:
                await self._connect(timeout)
                return
            except Exception as fresh:
                exc = fresh
        self._error(
            RECONNECTION_FAILED, f"reconnect failed: {exc}", "api", True, getattr(exc, "retry_after", None)
        )

    def _on_transport_ready(self, transport: WebRTCTransport) -> None:
        if self._t_connect is not None:
            self._timings["total_ms"] = (time.monotonic() - self._t_connect) * 1000
        t = transport.timings
        self._timings.update(
            sdp_polling_ms=t.sdp_polling_ms,
            sdp_polling_attempts=t.sdp_polling_attempts,
            ice_negotiation_ms=t.ice_negotiation_ms,
            data_channel_ms=t.data_channel_ms,
        )
        if not transport.flat:
            for track in self._tracks:
                if track.get("direction") == "recvonly":
                    transport.notify(P.METHOD_RESUME_TRACK, track["name"])
        self._set_status(ReactorStatus.READY)
        self._stats_task = self._spawn(self._stats_loop())
        if not self._commands_from_schema:
            self._schema_task = self._spawn(self._fetch_schema())


def _local_session_gone(exc: BaseException) -> bool:
    """A transport call refused because the local session no longer exists: 404, or reactor-runtime 2.0's
    400 "No session running"."""
    status = getattr(exc, "status", None)
    return status == 404 or (status == 400 and "no session running" in str(exc).lower())

"""The public :class:`Reactor` client (reactor-docs.md "Python SDK", protocol.md §7).

Every asyncio step runs on the SDK's own loop thread (:mod:`.loop`), so streaming goes on
while a notebook cell blocks, and each public coroutine can be awaited from any loop
(Jupyter's, ``asyncio.run``, another thread's). Blocking ``*_sync`` twins serve plain
threads. Lifecycle: DISCONNECTED → CONNECTING → WAITING → READY; ``connect()`` returns only
at READY and re-raises on failure; ``reconnect()`` goes CONNECTING → READY and reports
RECONNECTION_FAILED without raising. Every decoded frame lands once, as RGB, in
``reactor.frames`` and in the frame callbacks (own thread, latest frame wins).
"""

from __future__ import annotations

import asyncio
import atexit
import json
import logging
import mimetypes
import os
import time
import weakref
from collections.abc import Coroutine
from typing import Any, TypeVar

from aiortc.mediastreams import MediaStreamTrack

from .. import protocol as P
from ..frames import FrameBuffer
from ..schema import (
    CommandSpec,
    CommandValidationError,
    commands_from_openapi,
    normalize_commands,
    validate_command,
)
from .channels_v1 import Wire, choose_wire
from .clips import ClipsMixin
from .commands import CommandRepliesMixin
from .errors import (
    CONNECTION_FAILED,
    GPU_CONNECTION_ERROR,
    MESSAGE_SEND_FAILED,
    RECONNECTION_FAILED,
    TIMEOUT,
    TRACK_PUBLISH_FAILED,
    ControlRequestError,
    MessageSendError,
    NotReadyError,
    ReactorException,
    TrackPublishError,
    scrub,
)
from .events import EventsMixin
from .expiry import session_expiry
from .frameindex import FrameIndexer
from .http import HttpApi, PollPolicy, Secret
from .joining import check_model, check_sharing, warn_if_shared
from .loop import SdkLoop, get_sdk_loop
from .reader import Frame, FrameTiming
from .replies import (
    CommandReply,
    Rejection,
    ReplyBook,
    coerce_integers,
    field_orders,
    integer_fields,
    reply_types,
)
from .session_v1 import V1SessionMixin
from .stats import FpsMeter, empty_stats, summarize_report, timings_dict
from .steps import STEP_TIMEOUT_S, StepsMixin
from .transport import LINK_TIMEOUT_S, TransportCallbacks, TransportError, WebRTCTransport
from .types import (
    Capabilities,
    ConnectionStats,
    ErrorComponent,
    FileRef,
    ReactorError,
    ReactorState,
    ReactorStatus,
    TrackCapability,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")

STATS_INTERVAL_S = 2.0
# The answer poll starts at 25 ms and doubles: a loopback runtime answers within tens of ms, and
# 9 attempts keep the official client's ~6.2 s budget (0.2 s doubling, 6 attempts) after the offer.
SDP_POLL = (0.025, 15.0, 9)
SCHEMA_REQUEST_TIMEOUT_S = 3.0


class _Default:
    """Sentinel shown as ``timeout=connect_timeout`` in signatures: use the constructor's value."""

    def __repr__(self) -> str:
        return "connect_timeout"


_UNSET: Any = _Default()
_LIVE: weakref.WeakSet[Reactor] = weakref.WeakSet()  # every Reactor, for the exit hook


def _disconnect_all_at_exit(timeout: float = 3.0) -> None:
    """Interpreter shutdown: end each live session (bounded), so the runtime frees the model at once."""
    for reactor in list(_LIVE):
        if reactor._status is ReactorStatus.DISCONNECTED and reactor._session_id is None:
            continue
        thread = reactor._sdk.thread
        if thread is None or not thread.is_alive():
            continue
        try:
            reactor._sdk.run_sync(reactor._disconnect(False), timeout)
        except Exception as exc:  # shutting down: an exit hook never raises
            logger.debug("disconnect at exit failed: %s", exc)


atexit.register(_disconnect_all_at_exit)


def local_base_url(explicit: str | None = None) -> str:
    """Local runtime base URL: explicit, else ``$REACTOR_LOCAL_URL``, else http://localhost:8080."""
    return (explicit or os.environ.get(P.LOCAL_URL_ENV) or P.DEFAULT_LOCAL_URL).rstrip("/")


class Reactor(StepsMixin, ClipsMixin, CommandRepliesMixin, V1SessionMixin, EventsMixin):
    """Client for one Reactor model session (cloud coordinator or local runtime).

    ``Reactor("helios", local=True)`` talks to a local runtime at ``local_url`` (else
    ``$REACTOR_LOCAL_URL``, else http://localhost:8080); ``Reactor("helios", api_key=...)`` to the
    hosted API at ``api_url``. Nothing happens on the network until :meth:`connect`.

    Arguments: ``model_name`` the model to use (a local runtime serving another model is refused
    at connect, naming both); ``connect_timeout`` bounds :meth:`connect` (s, None: no bound);
    ``frames`` a :class:`~reactor_notebook.frames.FrameBuffer` to fill (default: a new one, as
    ``reactor.frames``); ``exclusive=True`` refuses a local session other clients are attached to
    (by default it is joined with a :class:`~reactor_notebook.sdk.SharedSessionWarning`, and
    ``shared_clients`` says how many others use it). The remaining keywords tune polling, stats,
    the link watchdog and the control-channel ping; the defaults suit notebooks. ``jwt`` uses a
    token minted elsewhere (never renewed); ``wire`` picks the data-channel wire (``auto``: v1
    where the runtime serves it, else v0); ``generation="stepped"`` opens a stepped session
    (:meth:`step`).
    """

    def __init__(
        self,
        model_name: str,
        api_key: str | None = None,
        api_url: str = P.DEFAULT_API_URL,
        local: bool = False,
        *,
        local_url: str | None = None,
        connect_timeout: float | None = 15.0,
        frames: FrameBuffer | None = None,
        early_release: bool = True,
        session_poll: tuple[float, float, int] = P.SESSION_POLL,
        sdp_poll: tuple[float, float, int] = SDP_POLL,
        request_timeout: float = 10.0,
        stats_interval: float = STATS_INTERVAL_S,
        link_timeout: float | None = LINK_TIMEOUT_S,
        ping_interval: float = P.PING_INTERVAL_S,
        jwt: str | None = None,
        wire: str = "auto",
        generation: str = "streamed",
        step_timeout: float = STEP_TIMEOUT_S,
        exclusive: bool = False,
    ) -> None:
        if not isinstance(model_name, str) or not model_name:
            raise ValueError("model_name must be a non-empty string, e.g. Reactor('helios', local=True)")
        if not local and not api_key and not jwt:
            raise ValueError(
                "api_key is required for the hosted API; pass api_key=..., a token minted elsewhere as "
                "jwt=..., or local=True for a local runtime"
            )
        self.model_name = model_name
        self.local = bool(local)
        self.base_url = local_base_url(local_url) if self.local else api_url.rstrip("/")
        self._api_key = Secret(api_key) if api_key else None
        self._jwt = Secret(jwt) if jwt and not local else None  # minted elsewhere (a token proxy); never renewed
        self._expiration: float | None = None
        self._in_context = False
        if wire not in ("auto", "v0", "v1"):
            raise ValueError(f"wire must be 'auto', 'v0' or 'v1', got {wire!r}")
        self._wire_pref = wire
        self._init_steps(generation, step_timeout)  # "stepped": steps over wire v1 (sdk/steps.py)
        self.wire: Wire = "v0"  # what the current session speaks on its channels (decided per session)
        self.connect_timeout = connect_timeout
        self.early_release = early_release
        self._session_poll = PollPolicy.of(session_poll)
        self._sdp_poll = PollPolicy.of(sdp_poll)
        self._request_timeout = request_timeout
        self._stats_interval = stats_interval
        self.link_timeout = link_timeout
        if not ping_interval > 0:
            raise ValueError(f"ping_interval must be > 0 seconds, got {ping_interval!r}")
        self.ping_interval = float(ping_interval)
        self.exclusive = bool(exclusive)  # refuse a local session other clients are attached to
        self.shared_clients = 0  # other clients attached to the local session at connect (0: alone)
        self.frames: FrameBuffer = frames if frames is not None else FrameBuffer()

        self._sdk: SdkLoop = get_sdk_loop()
        self._status = ReactorStatus.DISCONNECTED
        self._session_id: str | None = None
        self._created_session = False
        self._session_response: dict[str, Any] | None = None
        self._capabilities: Capabilities | None = None
        self._tracks: list[TrackCapability] = []
        self._commands: list[CommandSpec] = []
        self._commands_from_schema = False
        self._last_error: ReactorError | None = None
        self._model_state: dict[str, Any] | None = None
        self._replies = ReplyBook()
        self._last_rejection: Rejection | None = None
        self._int_fields: dict[str, frozenset[str]] = {}
        self._field_orders: dict[str, tuple[str, ...]] = {}
        self._indexer = FrameIndexer()
        self._api: HttpApi | None = None
        self._transport: WebRTCTransport | None = None
        self._remote_tracks: dict[str, MediaStreamTrack] = {}
        self._connect_task: asyncio.Task[Any] | None = None
        self._aborting = False
        self._teardown_lock: asyncio.Lock | None = None
        self._stats_task: asyncio.Task[None] | None = None
        self._schema_task: asyncio.Task[None] | None = None
        self._bg: set[asyncio.Future[Any]] = set()
        self._runtime_waiters: dict[str, list[asyncio.Future[Any]]] = {}
        self._timings: dict[str, float] = {}
        self._t_connect: float | None = None
        self._fps = FpsMeter()
        self._last_stats: ConnectionStats | None = None
        self._frames_received = 0
        self._frames_dropped = 0
        self._decode_ms: float | None = None
        self._frame_age_ms: float | None = None
        self._convert_ms: float | None = None
        self._init_events()
        _LIVE.add(self)

    def _repr_html_(self) -> str:
        from ..reprs import reactor_html

        return reactor_html(self)

    def __repr__(self) -> str:
        mode = "local" if self.local else "cloud"
        return (
            f"Reactor(model_name={self.model_name!r}, mode={mode!r}, url={self.base_url!r}, "
            f"status={self._status.value!r}, session_id={self._session_id!r})"
        )

    # =====================================================================================
    # Getters
    # =====================================================================================
    def get_status(self) -> ReactorStatus:
        return self._status

    @property
    def status(self) -> ReactorStatus:
        return self._status

    def get_state(self) -> ReactorState:
        return ReactorState(status=self._status, last_error=self._last_error)

    def get_session_id(self) -> str | None:
        return self._session_id

    def get_last_error(self) -> ReactorError | None:
        return self._last_error

    def get_capabilities(self) -> Capabilities | None:
        return self._capabilities

    def get_session_info(self) -> dict[str, Any] | None:
        return self._session_response

    def get_remote_tracks(self) -> dict[str, MediaStreamTrack]:
        return dict(self._remote_tracks)

    @property
    def commands(self) -> list[CommandSpec]:
        """The model's commands, normalised from the schema (preferred) or the capabilities."""
        return list(self._commands)

    @property
    def model_state(self) -> dict[str, Any] | None:
        """Data of the latest ``state`` message (Helios), or None."""
        return None if self._model_state is None else dict(self._model_state)

    # =====================================================================================
    # Status plumbing
    # =====================================================================================
    def _set_status(self, status: ReactorStatus) -> None:
        if status == self._status:
            return
        logger.debug("status %s -> %s", self._status.value, status.value)
        self._status = status
        self.frames.add_event("status", status.value, None)
        self._emit("status_changed", status)

    def _begin_connecting(self, timeout: float | None) -> tuple[float, float | None]:
        """Enter CONNECTING for connect()/reconnect(): reset per-attempt state; return (start, deadline)."""
        self._set_status(ReactorStatus.CONNECTING)
        self._connect_task = asyncio.current_task()
        self._aborting = False
        self._last_error = None  # errors of an earlier attempt or session are history (the timeline keeps them)
        self._timings = {}
        self._t_connect = t0 = time.monotonic()
        return t0, None if timeout is None else t0 + timeout

    def _set_expiration(self, expiration: float | None) -> None:
        if expiration != self._expiration:
            self._expiration = expiration
            self._emit("session_expiration_changed", expiration)

    def get_session_expiration(self) -> float | None:
        """When the session stops being usable (Unix seconds), if known: see ``session_expiration_changed``."""
        return self._expiration

    def _set_session_id(self, session_id: str | None) -> None:
        if session_id == self._session_id:
            return
        self._session_id = session_id
        self._emit("session_id_changed", session_id)

    def _error(
        self,
        code: str,
        message: str,
        component: ErrorComponent = "api",
        recoverable: bool = True,
        retry_after: float | None = None,
    ) -> ReactorError:
        message = scrub(
            message, [s.reveal() for s in (self._api_key, self._api.jwt if self._api else None) if s]
        )
        err = ReactorError(code, message, time.time(), recoverable, component, retry_after)
        self._last_error = err
        logger.info("reactor error %s", err)
        self.frames.add_event("error", code, err.to_dict())
        self._emit("error", err)
        return err

    # =====================================================================================
    # Connect / reconnect / disconnect
    # =====================================================================================
    async def connect(
        self,
        timeout: float | None = _UNSET,
        *,
        session_id: str | None = None,
        extra_configs: dict[str, Any] | None = None,
    ) -> None:
        """Create (or start) the session and connect; returns at READY, raises on failure.

        ``timeout`` (default ``connect_timeout``, 15 s) bounds the whole call except the wait
        for a GPU while polling the coordinator, which has its own budget (§2.6).
        ``session_id`` adopts an existing cloud session instead of creating one (it is then
        never deleted by this client); ``extra_configs`` is passed to session creation.
        """
        coro = self._connect(
            self.connect_timeout if timeout is _UNSET else timeout, session_id, extra_configs
        )
        await self._sdk.run(coro)
        warn_if_shared(self)

    def connect_sync(
        self,
        timeout: float | None = _UNSET,
        *,
        session_id: str | None = None,
        extra_configs: dict[str, Any] | None = None,
    ) -> None:
        """Blocking :meth:`connect` for plain threads and notebook cells."""
        coro = self._connect(
            self.connect_timeout if timeout is _UNSET else timeout, session_id, extra_configs
        )
        self._sdk.run_sync(coro)
        warn_if_shared(self)

    async def reconnect(self, timeout: float | None = _UNSET) -> None:
        """Reconnect to the kept session (new connection + PUT offer); errors reported, not raised.

        Local mode: when the runtime answers 404 for the kept session (it was restarted), a fresh
        session is started instead (``session_id_changed`` fires; ``frames`` keeps its history).
        """
        await self._sdk.run(self._reconnect(self.connect_timeout if timeout is _UNSET else timeout))

    def reconnect_sync(self, timeout: float | None = _UNSET) -> None:
        """Blocking :meth:`reconnect`."""
        self._sdk.run_sync(self._reconnect(self.connect_timeout if timeout is _UNSET else timeout))

    async def disconnect(self, recoverable: bool = False) -> None:
        """Disconnect; ``recoverable=True`` keeps the session (and its id) for :meth:`reconnect`.

        The last error is cleared (the user ended the session; the timeline keeps the history).
        """
        await self._sdk.run(self._user_disconnect(recoverable))

    def disconnect_sync(self, recoverable: bool = False, timeout: float | None = 30.0) -> None:
        """Blocking :meth:`disconnect`."""
        self._sdk.run_sync(self._user_disconnect(recoverable), timeout)

    async def _user_disconnect(self, recoverable: bool) -> None:
        self._last_error = None
        await self._disconnect(recoverable)

    async def __aenter__(self) -> Reactor:
        """``async with Reactor(...) as reactor:`` — the first command connects if ``connect()`` was not called."""
        self._in_context = True
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._in_context = False
        await self.disconnect()

    def __enter__(self) -> Reactor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.disconnect_sync()

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
        transport: WebRTCTransport

        def current() -> bool:
            return self._transport is transport

        def on_ready() -> None:
            if current():
                self._on_transport_ready(transport)

        def on_lost(failed: bool) -> None:
            if current():
                self._on_transport_lost(failed)

        def on_link_lost(reason: str) -> None:
            if current():
                self._on_link_lost(reason)

        def on_message(raw: str) -> None:
            if current():
                self._on_message(raw)

        def on_track(name: str, track: MediaStreamTrack) -> None:
            if current():
                self._remote_tracks[name] = track
                self._emit("track_received", name, track)

        def on_frame(arr: Frame, name: str, timing: FrameTiming) -> None:
            if current():
                self._on_frame(arr, name, timing)

        transport = WebRTCTransport(
            api,
            session_id,
            self._tracks,
            TransportCallbacks(on_ready, on_lost, on_message, on_track, on_frame, on_link_lost),
            early_release=self.early_release,
            link_timeout=self.link_timeout,
            ping_interval=self.ping_interval,
        )
        if self.wire == "v1":
            self._attach_v1(transport, current)
        transport.chunking = self.generation == "stepped"
        return transport

    async def _bounded(self, coro: Coroutine[Any, Any, T], deadline: float | None, what: str) -> T:
        if deadline is None:
            return await coro
        remaining = deadline - time.monotonic()
        try:
            return await asyncio.wait_for(coro, max(remaining, 0.001))
        except asyncio.TimeoutError:
            raise ReactorException(TIMEOUT, f"{what} did not finish within the connect timeout") from None

    async def _connect(
        self,
        timeout: float | None,
        adopt: str | None = None,
        extra_configs: dict[str, Any] | None = None,
    ) -> None:
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
        t0, deadline = self._begin_connecting(timeout)
        ice_task: asyncio.Task[list[dict[str, Any]]] | None = None
        try:
            api = self._api = self._new_api()
            if not self.local and self._api_key:
                await self._bounded(api.fetch_token(), deadline, "token exchange")
            if adopt is not None:  # only the creator ends a session: never DELETEd by us
                desc: dict[str, Any] = {"session_id": adopt}
                self._created_session = False
                self.shared_clients = 0
            else:
                desc = await self._bounded(api.create_session(extra_configs), deadline, "session creation")
                self._created_session = False  # a joiner must never stop a session others use
                self.shared_clients = check_sharing(desc, exclusive=self.exclusive, where=self.base_url)
                self._created_session = self.shared_clients == 0
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
            t_transport = time.monotonic()
            ice_servers = await self._bounded(ice_task, deadline, "ICE server fetch")
            transport = self._transport = self._new_transport(api, session_id)
            await self._bounded(transport.connect(ice_servers), deadline, "WebRTC negotiation")
            await transport.wait_ready(None if deadline is None else max(deadline - time.monotonic(), 0.001))
            self._timings["transport_connecting_ms"] = (time.monotonic() - t_transport) * 1000
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

    async def _fail_connect(self, exc: BaseException | None) -> None:
        """§7 failure inside connect(): GPU_CONNECTION_ERROR if the transport failed, CONNECTION_FAILED, full disconnect."""
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
        if transport != "webrtc":
            raise ReactorException(
                CONNECTION_FAILED, f"unsupported transport {transport!r} (expected 'webrtc')"
            )
        if not isinstance(caps, dict) or not caps.get("tracks"):
            raise ReactorException(
                CONNECTION_FAILED, "the session descriptor lists no tracks in its capabilities"
            )
        self._session_response = desc
        self._capabilities = caps  # type: ignore[assignment]
        self._tracks = [t for t in caps["tracks"] if isinstance(t, dict) and "name" in t and "kind" in t]
        schema = desc.get("schema") if isinstance(desc.get("schema"), dict) else None
        self._commands = normalize_commands(caps, schema)
        self._commands_from_schema = bool(schema and commands_from_openapi(schema))
        self._use_schema_doc(schema)
        self._emit("capabilities_received", caps)

    def _use_schema_doc(self, doc: dict[str, Any] | None) -> None:
        """Reply types and integer message fields from an OpenAPI schema (descriptor or ``modelSchema``)."""
        self._replies.reply_types = reply_types(doc)
        self._int_fields = integer_fields(doc)
        self._field_orders = field_orders(doc)

    async def _reconnect(self, timeout: float | None) -> None:
        if self._status == ReactorStatus.READY:
            return
        if self._status != ReactorStatus.DISCONNECTED:
            raise RuntimeError(f"cannot reconnect while status is {self._status.value!r}")
        if self._session_id is None or not self._tracks or self._api is None:
            raise RuntimeError("no session to reconnect to (call connect() to start one)")
        t0, deadline = self._begin_connecting(timeout)
        api, session_id = self._api, self._session_id
        try:
            if not self.local and self._api_key:
                await self._bounded(api.fetch_token(), deadline, "token exchange")
            ice_servers = await self._bounded(api.get_ice_servers(session_id), deadline, "ICE server fetch")
            transport = self._transport = self._new_transport(api, session_id)
            await self._bounded(
                transport.connect(ice_servers, reconnect=True), deadline, "WebRTC negotiation"
            )
            await transport.wait_ready(None if deadline is None else max(deadline - time.monotonic(), 0.001))
            self._timings["transport_connecting_ms"] = (time.monotonic() - t0) * 1000
        except asyncio.CancelledError:
            if self._aborting:
                return
            await asyncio.shield(self._disconnect(recoverable=True, from_connect=True))
            raise
        except Exception as exc:
            await self._disconnect(recoverable=True, from_connect=True)
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
                RECONNECTION_FAILED,
                f"reconnect failed: {exc}",
                "api",
                True,
                getattr(exc, "retry_after", None),
            )
        finally:
            if self._connect_task is asyncio.current_task():
                self._connect_task = None

    async def _disconnect(self, recoverable: bool = False, *, from_connect: bool = False) -> None:
        if self._teardown_lock is None:
            self._teardown_lock = asyncio.Lock()
        task = self._connect_task
        if task is not None and not task.done() and task is not asyncio.current_task() and not from_connect:
            self._aborting = True
            task.cancel()
            await asyncio.wait([task])
        async with self._teardown_lock:
            idle = self._status == ReactorStatus.DISCONNECTED and self._transport is None
            if idle and (recoverable or (self._session_id is None and self._api is None)):
                return
            # 1. timers and in-flight work
            for t in (self._stats_task, self._schema_task):
                if t is not None and not t.done() and t is not asyncio.current_task():
                    t.cancel()
            self._stats_task = self._schema_task = None
            for waiters in self._runtime_waiters.values():
                for fut in waiters:
                    if not fut.done():
                        fut.set_exception(NotReadyError("wait for a runtime reply", "disconnected"))
            self._runtime_waiters.clear()
            self._replies.fail_all(NotReadyError("wait for a command reply", "disconnected"))
            # 2-3. pending control requests, inputs, channels, peer, readers
            transport, self._transport = self._transport, None
            if transport is not None:
                try:
                    await transport.close()
                except Exception as exc:
                    logger.warning("closing the transport failed: %s", exc)
            # 4. end the session we created
            if not recoverable:
                api, self._api = self._api, None
                if api is not None:
                    if self._created_session and self._session_id is not None:
                        try:
                            await asyncio.wait_for(api.terminate_session(self._session_id), 8.0)
                        except Exception as exc:
                            logger.info("ending session %s failed (ignored): %s", self._session_id, exc)
                    await api.close()
            # 5. status and ids
            self._fps.reset()
            self._set_status(ReactorStatus.DISCONNECTED)
            if not recoverable:
                self._expiration = None
                self._emit("session_expiration_changed", None)  # always on a full disconnect (protocol §7)
                self._set_session_id(None)
                # 6. forget the session
                self._capabilities = None
                self._tracks = []
                self._commands = []
                self._commands_from_schema = False
                self._session_response = None
                self._remote_tracks = {}
                self._created_session = False
                self._dispatcher.stop()

    # =====================================================================================
    # Transport events
    # =====================================================================================
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
                    transport.notify("resume_track", track["name"])
        self._set_status(ReactorStatus.READY)
        self._stats_task = self._spawn(self._stats_loop())
        if not self._commands_from_schema:
            self._schema_task = self._spawn(self._fetch_schema())

    def _on_transport_lost(self, failed: bool) -> None:
        if self._status != ReactorStatus.READY:
            return
        if failed:
            self._error(GPU_CONNECTION_ERROR, "the WebRTC connection failed", "gpu", True)
            self._spawn(self._disconnect(recoverable=False))
        else:
            self._spawn(self._disconnect(recoverable=True))

    def _on_link_lost(self, reason: str) -> None:
        """Silent link (runtime killed, network cut): recoverable error, keep the session for reconnect()."""
        if self._status != ReactorStatus.READY:
            return
        self._error(GPU_CONNECTION_ERROR, f"the WebRTC connection went silent: {reason}", "gpu", True)
        self._spawn(self._disconnect(recoverable=True))

    def _on_frame(self, arr: Frame, track: str, timing: FrameTiming) -> None:
        self._frames_received += 1
        self._convert_ms = timing.convert_ms
        if timing.decode_ms is not None:
            self._decode_ms = timing.decode_ms
        if timing.age_ms is not None:
            self._frame_age_ms = timing.age_ms
        if track != self._primary_video():
            self.frames.push(arr, track=track, latency_ms=timing.age_ms)
            return
        facts = self._indexer.facts(arr, self.frames.state)  # this frame's own model frame, chunk, prompt
        self.frames.push(
            arr,
            track=track,
            latency_ms=timing.age_ms,
            frame_index=facts.frame,
            chunk=facts.chunk,
            prompt=facts.prompt,
            exact=facts.exact,
        )
        self._dispatcher.submit(arr)

    def _primary_video(self) -> str | None:
        for t in self._tracks:
            if t.get("kind") == "video" and t.get("direction") == "recvonly":
                return t["name"]
        return None

    def _on_message(self, raw: str) -> None:
        try:
            env = P.decode_envelope(raw)
        except P.EnvelopeError as exc:
            if "not valid JSON" in str(exc):
                self.frames.add_event("message", "raw", raw)
                self._emit("message", raw)  # un-enveloped payloads reach the user whole
            else:
                logger.info("dropped data-channel message: %s", exc)
            return
        if env.scope is None:
            self.frames.add_event("message", "raw", env.inner)
            self._emit("message", env.inner)
        elif env.scope == "application":
            self._on_application_message(env.inner)
        else:
            self._on_runtime_message(env.inner)

    def _on_application_message(self, inner: dict[str, Any]) -> None:
        inner = coerce_integers(inner, self._int_fields)
        rejection = self._replies.on_message(inner)
        if rejection is not None:
            self._last_rejection = rejection
            self._emit("command_rejected", rejection)
        mtype, data = inner.get("type"), inner.get("data")
        if mtype == "state" and isinstance(data, dict):
            self._model_state = dict(data)
            self._indexer.on_state(data)
            self.frames.set_state(data)
        else:
            name = mtype
            if mtype == "event" and isinstance(data, dict) and isinstance(data.get("event"), str):
                name = f"event:{data['event']}"
            self.frames.add_event("message", str(name), data)
        self._emit("message", inner)

    def _on_runtime_message(self, inner: dict[str, Any]) -> None:
        mtype, data = inner.get("type"), inner.get("data")
        if mtype == "modelSchema" and isinstance(data, dict):
            cmds = commands_from_openapi(data)
            if cmds:
                self._commands = cmds
                self._commands_from_schema = True
                self._use_schema_doc(data)
        elif mtype == "modelCapabilities" and isinstance(data, dict):
            if data.get("tracks"):
                self._capabilities = data  # type: ignore[assignment]
            if not self._commands_from_schema and data.get("commands"):
                self._commands = normalize_commands(data, None)
            self._emit("capabilities_received", data)
        for fut in self._runtime_waiters.pop(str(mtype), []):
            if not fut.done():
                fut.set_result(data)
        self.frames.add_event("event", f"runtime:{mtype}", data)
        self._emit("runtime_message", inner)

    async def _await_runtime_reply(self, request: str, reply: str, timeout: float) -> Any:
        if self._transport is None or self._status != ReactorStatus.READY:
            raise NotReadyError(f"send {request}", self._status)
        if self.v1 is not None:  # a v1 connection takes no v0 frame
            return await self._v1_runtime_request(request, timeout)
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._runtime_waiters.setdefault(reply, []).append(fut)
        try:
            self._transport.send_raw(P.encode_envelope("runtime", request, {}))
            return await asyncio.wait_for(fut, timeout)
        except asyncio.TimeoutError:
            raise ReactorException(TIMEOUT, f"no {reply!r} reply to {request!r} within {timeout} s") from None
        finally:
            waiters = self._runtime_waiters.get(reply, [])
            if fut in waiters:
                waiters.remove(fut)

    async def _fetch_schema(self) -> None:
        """No schema in the descriptor: ask with ``requestSchema`` (3 s), else keep the capabilities' commands."""
        if self.v1 is not None:
            try:
                await self._v1_fetch_schema(SCHEMA_REQUEST_TIMEOUT_S)
            except ReactorException as exc:
                logger.info("no v1 model_schema reply (%s); using the capabilities' commands", exc)
            return
        try:
            await self._await_runtime_reply("requestSchema", "modelSchema", SCHEMA_REQUEST_TIMEOUT_S)
        except ReactorException as exc:
            logger.debug("no modelSchema reply (%s); using the capabilities' commands", exc.code)

    async def request_capabilities(self, timeout: float = 5.0) -> Capabilities:
        """Ask the runtime for its capabilities (``requestCapabilities`` → ``modelCapabilities``).

        Waits up to ``timeout`` seconds for the reply: a ReactorException with code ``TIMEOUT``
        after that, NotReadyError when the session is not READY or disconnects meanwhile.
        """
        return await self._sdk.run(
            self._await_runtime_reply("requestCapabilities", "modelCapabilities", timeout)
        )

    async def request_schema(self, timeout: float = 5.0) -> dict[str, Any]:
        """Ask the runtime for its OpenAPI command schema (``requestSchema`` → ``modelSchema``); errors as
        :meth:`request_capabilities`."""
        return await self._sdk.run(self._await_runtime_reply("requestSchema", "modelSchema", timeout))

    # =====================================================================================
    # Commands
    # =====================================================================================
    async def send_command(self, command: str, data: Any = None, *, validate: bool = True) -> None:
        """Validate and send a model command; returns once it is on the data channel (fire-and-forget).

        ``command`` is a name from :attr:`commands` (e.g. ``"schedule_prompt"``) and ``data`` a
        dict of its fields (``{"prompt": "A sunset", "chunk": 2}``; a JSON string, or None for
        none; ``FileRef`` values travel as uploads). Errors raised here, before anything is sent:
        :class:`NotReadyError` unless the status is READY,
        :class:`~reactor_notebook.schema.CommandValidationError` (naming command, field and reason)
        for an unknown command or a missing/extra/mistyped/out-of-range field (``validate=False``
        skips this check), :class:`MessageSendError` when the message is over 256 KiB (send large
        files with :meth:`upload_file`). The model's own verdict comes later: a rejection fires
        ``command_rejected``, is kept in ``last_rejection`` and lands in
        ``reactor.frames.timeline()``; to wait for the answer (the reply, or
        ``CommandRejectedError``) use :meth:`send_command_and_wait`.
        """
        await self._sdk.run(self._send_command(command, data, validate))

    def send_command_sync(
        self, command: str, data: Any = None, *, validate: bool = True, timeout: float = 10.0
    ) -> None:
        """Blocking :meth:`send_command` (returns once sent; :meth:`send_command_and_wait_sync` waits for the answer)."""
        self._sdk.run_sync(self._send_command(command, data, validate), timeout)

    async def _send_command(
        self, command: str, data: Any, validate: bool, *, expect: bool = False
    ) -> asyncio.Future[CommandReply] | None:
        if not isinstance(command, str) or not command:
            raise TypeError(f"command must be a non-empty string, got {command!r}")
        if self._in_context and self._status == ReactorStatus.DISCONNECTED and self._session_id is None:
            await self._connect(self.connect_timeout)  # the seed's context-manager snippet sends at once
        if self._status != ReactorStatus.READY or self._transport is None:
            raise NotReadyError(f"send command {command!r}", self._status)
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except ValueError as exc:
                raise CommandValidationError(
                    command, "wrong_type", f"data string is not valid JSON: {exc}"
                ) from None
        if data is None:
            data = {}
        uploads: dict[str, Any] = {}
        if isinstance(data, dict) and any(isinstance(v, FileRef) for v in data.values()):
            uploads = {k: v.to_wire() for k, v in data.items() if isinstance(v, FileRef)}
            data = {k: v for k, v in data.items() if not isinstance(v, FileRef)}
        if validate:
            if not self._commands and self._schema_task is not None and not self._schema_task.done():
                await asyncio.wait([self._schema_task], timeout=SCHEMA_REQUEST_TIMEOUT_S)
            if self._commands or self._commands_known():
                data = validate_command(self._commands, command, data, uploads=uploads)
        try:
            text = P.encode_envelope("application", command, data, uploads or None)
        except (TypeError, ValueError) as exc:
            raise CommandValidationError(
                command, "invalid_value", f"arguments are not JSON-serialisable: {exc}"
            ) from None
        reply = self._replies.expect(command) if expect and self.v1 is None else None
        try:
            if self.v1 is not None:
                reply = self._v1_command(command, data, uploads, expect)
            else:
                self._transport.send_raw(text)
        except MessageSendError as exc:
            if reply is not None and self.v1 is None:
                self._replies.discard(reply)
            self._error(MESSAGE_SEND_FAILED, f"{command}: {exc.message}", "gpu", True)
            raise MessageSendError(f"{command}: {exc.message}") from None
        self.frames.add_event("command", command, {**data, **uploads} if uploads else data)
        return reply

    def _commands_known(self) -> bool:
        caps = self._capabilities or {}
        return bool(self._commands_from_schema or caps.get("commands"))

    # =====================================================================================
    # Uploads
    # =====================================================================================
    async def upload_file(
        self,
        file: bytes | str | os.PathLike[str] | Any,
        *,
        name: str | None = None,
        mime_type: str | None = None,
    ) -> FileRef:
        """Upload bytes, a path or a binary file object; returns a FileRef to use as a command argument."""
        data, resolved = _read_file(file, name)
        mime = mime_type or mimetypes.guess_type(resolved)[0] or "application/octet-stream"
        return await self._sdk.run(self._upload(data, resolved, mime))

    def upload_file_sync(
        self,
        file: bytes | str | os.PathLike[str] | Any,
        *,
        name: str | None = None,
        mime_type: str | None = None,
        timeout: float = 60.0,
    ) -> FileRef:
        """Blocking :meth:`upload_file`."""
        data, resolved = _read_file(file, name)
        mime = mime_type or mimetypes.guess_type(resolved)[0] or "application/octet-stream"
        return self._sdk.run_sync(self._upload(data, resolved, mime), timeout)

    async def _upload(self, data: bytes, name: str, mime_type: str) -> FileRef:
        if self._status != ReactorStatus.READY or self._transport is None or self._api is None:
            raise NotReadyError(f"upload {name!r}", self._status)
        if not data:
            raise ValueError(f"cannot upload {name!r}: the file is empty")
        assert self._session_id is not None
        slot = await self._api.create_upload(self._session_id, name, len(data), mime_type)
        await self._api.put_upload(str(slot["presigned_url"]), data, mime_type)
        ref = FileRef(upload_id=str(slot["presigned_id"]), name=name, mime_type=mime_type, size=len(data))
        if self.v1 is not None:
            self._v1_file_uploaded(ref.to_wire())
        else:
            self._transport.send_raw(P.encode_envelope("runtime", "fileUploaded", ref.to_wire()))
        self.frames.add_event("event", "file_uploaded", ref.to_wire())
        return ref

    # =====================================================================================
    # Tracks
    # =====================================================================================
    async def publish_track(self, name: str, track: MediaStreamTrack) -> None:
        """Publish a local MediaStreamTrack on the model input ``name`` (e.g. ``webcam``).

        ``track`` is any aiortc video track, e.g. :class:`~reactor_notebook.sources.ArrayTrack`.
        Raises :class:`NotReadyError` unless READY, ``TypeError`` for a non-track, and
        :class:`TrackPublishError` when the model declares no such input or the runtime refuses
        it; returns once the runtime has accepted the track.
        """
        await self._sdk.run(self._publish(name, track))

    def publish_track_sync(self, name: str, track: MediaStreamTrack, timeout: float = 15.0) -> None:
        """Blocking :meth:`publish_track`."""
        self._sdk.run_sync(self._publish(name, track), timeout)

    async def _publish(self, name: str, track: MediaStreamTrack) -> None:
        if self._status != ReactorStatus.READY or self._transport is None:
            raise NotReadyError(f"publish track {name!r}", self._status)
        if not isinstance(track, MediaStreamTrack):
            raise TypeError(f"track must be an aiortc MediaStreamTrack, got {type(track).__name__}")
        try:
            await self._transport.publish_track(name, track)
        except (ControlRequestError, TrackPublishError) as exc:
            self._error(TRACK_PUBLISH_FAILED, f"publish {name!r} failed: {exc.message}", "gpu", True)
            raise TrackPublishError(f"publish {name!r} failed: {exc.message}") from None
        self.frames.add_event("event", "publish_track", {"name": name})

    async def unpublish_track(self, name: str) -> None:
        """Stop publishing the input ``name`` (no-op if not published)."""
        await self._sdk.run(self._unpublish(name))

    def unpublish_track_sync(self, name: str, timeout: float = 10.0) -> None:
        """Blocking :meth:`unpublish_track`."""
        self._sdk.run_sync(self._unpublish(name), timeout)

    async def _unpublish(self, name: str) -> None:
        if self._transport is not None:
            await self._transport.unpublish_track(name)
            self.frames.add_event("event", "unpublish_track", {"name": name})

    async def pause_track(self, name: str) -> None:
        """Ask the runtime to stop sending output ``name`` to this connection."""
        await self._sdk.run(self._notify_track("pause_track", name))

    async def resume_track(self, name: str) -> None:
        """Ask the runtime to resume sending output ``name``."""
        await self._sdk.run(self._notify_track("resume_track", name))

    async def _notify_track(self, event: str, name: str) -> None:
        if self._status != ReactorStatus.READY or self._transport is None:
            raise NotReadyError(f"{event} {name!r}", self._status)
        outputs = [t["name"] for t in self._tracks if t.get("direction") == "recvonly"]
        if name not in outputs:
            raise ValueError(
                f"{event}: {name!r} is not an output track; outputs: {', '.join(outputs) or 'none'}"
            )
        self._transport.notify(event, name)

    # =====================================================================================
    # Stats
    # =====================================================================================
    def get_stats(self) -> ConnectionStats:
        """Latest connection stats (network part refreshed every 2 s) with live frame counters."""
        stats = dict(self._last_stats or empty_stats())
        stats.update(self._counters())
        return stats  # type: ignore[return-value]

    async def collect_stats(self) -> ConnectionStats:
        """Collect fresh stats now (also what the 2 s ``stats_update`` timer does)."""
        return await self._sdk.run(self._collect_stats())

    def _counters(self) -> dict[str, Any]:
        dropped = sum(
            r.stats.frames_dropped for r in (self._transport.readers.values() if self._transport else ())
        )
        self._frames_dropped = max(self._frames_dropped, dropped)
        return {
            "frames_received": self._frames_received,
            "frames_dropped": self._frames_dropped,
            "callback_frames_dropped": self._dispatcher.dropped,
            "decode_ms": self._decode_ms,
            "frame_age_ms": self._frame_age_ms,
            "convert_ms": self._convert_ms,
        }

    async def _collect_stats(self) -> ConnectionStats:
        stats = empty_stats()
        transport = self._transport
        if transport is not None and transport.pc is not None:
            try:
                report = await transport.pc.getStats()
                stats.update(summarize_report(report))  # type: ignore[typeddict-item]
            except Exception as exc:
                logger.debug("getStats failed: %s", exc)
            if stats.get("rtt") is None:
                stats["rtt"] = transport.sctp_rtt_ms()
            stats["candidate_type"] = transport.candidate_type()
            stats["available_outgoing_bitrate"] = transport.outgoing_bitrate()
        stats["connection_timings"] = timings_dict(self._timings)
        stats["frames_per_second"] = self._fps.update(self._frames_received)
        stats.update(self._counters())  # type: ignore[typeddict-item]
        self._last_stats = stats
        return stats

    async def _stats_loop(self) -> None:
        self._fps.update(self._frames_received)
        while self._status == ReactorStatus.READY:
            await asyncio.sleep(self._stats_interval)
            if self._status != ReactorStatus.READY:
                break
            stats = await self._collect_stats()
            self._emit("stats_update", stats)


def _local_session_gone(exc: BaseException) -> bool:
    """A transport call refused because the local session no longer exists: 404, or RT20's 400 "No session running"."""
    status = getattr(exc, "status", None)
    return status == 404 or (status == 400 and "no session running" in str(exc).lower())


def _read_file(file: Any, name: str | None) -> tuple[bytes, str]:
    """Bytes and a display name from bytes, a path, or a binary file object."""
    if isinstance(file, (bytes, bytearray, memoryview)):
        return bytes(file), name or "upload"
    if isinstance(file, (str, os.PathLike)):
        path = os.fspath(file)
        with open(path, "rb") as fh:
            return fh.read(), name or os.path.basename(path)
    read = getattr(file, "read", None)
    if read is None:
        raise TypeError(f"upload_file takes bytes, a path or a binary file object, got {type(file).__name__}")
    data = read()
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError("upload_file needs a binary file object (open it with mode 'rb')")
    fname = name or getattr(file, "name", None) or "upload"
    return bytes(data), os.path.basename(os.fsdecode(fname)) if not isinstance(fname, int) else "upload"

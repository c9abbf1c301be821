"""The state every part of :class:`~.session.Reactor` shares: status, session, errors and getters.

:class:`SessionCore` holds the fields the lifecycle, routing, sending and stats parts read and
write (declared once, with their types), the status plumbing that fires the matching events,
and the read-only getters of the public API.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from typing import TYPE_CHECKING, Any

from aiortc.mediastreams import MediaStreamTrack

from .. import protocol as P
from ..frames import FrameBuffer
from ..schema import CommandSpec
from .errors import scrub
from .events import EventsMixin
from .frameindex import FrameIndexer
from .http import HttpApi, PollPolicy, Secret
from .loop import SdkLoop, get_sdk_loop
from .replies import Rejection, ReplyBook
from .stats import FpsMeter, FrameCounters
from .types import (
    Capabilities,
    ConnectionStats,
    ErrorComponent,
    ReactorError,
    ReactorState,
    ReactorStatus,
    TrackCapability,
)

if TYPE_CHECKING:
    from .channels_v1 import Wire
    from .transport import WebRTCTransport

logger = logging.getLogger(__name__)

STATS_INTERVAL_S = 2.0
# The answer poll starts at 6 ms and doubles: our runtime on this machine has the answer ~13 ms
# after the offer (bench/connect_phases.py), so a 25 ms first sleep cost ~20 ms of every connect;
# 11 attempts keep the official client's ~6.2 s budget (0.2 s doubling, 6 attempts) after the offer.
SDP_POLL = (0.006, 15.0, 11)
SCHEMA_REQUEST_TIMEOUT_S = 3.0


def local_base_url(explicit: str | None = None) -> str:
    """Local runtime base URL: explicit, else ``$REACTOR_LOCAL_URL``, else http://localhost:8080."""
    return (explicit or os.environ.get(P.LOCAL_URL_ENV) or P.DEFAULT_LOCAL_URL).rstrip("/")


class SessionCore(EventsMixin):
    """Fields and status plumbing shared by the Reactor's parts (no network I/O here)."""

    model_name: str
    local: bool
    base_url: str
    frames: FrameBuffer
    wire: Wire
    generation: str
    _api_key: Secret | None
    _jwt: Secret | None
    _session_poll: PollPolicy
    _sdp_poll: PollPolicy

    def _init_state(self) -> None:
        """Per-session state, all empty until :meth:`connect`."""
        self._sdk: SdkLoop = get_sdk_loop()
        self._status = ReactorStatus.DISCONNECTED
        self._expiration: float | None = None
        self._in_context = False
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
        self._frame_counters = FrameCounters()

    def _repr_html_(self) -> str:
        from ..reprs import reactor_html

        return reactor_html(self)

    def __repr__(self) -> str:
        mode = "local" if self.local else "cloud"
        return (
            f"Reactor(model_name={self.model_name!r}, mode={mode!r}, url={self.base_url!r}, "
            f"status={self._status.value!r}, session_id={self._session_id!r})"
        )

    # --- getters ----------------------------------------------------------------------------
    def get_status(self) -> ReactorStatus:
        """The connection status (DISCONNECTED, CONNECTING, WAITING, READY)."""
        return self._status

    @property
    def status(self) -> ReactorStatus:
        """The connection status, as :meth:`get_status`."""
        return self._status

    def get_state(self) -> ReactorState:
        """Status and the latest error together."""
        return ReactorState(status=self._status, last_error=self._last_error)

    def get_session_id(self) -> str | None:
        """The current (or kept) session's id, or None."""
        return self._session_id

    def get_last_error(self) -> ReactorError | None:
        """The latest error of this attempt or session, or None."""
        return self._last_error

    def get_capabilities(self) -> Capabilities | None:
        """The model's capabilities (tracks, commands) from the session descriptor, or None."""
        return self._capabilities

    def get_session_info(self) -> dict[str, Any] | None:
        """The full session descriptor the server returned, or None."""
        return self._session_response

    def get_remote_tracks(self) -> dict[str, MediaStreamTrack]:
        """The aiortc tracks received, by track name."""
        return dict(self._remote_tracks)

    def get_session_expiration(self) -> float | None:
        """When the session stops being usable (Unix seconds), if known: see ``session_expiration_changed``."""
        return self._expiration

    @property
    def commands(self) -> list[CommandSpec]:
        """The model's commands, normalised from the schema (preferred) or the capabilities."""
        return list(self._commands)

    @property
    def model_state(self) -> dict[str, Any] | None:
        """Data of the latest ``state`` message (Helios), or None."""
        return None if self._model_state is None else dict(self._model_state)

    # --- status plumbing --------------------------------------------------------------------
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
        """Record and report an error (secrets scrubbed): ``last_error``, the timeline and ``error``."""
        message = scrub(
            message, [s.reveal() for s in (self._api_key, self._api.jwt if self._api else None) if s]
        )
        err = ReactorError(code, message, time.time(), recoverable, component, retry_after)
        self._last_error = err
        logger.info("reactor error %s", err)
        self.frames.add_event("error", code, err.to_dict())
        self._emit("error", err)
        return err

"""The public :class:`Reactor` client (``docs/protocol.md`` "Client behaviour").

Every asyncio step runs on the SDK's own loop thread (:mod:`.loop`), so streaming goes on
while a notebook cell blocks, and each public coroutine can be awaited from any loop
(Jupyter's, ``asyncio.run``, another thread's). Blocking ``*_sync`` twins (:mod:`.sync`) serve
plain threads. Every decoded frame lands once, as RGB, in ``reactor.frames`` and in the frame
callbacks (own thread, latest frame wins). This module assembles the parts and checks the
constructor's arguments.
"""

from __future__ import annotations

import atexit
import logging
import weakref

from .. import protocol as P
from ..frames import FrameBuffer
from .channels_v1 import Wire
from .clips import ClipsMixin
from .commands import CommandRepliesMixin
from .core import SDP_POLL, STATS_INTERVAL_S, local_base_url
from .http import PollPolicy, Secret
from .lifecycle import LifecyclePart
from .live_stats import StatsPart
from .sending import SendingPart
from .session_v1 import V1SessionMixin
from .steps import STEP_TIMEOUT_S, StepsMixin
from .transport import LINK_TIMEOUT_S
from .types import ReactorStatus

__all__ = ["Reactor", "local_base_url"]

logger = logging.getLogger(__name__)

WIRE_CHOICES = ("auto", *P.WIRE_VERSIONS)
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


class Reactor(StepsMixin, ClipsMixin, CommandRepliesMixin, V1SessionMixin, LifecyclePart, SendingPart, StatsPart):
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

    The class is a facade: its parts live in :mod:`.lifecycle` (connect, reconnect, disconnect),
    :mod:`.routing` (incoming messages and frames), :mod:`.sending` (commands, uploads, tracks),
    :mod:`.live_stats` and the mixins for replies, wire v1, steps and clips.
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
        _check_arguments(model_name, api_key, jwt, local, wire, ping_interval)
        self.model_name = model_name
        self.local = bool(local)
        self.base_url = local_base_url(local_url) if self.local else api_url.rstrip("/")
        self._api_key = Secret(api_key) if api_key else None
        self._jwt = Secret(jwt) if jwt and not local else None  # minted elsewhere (a token proxy); never renewed
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
        self.ping_interval = float(ping_interval)
        self.exclusive = bool(exclusive)  # refuse a local session other clients are attached to
        self.shared_clients = 0  # other clients attached to the local session at connect (0: alone)
        # the ring names its table columns after the model (client profile; other models: generic)
        self.frames: FrameBuffer = frames if frames is not None else FrameBuffer(profile=model_name)
        self._init_state()
        self._init_events()
        _LIVE.add(self)


def _check_arguments(
    model_name: object, api_key: str | None, jwt: str | None, local: bool, wire: str, ping_interval: float
) -> None:
    """Refuse constructor arguments that cannot work, before anything is set."""
    if not isinstance(model_name, str) or not model_name:
        raise ValueError("model_name must be a non-empty string, e.g. Reactor('helios', local=True)")
    if not local and not api_key and not jwt:
        raise ValueError(
            "api_key is required for the hosted API; pass api_key=..., a token minted elsewhere as "
            "jwt=..., or local=True for a local runtime"
        )
    if wire not in WIRE_CHOICES:
        raise ValueError(f"wire must be 'auto', 'v0' or 'v1', got {wire!r}")
    if not ping_interval > 0:
        raise ValueError(f"ping_interval must be > 0 seconds, got {ping_interval!r}")

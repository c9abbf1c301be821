"""Session → traits: the SDK's events and getters become the widget's synced traits.

:class:`SessionBridge` subscribes to a :class:`~reactor_notebook.sdk.Reactor`'s events (status,
session id, messages, errors, capabilities, stats, rejections) and writes what the front end
shows: ``status``, ``last_error``, ``commands``, ``model_state``, ``model_error``, the event log
and the merged stats. Model state and refusals come parsed, as the SDK's typed ``state`` and
``model_error`` events (``sdk/messages.py``); the raw ``message`` event only feeds the log.
Its handlers run on the SDK loop thread; every write goes to a trait.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from .. import protocol as P
from ..profiles import profile_for
from ..schema import CommandSpec
from ..sdk.messages import ModelError, ModelState, is_refusal
from .direct import ViewPaths, direct_url
from .forms import form_spec
from .session_view import not_running, served_name, shared_count

if TYPE_CHECKING:
    from ..sdk import Reactor
    from ..sdk.replies import Rejection
    from ..sdk.types import ReactorEvent
    from .widget import ReactorWidget

log = logging.getLogger(__name__)

LOG_SIZE = 40  # entries kept in the widget's ``events`` trait
_ERROR_KEYS = ("code", "message", "recoverable", "component", "retry_after", "timestamp")


def status_str(status: Any) -> str:
    """A session status (enum or string) as the lower-case name the front end shows."""
    value = getattr(status, "value", status)
    return str(value).lower() if value is not None else "disconnected"


def error_dict(err: Any) -> dict[str, Any] | None:
    """The JSON shape of a ReactorError (or anything error-like) for the ``last_error`` trait."""
    if err is None:
        return None
    if hasattr(err, "to_dict"):
        d = dict(err.to_dict())
    else:
        d = {
            "code": getattr(err, "code", type(err).__name__),
            "message": getattr(err, "message", str(err)),
            "recoverable": getattr(err, "recoverable", False),
            "component": getattr(err, "component", "api"),
            "retry_after": getattr(err, "retry_after", None),
        }
    return {k: d.get(k) for k in _ERROR_KEYS}


def _first(d: dict[str, Any], *keys: str) -> Any:
    for k in keys:
        if d.get(k) is not None:
            return d[k]
    return None


class SessionBridge:
    """Keeps a widget's traits in step with its session (subscribe, refresh, unsubscribe)."""

    def __init__(self, widget: ReactorWidget, reactor: Reactor, paths: ViewPaths) -> None:
        self.widget = widget
        self.reactor = reactor
        self.paths = paths  # which views show frames directly (for stats)
        self.lock = threading.RLock()  # the SDK loop, the command worker and the shell all log
        self._specs: list[CommandSpec] = []
        self._sdk_stats: dict[str, Any] = {}
        self._handlers: list[tuple[ReactorEvent, Any]] = []

    # --- subscription ---------------------------------------------------------------------------
    def subscribe(self) -> None:
        """Listen to the session's events (those it offers)."""
        events: tuple[tuple[ReactorEvent, Any], ...] = (
            ("status_changed", self._on_status),
            ("session_id_changed", self._on_session_id),
            ("message", self._on_message),
            ("state", self._on_state),
            ("model_error", self._on_model_error),
            ("error", self._on_error),
            ("capabilities_received", self._on_capabilities),
            ("stats_update", self._on_sdk_stats),
            ("command_rejected", self._on_rejection),
        )
        for event, handler in events:
            try:
                self.reactor.on(event, handler)
            except Exception as exc:
                log.debug("reactor.on(%s) unavailable: %s", event, exc)
                continue
            self._handlers.append((event, handler))

    def unsubscribe(self) -> None:
        """Stop listening (the widget closes)."""
        for event, handler in self._handlers:
            try:
                self.reactor.off(event, handler)
            except Exception:
                log.debug("reactor.off(%s) failed", event, exc_info=True)
        self._handlers.clear()

    def refresh_all(self) -> None:
        """Pull everything from the session once (start, after connect, after a retry)."""
        r, w = self.reactor, self.widget
        w.model_name = served_name(r)
        w.status = status_str(r.get_status())
        w.session_id = r.get_session_id()
        w.last_error = error_dict(r.get_last_error())
        w.shared_clients = shared_count(r)
        self.refresh_direct()
        self.set_capabilities(r.get_capabilities())
        state = getattr(r, "model_state", None)
        if isinstance(state, dict):
            w.model_state = dict(state) if w.status == "ready" else not_running(state)

    # --- session events (SDK loop thread) -------------------------------------------------------
    def _on_status(self, status: Any, *_: Any) -> None:
        w = self.widget
        w.status = status_str(status)
        if w.status == "ready":
            w.last_error = None
            w.session_id = self.reactor.get_session_id()
            w.model_name = served_name(self.reactor)
            w.shared_clients = shared_count(self.reactor)
            self.refresh_direct()
            if not w.commands:
                self.set_capabilities(self.reactor.get_capabilities())
        else:
            w.model_state = not_running(w.model_state)  # a stale "running" would enable pause
        if w.status in ("connecting", "disconnected"):
            w.last_error = error_dict(self.reactor.get_last_error())  # None after a user disconnect
        self.log("status", w.status)

    def refresh_direct(self) -> None:
        """Offer the page a direct connection to the runtime when allowed (widget/direct.py), else None."""
        self.widget.direct_url = direct_url(self.reactor) if self.widget.direct else None

    def _on_session_id(self, sid: Any, *_: Any) -> None:
        self.widget.session_id = sid if isinstance(sid, str) else None

    def _on_error(self, err: Any, *_: Any) -> None:
        w = self.widget
        w.last_error = error_dict(err)
        if w.last_error:
            self.log("error", f"{w.last_error.get('code')}: {w.last_error.get('message')}")

    def _on_capabilities(self, caps: Any, *_: Any) -> None:
        self.set_capabilities(caps)

    def _on_sdk_stats(self, stats: Any, *_: Any) -> None:
        if isinstance(stats, dict):
            self._sdk_stats = dict(stats)
        elif hasattr(stats, "__dict__"):
            self._sdk_stats = dict(vars(stats))

    def _on_rejection(self, rejection: Rejection, *_: Any) -> None:
        """The model refused a command (any wire, any sender in this kernel): shown next to its form."""
        err = {"command": rejection.command, "field": rejection.field, "reason": rejection.code,
               "message": rejection.message}
        current = self.widget.model_error
        if current is None or {k: current.get(k) for k in err} != err:
            self.widget.model_error = {**err, "time": time.time()}
            self.log("model_error", rejection.message)

    def _on_state(self, state: ModelState, *_: Any) -> None:
        self.widget.model_state = dict(state.data)

    def _on_model_error(self, error: ModelError, *_: Any) -> None:
        if hasattr(self.reactor, "last_rejection"):  # command_rejected reported it already
            return
        self.widget.model_error = {**error.to_dict(), "time": time.time()}
        self.log("model_error", error.message)

    def _on_message(self, message: Any, *_: Any) -> None:
        """Log the model's other messages (its state and refusals arrive as typed events)."""
        if not isinstance(message, dict) or message.get("type") == P.MSG_STATE or is_refusal(message):
            return
        mtype = message.get("type")
        data = message.get("data")
        if mtype == P.MSG_EVENT and isinstance(data, dict):
            name = str(data.get("event", "event"))
            self.log("event", name, {k: v for k, v in data.items() if k != "event"})
        elif isinstance(mtype, str):
            self.log("message", mtype, data if isinstance(data, dict) else None)

    # --- commands, log, stats -------------------------------------------------------------------
    def set_capabilities(self, caps: Any) -> None:
        """The model's commands become forms; its declared input video tracks, webcam targets."""
        specs = list(getattr(self.reactor, "commands", None) or [])
        with self.lock:
            self._specs = specs
        w = self.widget
        w.commands = form_spec(specs, profile_for(w.model_name).transport_commands)
        if isinstance(caps, dict):
            tracks = [dict(tr) for tr in caps.get("tracks") or [] if isinstance(tr, dict)]
            w.capabilities = {
                "protocol_version": caps.get("protocol_version"),
                "tracks": tracks,
                "emission_fps": caps.get("emission_fps"),
            }
            w.input_tracks = [
                str(tr["name"])
                for tr in tracks
                if tr.get("direction") == "sendonly" and tr.get("kind", "video") == "video"
            ]

    def command_specs(self) -> list[CommandSpec]:
        """The model's command schema (read from the session if not known yet)."""
        with self.lock:
            if not self._specs:
                self._specs = list(getattr(self.reactor, "commands", None) or [])
            return self._specs

    def log(self, kind: str, text: str, data: dict[str, Any] | None = None) -> None:
        """Append one entry to the widget's ``events`` trait (scalars of ``data`` only)."""
        entry: dict[str, Any] = {"time": time.time(), "kind": kind, "text": text}
        if data:
            entry["data"] = {
                k: v for k, v in data.items() if isinstance(v, (str, int, float, bool, type(None)))
            }
        with self.lock:
            self.widget.events = [*self.widget.events[-(LOG_SIZE - 1) :], entry]

    def merged_stats(self, pump: dict[str, Any]) -> dict[str, Any]:
        """The pump's stats plus the session's connection stats, under the names the overlay shows."""
        sdk = dict(self._sdk_stats)
        if not sdk:
            try:
                got = self.reactor.get_stats()
                sdk = dict(got) if isinstance(got, dict) else {}
            except Exception:
                sdk = {}
        out = dict(pump)
        out["fps_received"] = _first(sdk, "fps", "frames_per_second", "framesPerSecond", "fps_received")
        out["rtt_ms"] = _first(sdk, "rtt_ms", "rtt")
        jitter = _first(sdk, "jitter")  # seconds, as in the JS SDK's stats
        out["jitter_ms"] = round(jitter * 1000.0, 1) if isinstance(jitter, (int, float)) else None
        out["packet_loss_ratio"] = _first(sdk, "packet_loss_ratio")
        out["frame_age_ms"] = _first(sdk, "frame_age_ms")
        out["latency_ms"] = pump.get("ack_ms_p50")
        out["frames_evicted"] = getattr(self.reactor.frames, "evicted", None)
        out["views_direct"] = self.paths.counts()["direct"]
        out["kernel_time"] = round(time.time(), 1)  # a heartbeat: a direct view leaves when the kernel is gone
        return out

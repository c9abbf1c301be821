"""ReactorWidget: a live notebook view of a Reactor session with forms, status, stats and webcam.

The Python half only holds synced traits, runs the display pump (its own thread) and
answers the front end's requests; the bundled ESM (``static/widget.js``, built from
``js/src``) renders everything. Custom messages between the halves (all JSON plus binary
buffers, never base64):

browser → kernel
  ``{"type":"ready","view"}``                      a view rendered (resend the current frame)
  ``{"type":"visibility","view","visible"}``       a view scrolled/tabbed in or out of sight
  ``{"type":"view_closed","view"}``                a view was removed (no visible view left: pump pauses)
  ``{"type":"view_path","view","path"}``           the view shows ``direct`` WebRTC frames (no JPEG needed) or ``jpeg``
  ``{"type":"ack","id","n"}``                      frame ``id`` and older ones handled (``n`` frames, coalesced)
  ``{"type":"command","id","name","args"}``        form submission → ``command_result``
      (+ ``"uploads": {field: {"buffer","name","mime_type"}}`` with file buffers: uploaded through the SDK)
  ``{"type":"retry"}``                             reconnect after a recoverable error → ``retry_result``
  ``{"type":"webcam_start","track"}`` / ``webcam_stop``      publish / unpublish the input → ``webcam_state``
  ``{"type":"webcam_frame","id"}`` + JPEG buffer   one webcam frame → ``webcam_ack``
kernel → browser
  ``{"type":"frame","id","seq","index","width","height","mime","sent_at",...}`` + image buffer
  ``{"type":"command_result","id","ok","error":{command,field,reason,message}|null}``
  ``{"type":"retry_result","ok","message"}``, ``{"type":"webcam_state","active","error"}``, ``{"type":"webcam_ack","id"}``

No API key or token ever enters a trait or a message.
"""

from __future__ import annotations

import logging
import pathlib
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import anywidget
import ipywidgets
import traitlets as t

from ..magic.replies import REPLY_WAIT_S
from ..schema import CommandSpec, CommandValidationError, validate_command
from .direct import ViewPaths, direct_url, pump_paused
from .encode import decode_image
from .forms import form_spec, handle_command, model_error
from .pump import FramePump, PumpConfig
from .session_view import not_running, served_name, shared_count
from .subshell import pin_to_main_shell, release_subshell, route_to_subshell
from .uploads import resolve_uploads

log = logging.getLogger(__name__)

STATIC = pathlib.Path(__file__).parent / "static"
FITS = ("contain", "cover", "fill", "none", "scale-down")
_LOG_SIZE = 40


def _status_str(status: Any) -> str:
    value = getattr(status, "value", status)
    return str(value).lower() if value is not None else "disconnected"


def _error_dict(err: Any) -> dict[str, Any] | None:
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
    return {k: d.get(k) for k in ("code", "message", "recoverable", "component", "retry_after", "timestamp")}


def _first(d: dict[str, Any], *keys: str) -> Any:
    for k in keys:
        if d.get(k) is not None:
            return d[k]
    return None


class ReactorWidget(anywidget.AnyWidget):
    """Live view, command forms, status/errors, stats overlay, Helios timeline and webcam for a Reactor."""

    _esm = STATIC / "widget.js"
    _css = STATIC / "widget.css"

    # connection
    status = t.Unicode("disconnected").tag(sync=True)
    session_id = t.Unicode(None, allow_none=True).tag(sync=True)
    model_name = t.Unicode("").tag(sync=True)
    last_error = t.Dict(default_value=None, allow_none=True).tag(sync=True)
    shared_clients = t.Int(0).tag(sync=True)  # other clients attached to this local session at connect
    # model
    commands = t.List(t.Dict()).tag(sync=True)
    capabilities = t.Dict({}).tag(sync=True)
    model_state = t.Dict(default_value=None, allow_none=True).tag(sync=True)
    model_error = t.Dict(default_value=None, allow_none=True).tag(sync=True)
    events = t.List(t.Dict()).tag(sync=True)
    stats = t.Dict({}).tag(sync=True)
    # view settings
    track = t.Unicode("main_video").tag(sync=True)
    fit = t.Enum(FITS, "contain").tag(sync=True)
    width = t.Int(0, min=0).tag(sync=True)  # 0: natural size (up to the cell width)
    height = t.Int(0, min=0).tag(sync=True)
    show_stats = t.Bool(False).tag(sync=True)
    show_forms = t.Bool(True).tag(sync=True)
    # the frame-index code (top-left blocks) is covered in the view unless True; frames keep it
    show_index_code = t.Bool(False).tag(sync=True)
    # webcam
    input_tracks = t.List(t.Unicode()).tag(sync=True)
    webcam_active = t.Bool(False).tag(sync=True)
    webcam_fps = t.Float(15.0, min=1.0, max=60.0).tag(sync=True)
    # getUserMedia video constraints (the picked camera's deviceId is added by the view)
    webcam_constraints = t.Dict({"width": {"ideal": 1280}, "height": {"ideal": 720}}).tag(sync=True)
    # kernel
    kernel_subshells = t.Bool(False).tag(sync=True)
    # direct view (widget/direct.py): the page joins a keyless local runtime itself; False forces JPEG
    direct = t.Bool(True).tag(sync=True)
    direct_url = t.Unicode(None, allow_none=True).tag(sync=True)

    def __init__(
        self,
        reactor: Any,
        *,
        window: int = 4,
        ack_timeout: float = 1.0,
        adaptive: bool = True,
        max_fps: float | None = None,
        track: str = "main_video",
        fit: str = "contain",
        width: int = 0,
        height: int = 0,
        show_stats: bool = False,
        show_forms: bool = True,
        show_index_code: bool = False,
        webcam_fps: float = 15.0,
        owns_reactor: bool = False,
        subshell: bool = True,
        direct: bool = True,
        layout: Any = None,
    ) -> None:
        if reactor is None or not hasattr(reactor, "frames"):
            raise TypeError(
                f"ReactorWidget needs a reactor_notebook.sdk.Reactor (with .frames), got {type(reactor).__name__}"
            )
        kw: dict[str, Any] = {}
        if layout is not None:
            kw["layout"] = layout
        super().__init__(
            track=track,
            fit=fit,
            width=width,
            height=height,
            show_stats=show_stats,
            show_forms=show_forms,
            show_index_code=show_index_code,
            webcam_fps=webcam_fps,
            direct=direct,
            **kw,
        )
        self.reactor = reactor
        self._owns_reactor = owns_reactor
        self.runtime: Any = None  # the LocalRuntime started by ReactorWidget.local(), if any
        self._closed = False
        self._lock = threading.RLock()
        self._specs: list[CommandSpec] = []
        self._sdk_stats: dict[str, Any] = {}
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reactor-widget-cmd")
        self._webcam_track: Any = None
        self._webcam_name: str | None = None
        self.pump = FramePump(
            reactor.frames,
            self._send_frame,
            PumpConfig(
                window=window,
                ack_timeout=ack_timeout,
                adaptive=adaptive,
                max_fps=max_fps,
                track=track or None,
            ),
            on_stats=self._on_pump_stats,
        )
        self._handlers: list[tuple[str, Any]] = []
        self._views: dict[str, bool] = {}  # view id -> visible, as reported by the front end
        self._paths = ViewPaths()  # view id -> "direct" | "jpeg"
        self.on_msg(self._on_custom)
        self.observe(self._on_track_change, names=["track"])
        self.observe(lambda _: self._refresh_direct(), names=["direct"])
        self._subscribe()
        self._refresh_all()
        self._subshell_id = route_to_subshell(self.comm) if subshell else None
        if not subshell:
            pin_to_main_shell(self.comm)
        self.kernel_subshells = self._subshell_id is not None
        if not self.kernel_subshells and self.pump.config.stall_after is not None:
            # acks may wait for a long cell on the main shell: that is not a vanished view
            self.pump.config.stall_after = max(self.pump.config.stall_after, 60.0)
        self.pump.start()

    # --- construction helpers ---------------------------------------------------------------------
    @classmethod
    def local(
        cls,
        model: str = "helios",
        *,
        url: str | None = None,
        port: int | None = None,
        host: str | None = None,
        connect: bool = True,
        display: bool | None = None,
        exclusive: bool = False,
        model_options: dict[str, Any] | None = None,
        **widget_kwargs: Any,
    ) -> ReactorWidget:
        """Find or start the local runtime, connect, display the widget (in a kernel) and return it.

        The runtime URL is ``url``, else ``http://host:port`` when either is given, else
        ``$REACTOR_LOCAL_URL``, else http://localhost:8080; the embedded runtime serving
        ``model`` is started there if the host is this machine and nothing listens (then
        ``w.runtime`` is its handle). ``display`` (default: inside a Jupyter kernel) shows the
        widget at once, so ``w = ReactorWidget.local()`` followed by ``w.send(...)`` in the same
        cell shows it; pass ``display=False`` to place it yourself. ``exclusive=True`` refuses a
        session another client uses. Connection errors (e.g. a runtime serving another model:
        :class:`~reactor_notebook.sdk.ModelMismatchError`) are raised here.
        """
        from ..sdk import Reactor
        from .local import ensure_runtime, in_kernel, local_url

        where = local_url(url, host, port)
        rt = ensure_runtime(where, model, model_options)
        reactor = Reactor(model_name=model, local=True, local_url=where, exclusive=exclusive)
        widget = cls(reactor, owns_reactor=True, **widget_kwargs)
        widget.runtime = rt  # None when another runtime already listened there
        if connect:
            try:
                reactor.connect_sync()
            except BaseException:
                widget.close()
                raise
            widget._refresh_all()
        if display if display is not None else in_kernel():
            from IPython.display import display as show

            show(widget)
        return widget

    # --- Python API -----------------------------------------------------------------------------
    @property
    def frames(self) -> Any:
        """The session's FrameBuffer (the same frames the view shows)."""
        return self.reactor.frames

    def send(self, content: Any, /, *args: Any, **kwargs: Any) -> None:
        """``w.send("set_prompt", prompt="...")`` sends a validated command to the model.

        Raises :class:`~reactor_notebook.schema.CommandValidationError` (naming command,
        field and reason) for bad arguments, and the SDK's error when not connected. A dict
        ``content`` keeps the ipywidgets meaning: a custom message to the front end.
        """
        if not isinstance(content, str):
            ipywidgets.DOMWidget.send(self, content, *args, **kwargs)
            return
        if len(args) > 1 or (args and not isinstance(args[0], dict)):
            raise TypeError(f"send({content!r}, ...): pass arguments as keywords or one dict, got {args!r}")
        data = {**(args[0] if args else {}), **kwargs}
        specs = self._command_specs()
        if specs:
            data = validate_command(specs, content, data)
        self.reactor.send_command_sync(content, data)

    def get_stats(self) -> dict[str, Any]:
        """Pump stats merged with the SDK's connection stats."""
        return self._merged_stats(self.pump.get_stats())

    def close(self, disconnect: bool | None = None) -> None:
        """Stop the pump and webcam, detach from the reactor; disconnect it if ``disconnect`` (default: if owned)."""
        if getattr(self, "_closed", False):
            return
        pump = getattr(self, "pump", None)
        if pump is not None:
            pump.stop()  # first, so a frame send in flight never meets a closed widget (no error log)
        self._closed = True
        if pump is None:  # construction failed half-way
            super().close()
            return
        self._stop_webcam(reply=False)
        for event, handler in self._handlers:
            try:
                self.reactor.off(event, handler)
            except Exception:
                log.debug("reactor.off(%s) failed", event, exc_info=True)
        self._handlers.clear()
        if disconnect if disconnect is not None else self._owns_reactor:
            try:
                self.reactor.disconnect_sync()
            except Exception:
                log.debug("disconnect on close failed", exc_info=True)
        self._executor.shutdown(wait=False, cancel_futures=True)
        release_subshell(self.comm, self._subshell_id)
        self._subshell_id = None
        super().close()

    def __repr__(self) -> str:
        st = self.stats or {}
        fps = st.get("fps_shown")
        src = st.get("fps_received")
        parts = [
            f"model={self.model_name or '?'!r}",
            f"status={self.status!r}",
            f"session={self.session_id!r}",
        ]
        if fps is not None:
            parts.append(f"fps_shown={fps}" + (f"/{src}" if src is not None else ""))
        if self.last_error:
            parts.append(f"error={self.last_error.get('code')!r}")
        if self._closed:
            parts.append("closed")
        return f"ReactorWidget({', '.join(parts)})"

    # --- reactor events (SDK loop thread) ------------------------------------------------------
    def _subscribe(self) -> None:
        for event, handler in (
            ("status_changed", self._on_status),
            ("session_id_changed", self._on_session_id),
            ("message", self._on_message),
            ("error", self._on_error),
            ("capabilities_received", self._on_capabilities),
            ("stats_update", self._on_sdk_stats),
            ("command_rejected", self._on_rejection),
        ):
            try:
                self.reactor.on(event, handler)
            except Exception as exc:
                log.debug("reactor.on(%s) unavailable: %s", event, exc)
                continue
            self._handlers.append((event, handler))

    def _refresh_all(self) -> None:
        """Pull everything from the reactor once (start, after connect)."""
        r = self.reactor
        self.model_name = served_name(r)
        self.status = _status_str(r.get_status())
        self.session_id = r.get_session_id()
        self.last_error = _error_dict(r.get_last_error())
        self.shared_clients = shared_count(r)
        self._refresh_direct()
        self._set_capabilities(r.get_capabilities())
        state = getattr(r, "model_state", None)
        if isinstance(state, dict):
            self.model_state = dict(state) if self.status == "ready" else not_running(state)

    def _on_status(self, status: Any, *_: Any) -> None:
        self.status = _status_str(status)
        if self.status == "ready":
            self.last_error = None
            self.session_id = self.reactor.get_session_id()
            self.model_name = served_name(self.reactor)
            self.shared_clients = shared_count(self.reactor)
            self._refresh_direct()
            if not self.commands:
                self._set_capabilities(self.reactor.get_capabilities())
        else:
            self.model_state = not_running(self.model_state)  # a stale "running" would enable pause
        if self.status in ("connecting", "disconnected"):
            self.last_error = _error_dict(self.reactor.get_last_error())  # None after a user disconnect
        self._log("status", self.status)

    def _refresh_direct(self) -> None:
        self.direct_url = direct_url(self.reactor) if self.direct else None

    def _on_session_id(self, sid: Any, *_: Any) -> None:
        self.session_id = sid if isinstance(sid, str) else None

    def _on_error(self, err: Any, *_: Any) -> None:
        self.last_error = _error_dict(err)
        if self.last_error:
            self._log("error", f"{self.last_error.get('code')}: {self.last_error.get('message')}")

    def _on_capabilities(self, caps: Any, *_: Any) -> None:
        self._set_capabilities(caps)

    def _on_sdk_stats(self, stats: Any, *_: Any) -> None:
        if isinstance(stats, dict):
            self._sdk_stats = dict(stats)
        elif hasattr(stats, "__dict__"):
            self._sdk_stats = dict(vars(stats))

    def _on_rejection(self, rejection: Any, *_: Any) -> None:
        """The model refused a command (any wire, any sender in this kernel): shown next to its form."""
        err = {"command": rejection.command, "field": rejection.field, "reason": rejection.code,
               "message": rejection.message}
        if self.model_error is None or {k: self.model_error.get(k) for k in err} != err:
            self.model_error = {**err, "time": time.time()}
            self._log("model_error", rejection.message)

    def _on_message(self, message: Any, *_: Any) -> None:
        if not isinstance(message, dict):
            return
        mtype = message.get("type")
        data = message.get("data")
        if mtype == "state" and isinstance(data, dict):
            self.model_state = dict(data)
            return
        err = model_error(message)
        if err is not None:
            if not hasattr(self.reactor, "last_rejection"):  # else command_rejected reported it already
                self.model_error = {**err, "time": time.time()}
                self._log("model_error", err["message"])
            return
        if mtype == "event" and isinstance(data, dict):
            name = str(data.get("event", "event"))
            detail = {k: v for k, v in data.items() if k != "event"}
            self._log("event", name, detail)
        elif isinstance(mtype, str):
            self._log("message", mtype, data if isinstance(data, dict) else None)

    def _set_capabilities(self, caps: Any) -> None:
        specs = list(getattr(self.reactor, "commands", None) or [])
        with self._lock:
            self._specs = specs
        self.commands = form_spec(specs)
        if isinstance(caps, dict):
            tracks = [dict(tr) for tr in caps.get("tracks") or [] if isinstance(tr, dict)]
            self.capabilities = {
                "protocol_version": caps.get("protocol_version"),
                "tracks": tracks,
                "emission_fps": caps.get("emission_fps"),
            }
            self.input_tracks = [
                str(tr["name"])
                for tr in tracks
                if tr.get("direction") == "sendonly" and tr.get("kind", "video") == "video"
            ]

    def _command_specs(self) -> list[CommandSpec]:
        with self._lock:
            if not self._specs:
                self._specs = list(getattr(self.reactor, "commands", None) or [])
            return self._specs

    def _log(self, kind: str, text: str, data: dict[str, Any] | None = None) -> None:
        entry: dict[str, Any] = {"time": time.time(), "kind": kind, "text": text}
        if data:
            entry["data"] = {
                k: v for k, v in data.items() if isinstance(v, (str, int, float, bool, type(None)))
            }
        with self._lock:  # called from the SDK loop, the command worker and the shell
            self.events = [*self.events[-(_LOG_SIZE - 1) :], entry]

    # --- stats ------------------------------------------------------------------------------------
    def _merged_stats(self, pump: dict[str, Any]) -> dict[str, Any]:
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
        out["views_direct"] = self._paths.counts()["direct"]
        out["kernel_time"] = round(time.time(), 1)  # a heartbeat: a direct view leaves when the kernel is gone
        return out

    def _on_pump_stats(self, pump_stats: dict[str, Any]) -> None:
        if not self._closed:
            self.stats = self._merged_stats(pump_stats)

    # --- front-end messages (any thread: main shell or the widget's subshell) ----------------------
    def _send_frame(self, content: dict[str, Any], buffers: list[bytes]) -> None:
        if self._closed or self.comm is None:
            raise RuntimeError("widget is closed")
        ipywidgets.DOMWidget.send(self, content, buffers)

    def _reply(self, content: dict[str, Any], buffers: list[bytes] | None = None) -> None:
        if not self._closed and self.comm is not None:
            ipywidgets.DOMWidget.send(self, content, buffers)

    def _on_custom(self, _widget: Any, content: Any, buffers: list[Any]) -> None:
        if not isinstance(content, dict):
            return
        kind = content.get("type")
        if kind == "ack":
            self.pump.on_ack(content.get("id"), content.get("n", 1))
        elif kind == "ready":
            self._set_view(content.get("view"), True)
            self.pump.on_view_ready()
        elif kind == "visibility":
            self._set_view(content.get("view"), bool(content.get("visible")))
        elif kind == "view_closed":
            self._set_view(content.get("view"), None)
        elif kind == "view_path" and self._paths.report(view := content.get("view"), content.get("path")):
            self._set_view(view, self._views.get(str(view), True))
        elif kind == "command":
            self._executor.submit(self._run_command, content, list(buffers or []))
        elif kind == "retry":
            self._executor.submit(self._run_retry)
        elif kind == "webcam_frame":
            self._on_webcam_frame(content, buffers)
        elif kind == "webcam_start":
            self._executor.submit(self._start_webcam, content.get("track"))
        elif kind == "webcam_stop":
            self._executor.submit(self._stop_webcam)
        else:
            log.debug("ignoring unknown widget message type %r", kind)

    def _set_view(self, view: Any, visible: bool | None) -> None:
        """Track each view's visibility (None: closed); pause the pump while none can be seen."""
        if not isinstance(view, str):
            return
        with self._lock:
            if visible is None:
                self._views.pop(view, None)
                self._paths.forget(view)
            else:
                self._views[view] = visible
            paused = pump_paused(self._views, self._paths)
        self.pump.set_paused(paused)

    def _send_for_form(self, name: str, data: dict[str, Any]) -> Any:
        """Send a form's command and wait briefly for the model's answer (fire-and-forget if unsupported)."""
        from ..sdk.errors import CommandTimeoutError
        from ..sdk.large import fit_message

        spec = next((c for c in self._command_specs() if c.name == name), None)
        data = fit_message(self.reactor, spec, name, data)  # too big for one message: upload + FileRef
        wait = getattr(self.reactor, "send_command_and_wait_sync", None)
        if wait is None:
            return self.reactor.send_command_sync(name, data)

        try:
            return wait(name, data, timeout=REPLY_WAIT_S)
        except CommandTimeoutError:
            return None  # a declared reply is late: it shows in the timeline when it comes

    def _run_command(self, msg: dict[str, Any], buffers: list[Any] | None = None) -> None:
        if self.model_error is not None and self.model_error.get("command") == msg.get("name"):
            self.model_error = None  # cleared before sending: the model may reject the new one at once
        if msg.get("uploads"):
            try:  # upload fields: the files go through the SDK's upload path, the FileRefs become args
                msg = {
                    **msg,
                    "args": resolve_uploads(self._command_specs(), msg, buffers or [], self._upload),
                }
            except CommandValidationError as exc:
                self._reply(
                    {
                        "type": "command_result",
                        "id": msg.get("id"),
                        "name": msg.get("name"),
                        "ok": False,
                        "error": exc.to_dict(),
                    }
                )
                return
        reply = handle_command(self._command_specs(), msg, self._send_for_form)
        if reply["ok"]:
            self._log(
                "command",
                str(msg.get("name")),
                msg.get("args") if isinstance(msg.get("args"), dict) else None,
            )
        self._reply(reply)

    def _upload(self, data: bytes, *, name: str, mime_type: str | None) -> Any:
        return self._run_sdk_kw("upload_file", data, name=name, mime_type=mime_type)

    def _run_retry(self) -> None:
        try:
            if self.reactor.get_session_id():
                self.reactor.reconnect_sync()
            if _status_str(self.reactor.get_status()) == "disconnected":
                self.reactor.connect_sync()  # no session to resume (or it expired): start a new one
            ok = _status_str(self.reactor.get_status()) == "ready"
            self._refresh_all()
            self._reply({"type": "retry_result", "ok": ok, "message": None if ok else "still not ready"})
        except Exception as exc:
            self._reply({"type": "retry_result", "ok": False, "message": f"{type(exc).__name__}: {exc}"})

    def _on_track_change(self, change: dict[str, Any]) -> None:
        self.pump.set_track(change["new"])

    # --- webcam ----------------------------------------------------------------------------------
    def _start_webcam(self, name: Any) -> None:
        from .webcam import BrowserVideoTrack

        name = (
            name if isinstance(name, str) and name else (self.input_tracks[0] if self.input_tracks else None)
        )
        if name is None or name not in self.input_tracks:
            self._reply(
                {
                    "type": "webcam_state",
                    "active": False,
                    "error": f"the model declares no input video track {name!r}",
                }
            )
            return
        if self._webcam_track is not None:
            self._reply({"type": "webcam_state", "active": True, "error": None, "track": self._webcam_name})
            return
        track = BrowserVideoTrack(fps=float(self.webcam_fps))
        try:
            self._run_sdk("publish_track", name, track)
        except Exception as exc:
            track.stop()
            self._reply(
                {"type": "webcam_state", "active": False, "error": f"publish_track({name!r}) failed: {exc}"}
            )
            return
        self._webcam_track, self._webcam_name = track, name
        self.webcam_active = True
        self._reply({"type": "webcam_state", "active": True, "error": None, "track": name})

    def _stop_webcam(self, reply: bool = True) -> None:
        track, name = self._webcam_track, self._webcam_name
        self._webcam_track = self._webcam_name = None
        if track is not None:
            try:
                self._run_sdk("unpublish_track", name)
            except Exception as exc:
                log.debug("unpublish_track failed: %s", exc)
            track.stop()
        if not self._closed:
            self.webcam_active = False
        if reply:
            self._reply({"type": "webcam_state", "active": False, "error": None})

    def _run_sdk(self, method: str, *args: Any) -> Any:
        """Call SDK ``method`` from a non-loop thread: its ``_sync`` twin, or the coroutine on the SDK loop."""
        return self._run_sdk_kw(method, *args)

    def _run_sdk_kw(self, method: str, *args: Any, **kwargs: Any) -> Any:
        sync = getattr(self.reactor, f"{method}_sync", None)
        if callable(sync):
            return sync(*args, **kwargs)
        result = getattr(self.reactor, method)(*args, **kwargs)
        if hasattr(result, "__await__"):
            runner = getattr(self.reactor, "run_sync", None) or getattr(self.reactor, "_run_sync", None)
            if runner is None:
                raise RuntimeError(f"cannot run {method} from this thread")
            return runner(result)
        return result

    def _on_webcam_frame(self, content: dict[str, Any], buffers: list[Any]) -> None:
        fid = content.get("id")
        error = None
        track = self._webcam_track
        if track is not None and buffers:
            try:
                track.push(decode_image(bytes(buffers[0])))
            except ValueError as exc:
                error = str(exc)
        self._reply({"type": "webcam_ack", "id": fid, "error": error})

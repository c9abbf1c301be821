"""ReactorWidget: a live notebook view of a Reactor session with forms, status, stats and webcam.

The Python half holds the synced traits and wires four parts together; the bundled ESM
(``static/widget.js``, built from ``js/src``) renders everything:

* ``bridge.py``    session → traits (status, errors, commands, model state, event log, stats);
* ``dispatch.py``  front-end messages → pump and SDK calls (acks, views, commands, uploads, retry);
* ``pump.py``      the display pump (its own thread) with ``flow.py``'s ack window and quality ladder;
* ``webcam.py``    the browser's webcam published as the model's input track.

The messages between the halves are typed in ``messages.py``. No API key or token ever enters
a trait or a message.
"""

from __future__ import annotations

import logging
import pathlib
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import anywidget
import traitlets as t

from ..frames import FrameBuffer
from ..profiles import profile_for
from ..schema import validate_command
from .bridge import SessionBridge
from .direct import ViewPaths
from .dispatch import MessageDispatcher
from .messages import FrameMsg
from .pump import FramePump, PumpConfig
from .subshell import pin_to_main_shell, release_subshell, route_to_subshell
from .webcam import WebcamInput

if TYPE_CHECKING:
    from ..runtime import LocalRuntime
    from ..sdk import Reactor
    from ..sources import PushedFrameTrack

log = logging.getLogger(__name__)

STATIC = pathlib.Path(__file__).parent / "static"
FITS = ("contain", "cover", "fill", "none", "scale-down")


class ReactorWidget(anywidget.AnyWidget):
    """Live view, command forms, status/errors, stats overlay, Helios timeline and webcam for a Reactor."""

    _esm = STATIC / "widget.js"
    _css = STATIC / "widget.css"

    # connection
    status = t.Unicode("disconnected").tag(sync=True)
    session_id = t.Unicode(None, allow_none=True).tag(sync=True)
    model_name = t.Unicode("").tag(sync=True)
    # what the front end knows about the model beyond its schema: ClientProfile.front_end() of
    # profiles.profile_for(model_name) (transport verbs, timeline labels; no timeline: generic)
    profile = t.Dict({}).tag(sync=True)
    last_error = t.Instance(dict, allow_none=True).tag(sync=True)  # a dict or None
    shared_clients = t.Int(0).tag(sync=True)  # other clients attached to this local session at connect
    # model
    commands = t.List(t.Dict()).tag(sync=True)
    capabilities = t.Dict({}).tag(sync=True)
    model_state = t.Instance(dict, allow_none=True).tag(sync=True)  # a dict or None
    model_error = t.Instance(dict, allow_none=True).tag(sync=True)  # a dict or None
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

    @t.observe("model_name")
    def _on_model_name(self, change: Mapping[str, Any]) -> None:
        self.profile = dict(profile_for(change["new"]).front_end())

    def __init__(
        self,
        reactor: Reactor,
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
        view = dict(track=track, fit=fit, width=width, height=height, show_stats=show_stats,
                    show_forms=show_forms, show_index_code=show_index_code, webcam_fps=webcam_fps, direct=direct)
        super().__init__(**view, **({"layout": layout} if layout is not None else {}))
        self.reactor = reactor
        self._owns_reactor = owns_reactor
        self.runtime: LocalRuntime | None = None  # the runtime started by ReactorWidget.local(), if any
        self._closed = False
        config = PumpConfig(
            window=window, ack_timeout=ack_timeout, adaptive=adaptive, max_fps=max_fps, track=track or None
        )
        self.pump = FramePump(reactor.frames, self._send_frame, config, on_stats=self._on_pump_stats)
        paths = ViewPaths()  # view id -> "direct" | "jpeg"
        self._bridge = SessionBridge(self, reactor, paths)
        self._webcam = WebcamInput(reactor, self._reply, self._on_webcam_active)
        self._dispatch = MessageDispatcher(self, self._bridge, self.pump, self._webcam, self._reply, paths)
        self.on_msg(self._on_custom)
        self.observe(self._on_track_change, names=["track"])
        self.observe(lambda _: self._bridge.refresh_direct(), names=["direct"])
        self._bridge.subscribe()
        self._bridge.refresh_all()
        self._start_pump(subshell)

    def _start_pump(self, subshell: bool) -> None:
        """Route the comm to its own subshell (if the kernel has them) and start the pump thread."""
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
        widget at once, so ``w = ReactorWidget.local()`` followed by ``w.send_command(...)`` in the same
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
    def frames(self) -> FrameBuffer:
        """The session's FrameBuffer (the same frames the view shows)."""
        return self.reactor.frames

    def send_command(self, command: str, args: dict[str, Any] | None = None, /, **kwargs: Any) -> None:
        """``w.send_command("set_prompt", prompt="...")`` sends a validated command to the model.

        Arguments come as keywords or one dict. Raises
        :class:`~reactor_notebook.schema.CommandValidationError` (naming command, field and
        reason) for bad arguments, and the SDK's error when not connected.
        """
        if not isinstance(command, str):
            raise TypeError(f"send_command needs a command name, got {type(command).__name__}")
        if args is not None and not isinstance(args, dict):
            raise TypeError(f"send_command({command!r}, ...): pass arguments as keywords or one dict, got {args!r}")
        data = {**(args or {}), **kwargs}
        specs = self._bridge.command_specs()
        if specs:
            data = validate_command(specs, command, data)
        self.reactor.send_command_sync(command, data)

    def send(self, content: Any, *args: Any, **kwargs: Any) -> None:
        """Deprecated alias of :meth:`send_command` for a command name (removed in the next release).

        ``w.send("set_prompt", prompt="...")`` still sends the command and emits a
        DeprecationWarning; a dict ``content`` keeps the ipywidgets meaning (a custom message
        to the front end, with optional ``buffers``).
        """
        if not isinstance(content, str):
            super().send(content, *args, **kwargs)
            return
        warnings.warn(
            "ReactorWidget.send(command, ...) is deprecated; use ReactorWidget.send_command(command, ...)",
            DeprecationWarning,
            stacklevel=2,
        )
        if len(args) > 1:
            raise TypeError(f"send({content!r}, ...): pass arguments as keywords or one dict, got {args!r}")
        self.send_command(content, *args, **kwargs)

    def get_stats(self) -> dict[str, Any]:
        """Pump stats merged with the SDK's connection stats."""
        return self._bridge.merged_stats(self.pump.get_stats())

    def close(self, disconnect: bool | None = None) -> None:
        """Stop the pump and webcam, detach from the reactor; disconnect it if ``disconnect`` (default: if owned)."""
        if getattr(self, "_closed", False):
            return
        pump = getattr(self, "pump", None)
        if pump is not None:
            pump.stop()  # first, so a frame send in flight never meets a closed widget (no error log)
        self._closed = True
        if pump is None or not hasattr(self, "_dispatch"):  # construction failed half-way
            super().close()
            return
        self._webcam.stop(reply=False)
        self._bridge.unsubscribe()
        if disconnect if disconnect is not None else self._owns_reactor:
            try:
                self.reactor.disconnect_sync()
            except Exception:
                log.debug("disconnect on close failed", exc_info=True)
        self._dispatch.close()
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

    # --- wiring between the parts ----------------------------------------------------------------
    @property
    def _webcam_track(self) -> PushedFrameTrack | None:
        """The published webcam track, if any (tests read its ``received`` count and last frame)."""
        return self._webcam.track

    def _refresh_all(self) -> None:
        self._bridge.refresh_all()

    def _on_pump_stats(self, pump_stats: dict[str, Any]) -> None:
        if not self._closed:
            self.stats = self._bridge.merged_stats(pump_stats)

    def _on_webcam_active(self, active: bool) -> None:
        if not self._closed:
            self.webcam_active = active

    def _on_track_change(self, change: dict[str, Any]) -> None:
        self.pump.set_track(change["new"])

    def _on_custom(self, _widget: Any, content: Any, buffers: list[Any]) -> None:
        """A custom message from the front end (main shell or the widget's subshell)."""
        self._dispatch.handle(content, buffers)

    def _send_frame(self, content: FrameMsg, buffers: list[bytes]) -> None:
        if self._closed or self.comm is None:
            raise RuntimeError("widget is closed")
        self.send(content, buffers)

    def _reply(self, content: Mapping[str, Any], buffers: list[bytes] | None = None) -> None:
        if not self._closed and self.comm is not None:
            self.send(content, buffers)

"""Front-end messages → pump and SDK calls: acks and views, form commands (with uploads), retry, webcam.

:class:`MessageDispatcher` receives every custom message of ``messages.py`` from the browser (on
the main shell or the widget's subshell). Acks and view visibility go to the pump at once; work
that talks to the session (commands, uploads, reconnects, publishing the webcam) runs on one
worker thread, in order, so a slow model never blocks the shell. Each request is answered.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from ..magic.replies import REPLY_WAIT_S
from ..schema import CommandValidationError
from .bridge import SessionBridge, status_str
from .direct import ViewPaths, pump_paused
from .forms import handle_command
from .messages import CommandResult, RetryResult
from .pump import FramePump
from .uploads import resolve_uploads
from .webcam import WebcamInput

if TYPE_CHECKING:
    from ..sdk import Reactor
    from .widget import ReactorWidget

log = logging.getLogger(__name__)

Reply = Callable[[Mapping[str, Any]], None]  # sends one message to the front end


class MessageDispatcher:
    """Routes the browser's messages for one widget; ``reply`` sends an answer back to the browser."""

    def __init__(
        self,
        widget: ReactorWidget,
        bridge: SessionBridge,
        pump: FramePump,
        webcam: WebcamInput,
        reply: Reply,
        paths: ViewPaths,
    ) -> None:
        self.widget = widget
        self.reactor: Reactor = bridge.reactor
        self.bridge = bridge
        self.pump = pump
        self.webcam = webcam
        self._reply = reply
        self._views: dict[str, bool] = {}  # view id -> visible, as reported by the front end
        self.paths = paths  # view id -> "direct" | "jpeg": direct views need no JPEG frames
        self._views_lock = threading.Lock()
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reactor-widget-cmd")

    def handle(self, content: Any, buffers: list[Any]) -> None:
        """Route one message by its ``type`` (unknown or malformed messages are ignored)."""
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
        elif kind == "view_path" and self.paths.report(view := content.get("view"), content.get("path")):
            self._set_view(view, self._views.get(str(view), True))
        elif kind == "command":
            self.executor.submit(self.run_command, content, list(buffers or []))
        elif kind == "retry":
            self.executor.submit(self.run_retry)
        elif kind == "webcam_frame":
            self.webcam.frame(content.get("id"), buffers)
        elif kind == "webcam_start":
            w = self.widget
            self.executor.submit(self.webcam.start, content.get("track"), list(w.input_tracks), float(w.webcam_fps))
        elif kind == "webcam_stop":
            self.executor.submit(self.webcam.stop)
        else:
            log.debug("ignoring unknown widget message type %r", kind)

    def close(self) -> None:
        """Drop queued work (the widget closes)."""
        self.executor.shutdown(wait=False, cancel_futures=True)

    def _set_view(self, view: Any, visible: bool | None) -> None:
        """Track each view's visibility (None: closed); pause the pump while no visible view needs JPEG."""
        if not isinstance(view, str):
            return
        with self._views_lock:
            if visible is None:
                self._views.pop(view, None)
                self.paths.forget(view)
            else:
                self._views[view] = visible
            paused = pump_paused(self._views, self.paths)
        self.pump.set_paused(paused)

    # --- commands (worker thread) ---------------------------------------------------------------
    def send_for_form(self, name: str, data: dict[str, Any]) -> Any:
        """Send a form's command and wait briefly for the model's answer (fire-and-forget if unsupported)."""
        from ..sdk.errors import CommandTimeoutError
        from ..sdk.large import fit_message

        spec = next((c for c in self.bridge.command_specs() if c.name == name), None)
        data = fit_message(self.reactor, spec, name, data)  # too big for one message: upload + FileRef
        wait = getattr(self.reactor, "send_command_and_wait_sync", None)
        if wait is None:
            return self.reactor.send_command_sync(name, data)
        try:
            return wait(name, data, timeout=REPLY_WAIT_S)
        except CommandTimeoutError:
            return None  # a declared reply is late: it shows in the timeline when it comes

    def run_command(self, msg: dict[str, Any], buffers: list[Any] | None = None) -> None:
        """Upload the submission's files (if any), validate and send it, answer ``command_result``."""
        w = self.widget
        if w.model_error is not None and w.model_error.get("command") == msg.get("name"):
            w.model_error = None  # cleared before sending: the model may reject the new one at once
        if msg.get("uploads"):
            try:  # upload fields: the files go through the SDK's upload path, the FileRefs become args
                args = resolve_uploads(self.bridge.command_specs(), msg, buffers or [], self._upload)
            except CommandValidationError as exc:
                refused: CommandResult = {"type": "command_result", "id": msg.get("id"),
                                          "name": msg.get("name"), "ok": False, "error": exc.to_dict()}
                self._reply(refused)
                return
            msg = {**msg, "args": args}
        reply = handle_command(self.bridge.command_specs(), msg, self.send_for_form)
        if reply["ok"]:
            sent = msg.get("args")
            self.bridge.log("command", str(msg.get("name")), sent if isinstance(sent, dict) else None)
        self._reply(reply)

    def _upload(self, data: bytes, *, name: str, mime_type: str | None) -> Any:
        return self.reactor.upload_file_sync(data, name=name, mime_type=mime_type)

    def run_retry(self) -> None:
        """Reconnect (resume the session, else start a new one) and answer ``retry_result``."""
        r = self.reactor
        result: RetryResult
        try:
            if r.get_session_id():
                r.reconnect_sync()
            if status_str(r.get_status()) == "disconnected":
                r.connect_sync()  # no session to resume (or it expired): start a new one
            ok = status_str(r.get_status()) == "ready"
            self.bridge.refresh_all()
            result = {"type": "retry_result", "ok": ok, "message": None if ok else "still not ready"}
        except Exception as exc:
            result = {"type": "retry_result", "ok": False, "message": f"{type(exc).__name__}: {exc}"}
        self._reply(result)

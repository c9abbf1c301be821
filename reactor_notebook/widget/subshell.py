"""Route the widget's comm messages to a kernel subshell so acks flow while a cell runs.

ipykernel >= 7.1 runs a shell-channel thread that forwards each shell message to the
main shell or to a subshell thread, and (7.4+) asks a comm where its messages should go
(``_reply_subshell_for``). Giving the widget's comm its own subshell means frame acks,
form submissions and webcam frames are handled even while the main shell executes a
long cell. Without that support everything still works: acks wait for the cell, and the
pump's time-based fallback keeps frames flowing.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

log = logging.getLogger(__name__)


def _kernel() -> Any:
    try:
        from ipykernel.kernelbase import Kernel
    except ImportError:  # pragma: no cover - ipykernel is a dependency of ipywidgets
        return None
    return Kernel.instance() if Kernel.initialized() else None


def supports_subshells(comm: Any) -> bool:
    """True when the running kernel has subshells and can route this comm's messages to one."""
    kernel = _kernel()
    return (
        kernel is not None
        and getattr(kernel, "shell_channel_thread", None) is not None
        and comm is not None
        and hasattr(comm, "_reply_subshell_for")
    )


def _on_shell_thread(kernel: Any, fn: Any, timeout: float = 2.0) -> Any:
    """Run ``fn()`` on the kernel's shell-channel thread and wait for its result."""
    done = threading.Event()
    box: dict[str, Any] = {}

    def call() -> None:
        """Runs on the shell-channel thread; hands the result or the exception back to the waiter."""
        try:
            box["value"] = fn()
        except Exception as exc:
            box["error"] = exc
        finally:
            done.set()

    kernel.shell_channel_thread.io_loop.add_callback(call)
    if not done.wait(timeout):
        raise TimeoutError("the kernel's shell-channel thread did not answer")
    if "error" in box:
        raise box["error"]
    return box.get("value")


def pin_to_main_shell(comm: Any) -> None:
    """Handle this comm's messages on the main shell, whatever thread last sent on it.

    ipykernel 7.4 routes a comm's incoming messages to the subshell that last *sent* on
    it; the pump sends from its own thread, whose parent header can be any recent
    request, so without pinning the acks could land on an unrelated (or deleted) subshell.
    """
    if comm is not None and hasattr(comm, "_reply_subshell_for"):

        def reply_subshell_for(data: Any, default: Any) -> Any:
            """ipykernel's hook: ``default`` is the main shell, whichever thread sent last."""
            return default

        comm._reply_subshell_for = reply_subshell_for


def route_to_subshell(comm: Any) -> str | None:
    """Create a subshell and send every message of ``comm`` there; return its id or None."""
    if not supports_subshells(comm):
        pin_to_main_shell(comm)
        return None
    kernel = _kernel()
    try:
        sid = _on_shell_thread(kernel, kernel.shell_channel_thread.manager._create_subshell)
    except Exception as exc:
        log.info("no subshell for the widget (%s); acks will wait for running cells", exc)
        pin_to_main_shell(comm)
        return None

    def reply_subshell_for(data: Any, default: Any) -> Any:
        """ipykernel's hook: every message of this comm goes to the widget's subshell."""
        return sid

    comm._reply_subshell_for = reply_subshell_for
    return str(sid)


def release_subshell(comm: Any, sid: str | None) -> None:
    """Stop routing to the subshell and delete it (best effort)."""
    if sid is None:
        return
    if comm is not None and "_reply_subshell_for" in getattr(comm, "__dict__", {}):
        del comm.__dict__["_reply_subshell_for"]
    kernel = _kernel()
    if kernel is None or getattr(kernel, "shell_channel_thread", None) is None:
        return

    def delete() -> None:
        """Delete the subshell on the shell-channel thread; a failure is only logged."""
        try:
            kernel.shell_channel_thread.manager._delete_subshell(sid)
        except Exception as exc:
            log.debug("could not delete widget subshell %s: %s", sid, exc)

    # Fire and forget: this may run on that very subshell, which the deletion joins.
    kernel.shell_channel_thread.io_loop.add_callback(delete)

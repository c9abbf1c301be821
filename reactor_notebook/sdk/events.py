"""Events, decorators and frame callbacks of :class:`~reactor_notebook.sdk.Reactor` (a mixin).

Handlers run on the SDK loop thread (coroutine functions are scheduled there); a handler that
raises is logged and reported as a CALLBACK_ERROR ``error`` event, never breaking the stream.
Frame callbacks run on their own thread (:class:`.reader.CallbackDispatcher`, latest frame wins).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from aiortc.mediastreams import MediaStreamTrack

from .errors import CALLBACK_ERROR
from .loop import SdkLoop
from .reader import CallbackDispatcher
from .types import (
    REACTOR_EVENTS,
    EventHandler,
    FrameCallback,
    ReactorError,
    ReactorEvent,
    ReactorStatus,
)

logger = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])
CALLBACK_ERROR_INTERVAL_S = 1.0


class EventsMixin:
    """Handler registry, decorators and frame-callback plumbing shared by the Reactor client."""

    _sdk: SdkLoop
    _bg: set[asyncio.Future[Any]]
    _error: Callable[..., ReactorError]  # provided by the session core (records and reports an error)

    def _init_events(self) -> None:
        self._listeners: dict[str, list[EventHandler]] = {e: [] for e in REACTOR_EVENTS}
        self._frame_callback: FrameCallback | None = None
        self._extra_frame_callbacks: list[FrameCallback] = []
        self._callback_errors: dict[int, tuple[float, int]] = {}  # id(callback) -> (last report, suppressed)
        self._dispatcher = CallbackDispatcher(self._on_callback_error)

    def on(self, event: ReactorEvent, callback: EventHandler) -> None:
        """Register an event handler (runs on the SDK loop thread; coroutine functions are scheduled there)."""
        if event not in self._listeners:
            raise ValueError(f"unknown event {event!r}; events: {', '.join(REACTOR_EVENTS)}")
        if not callable(callback):
            raise TypeError(f"callback for {event!r} must be callable, got {type(callback).__name__}")
        handlers = self._listeners[event]
        if callback not in handlers:
            self._listeners[event] = [*handlers, callback]

    def off(self, event: ReactorEvent, callback: EventHandler) -> None:
        """Remove an event handler, also one registered by a decorator (no-op if it was not registered)."""
        if event not in self._listeners:
            raise ValueError(f"unknown event {event!r}; events: {', '.join(REACTOR_EVENTS)}")
        self._listeners[event] = [  # decorated filters (@on_status(X), @on_track) remove by their function
            h for h in self._listeners[event] if h != callback and getattr(h, "__wrapped__", None) is not callback
        ]

    def on_frame(self, func: F) -> F:
        """Decorator: receive each video frame as an (H, W, 3) RGB uint8 array (own thread, latest wins).

        The array is shared with ``reactor.frames`` and is read-only: ``frame.copy()`` to modify it.
        """
        if func not in self._extra_frame_callbacks:
            self._extra_frame_callbacks.append(func)
        self._sync_frame_callbacks()
        return func

    def on_message(self, func: F) -> F:
        """Decorator: application messages from the model (``{"type", "data"}``)."""
        self.on("message", func)
        return func

    def on_internal_message(self, func: F) -> F:
        """Decorator: runtime (platform) messages."""
        self.on("runtime_message", func)
        return func

    def on_status(self, func_or_filter: Any = None) -> Any:
        """Decorator: status changes, optionally only some: ``@on_status(ReactorStatus.READY)``."""
        if callable(func_or_filter) and not isinstance(func_or_filter, ReactorStatus):
            self.on("status_changed", func_or_filter)
            return func_or_filter
        if func_or_filter is None:
            allowed = None
        elif isinstance(func_or_filter, (list, tuple, set, frozenset)):
            allowed = {ReactorStatus(s) for s in func_or_filter}
        else:
            allowed = {ReactorStatus(func_or_filter)}

        def decorator(func: F) -> F:
            """Register ``func`` for the chosen statuses (all when no filter) and return it unchanged."""
            if allowed is None:
                self.on("status_changed", func)
                return func

            def filtered(status: ReactorStatus) -> Any:
                """Call the handler only for statuses in the filter."""
                if status in allowed:
                    return func(status)
                return None

            filtered.__wrapped__ = func  # type: ignore[attr-defined]
            self.on("status_changed", filtered)
            return func

        return decorator

    def on_error(self, func: F) -> F:
        """Decorator: errors (:class:`ReactorError`)."""
        self.on("error", func)
        return func

    def on_track(self, track_name: str) -> Callable[[F], F]:
        """Decorator: the raw aiortc MediaStreamTrack received under ``track_name``."""

        def decorator(func: F) -> F:
            """Register ``func`` for ``track_name`` only and return it unchanged."""
            def filtered(name: str, track: MediaStreamTrack) -> Any:
                """Call the handler with the track only when its name matches."""
                if name == track_name:
                    return func(track)
                return None

            filtered.__wrapped__ = func  # type: ignore[attr-defined]
            self.on("track_received", filtered)
            return func

        return decorator

    def set_frame_callback(self, callback: FrameCallback | None) -> None:
        """Set the frame callback, or with None remove every frame callback (``@on_frame`` ones too)."""
        if callback is not None and not callable(callback):
            raise TypeError(f"frame callback must be callable or None, got {type(callback).__name__}")
        self._frame_callback = callback
        if callback is None:
            self._extra_frame_callbacks = []
        self._sync_frame_callbacks()

    def remove_frame_callback(self, callback: FrameCallback) -> bool:
        """Remove one frame callback (set or ``@on_frame``-decorated); False if it was not registered."""
        found = callback is self._frame_callback or callback in self._extra_frame_callbacks
        if callback is self._frame_callback:
            self._frame_callback = None
        self._extra_frame_callbacks = [cb for cb in self._extra_frame_callbacks if cb is not callback]
        self._sync_frame_callbacks()
        return found

    def _sync_frame_callbacks(self) -> None:
        cbs = ([self._frame_callback] if self._frame_callback else []) + self._extra_frame_callbacks
        self._dispatcher.set_callbacks(cbs)

    def _emit(self, event: str, *args: Any) -> None:
        for handler in list(self._listeners.get(event, ())):
            try:
                result = handler(*args)
                if asyncio.iscoroutine(result):
                    self._spawn(self._await_handler(event, handler, result))
            except Exception as exc:
                self._handler_failed(event, handler, exc)

    async def _await_handler(self, event: str, handler: Any, coro: Coroutine[Any, Any, Any]) -> None:
        try:
            await coro
        except Exception as exc:
            self._handler_failed(event, handler, exc)

    def _handler_failed(self, event: str, handler: Any, exc: BaseException) -> None:
        name = getattr(handler, "__name__", repr(handler))
        logger.warning("%r handler %s raised %s: %s", event, name, type(exc).__name__, exc)
        if event != "error":  # an error handler that fails is only logged (no loop)
            self._error(CALLBACK_ERROR, f"{event} handler {name} raised {type(exc).__name__}: {exc}", "api")

    def _on_callback_error(self, exc: BaseException, cb: Any) -> None:
        """From the dispatcher thread: report on the SDK loop, at most once a second per callback."""
        name = getattr(cb, "__name__", repr(cb))
        now = time.monotonic()
        last, suppressed = self._callback_errors.get(id(cb), (-CALLBACK_ERROR_INTERVAL_S, 0))
        if now - last < CALLBACK_ERROR_INTERVAL_S:  # a callback failing on every frame must not flood
            self._callback_errors[id(cb)] = (last, suppressed + 1)
            return
        self._callback_errors[id(cb)] = (now, 0)
        more = f" (and {suppressed} more times since the last report)" if suppressed else ""
        msg = f"frame callback {name} raised {type(exc).__name__}: {exc}{more}"
        logger.warning("%s", msg)
        self._sdk.call_soon(self._error, CALLBACK_ERROR, msg, "api")

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        self._bg.add(task)
        task.add_done_callback(self._bg.discard)
        return task

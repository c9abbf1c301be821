"""Ending a connection of :class:`~.session.Reactor`: ``_disconnect`` and the transport's bad news.

Teardown order: timers and in-flight waits, the transport (pending control requests, inputs,
channels, peer, readers), the session this client created, then status and ids; a recoverable
disconnect keeps the session for ``reconnect()``.
"""

from __future__ import annotations

import asyncio
import logging

from .core import SessionCore
from .errors import GPU_CONNECTION_ERROR, NotReadyError
from .types import ReactorStatus

logger = logging.getLogger(__name__)

SESSION_END_TIMEOUT_S = 8.0


class TeardownPart(SessionCore):
    """Disconnect and lost-link handling for :class:`Reactor`."""

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
            self._stop_work()
            transport, self._transport = self._transport, None
            if transport is not None:
                try:
                    await transport.close()
                except Exception as exc:
                    logger.warning("closing the transport failed: %s", exc)
            if not recoverable:
                await self._end_session()
            self._fps.reset()
            self._set_status(ReactorStatus.DISCONNECTED)
            if not recoverable:
                self._forget_session()

    def _stop_work(self) -> None:
        """Cancel the timers and fail everyone waiting for a runtime or command reply."""
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

    async def _end_session(self) -> None:
        """End the session this client created (never one it joined or adopted); close the HTTP client."""
        api, self._api = self._api, None
        if api is None:
            return
        if self._created_session and self._session_id is not None:
            try:
                await asyncio.wait_for(api.terminate_session(self._session_id), SESSION_END_TIMEOUT_S)
            except Exception as exc:
                logger.info("ending session %s failed (ignored): %s", self._session_id, exc)
        await api.close()

    def _forget_session(self) -> None:
        """After a full disconnect: no expiry, no id, no capabilities (always announced)."""
        self._expiration = None
        self._emit("session_expiration_changed", None)
        self._set_session_id(None)
        self._capabilities = None
        self._tracks = []
        self._commands = []
        self._commands_from_schema = False
        self._session_response = None
        self._remote_tracks = {}
        self._created_session = False
        self._dispatcher.stop()

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

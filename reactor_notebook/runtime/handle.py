"""LocalRuntime: run the embedded runtime in a background thread of the current process."""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import dataclasses
import difflib
import os
import socket
import threading
import urllib.parse
from collections.abc import Coroutine
from typing import Any, TypeVar

from .config import RuntimeConfig, normalize_ice_servers
from .encoding import EncoderSettings
from .models import create_model
from .models.base import Model
from .server import RuntimeServer, display_host

T = TypeVar("T")
ENCODER_KEYS = ("codec", "preset", "tune", "bitrate", "max_bitrate", "min_bitrate")


def build_config(
    host: str = "127.0.0.1",
    port: int = 8080,
    api_key: str | list[str] | tuple[str, ...] | None = None,
    orphan_timeout: float = 30.0,
    **options: Any,
) -> RuntimeConfig:
    """A RuntimeConfig from flat keyword options (encoder options included); unknown names are refused."""
    allowed = {f.name for f in dataclasses.fields(RuntimeConfig)} - {"encoder", "host", "port", "api_key", "orphan_timeout"}
    unknown = sorted(set(options) - allowed - set(ENCODER_KEYS))
    if unknown:
        known = sorted(allowed | set(ENCODER_KEYS))
        hints = [f"{u!r} (did you mean {m[0]!r}?)" if (m := difflib.get_close_matches(u, known, 1)) else repr(u) for u in unknown]
        raise TypeError(f"unknown runtime option(s): {', '.join(hints)}; known options: {', '.join(known)}")
    encoder = EncoderSettings.from_options(**{k: options.pop(k) for k in ENCODER_KEYS if k in options})
    if "ice_servers" in options:
        options["ice_servers"] = normalize_ice_servers(options["ice_servers"])
    key = tuple(api_key) if isinstance(api_key, (list, tuple)) else api_key
    return RuntimeConfig(host=host, port=port, api_key=key, orphan_timeout=orphan_timeout, encoder=encoder, **options)


class LocalRuntime:
    """An in-process runtime with its own event-loop thread: ``with LocalRuntime(...) as rt: rt.url``."""

    def __init__(
        self,
        model: str | Model = "helios",
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | list[str] | None = None,
        fps: float | None = None,
        model_options: dict[str, Any] | None = None,
        orphan_timeout: float = 30.0,
        **options: Any,
    ) -> None:
        self.config = build_config(host, port, api_key, orphan_timeout, **options)
        if isinstance(model, Model):
            self.model = model
        else:
            self.model = create_model(model, fps=fps, **(model_options or {}))
        self._server: RuntimeServer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        state = f"url={self.url!r}" if self.running else "stopped"
        return f"LocalRuntime(model={self.model.name!r}, {state})"

    # --- properties -----------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """True while the loop thread lives and the server is up."""
        return self._thread is not None and self._thread.is_alive() and self._server is not None

    @property
    def port(self) -> int:
        """The bound port (the real one when ``port=0`` asked for any free port)."""
        return self._server.port if self._server is not None else self.config.port

    @property
    def host(self) -> str:
        """The host the server listens on, as configured."""
        return self.config.host

    @property
    def url(self) -> str:
        """Base URL for clients (a wildcard bind is shown as loopback, IPv6 in brackets)."""
        return f"http://{display_host(self.config.host)}:{self.port}"

    @property
    def server(self) -> RuntimeServer:
        """The running :class:`RuntimeServer`; raises before :meth:`start` so misuse fails loudly."""
        if self._server is None:
            raise RuntimeError("LocalRuntime is not running; call start() first")
        return self._server

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The runtime's own event loop, for scheduling coroutines from other threads; raises before start."""
        if self._loop is None:
            raise RuntimeError("LocalRuntime is not running; call start() first")
        return self._loop

    # --- lifecycle --------------------------------------------------------------------------
    def start(self, timeout: float = 15.0) -> LocalRuntime:
        """Start serving in a background thread; returns once the port accepts connections."""
        if self.running:
            return self
        started: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._thread = threading.Thread(target=self._run, args=(started,), name="reactor-runtime", daemon=True)
        self._thread.start()
        try:
            started.result(timeout)
        except BaseException:
            self._thread.join(timeout)
            self._thread = None
            raise
        return self

    def _run(self, started: concurrent.futures.Future[None]) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        server = RuntimeServer(self.model, self.config)
        try:
            loop.run_until_complete(server.start())
        except BaseException as exc:
            started.set_exception(exc)
            self._close_loop(loop)
            return
        self._server = server
        started.set_result(None)
        try:
            loop.run_forever()
        finally:
            self._close_loop(loop)

    @staticmethod
    def _close_loop(loop: asyncio.AbstractEventLoop) -> None:
        try:
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for t in pending:
                t.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            loop.close()

    def stop(self, timeout: float = 15.0) -> None:
        """Close every session and peer, stop the model thread and the loop thread (idempotent)."""
        thread, loop, server = self._thread, self._loop, self._server
        if thread is None or loop is None:
            return
        if server is not None and thread.is_alive():
            try:
                asyncio.run_coroutine_threadsafe(server.stop(), loop).result(timeout)
            except concurrent.futures.TimeoutError:
                pass
            loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        self._thread = self._server = self._loop = None

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = 30.0) -> T:
        """Run a coroutine on the runtime's loop from another thread (tests, tools)."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def __enter__(self) -> LocalRuntime:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- notebooks ------------------------------------------------------------------------------
    @classmethod
    def ensure(
        cls, model: str = "helios", port: int | None = None, host: str | None = None, **kwargs: Any
    ) -> LocalRuntime | None:
        """Start a runtime in the background unless something already listens on ``host:port``.

        Without ``port`` the address comes from ``$REACTOR_LOCAL_URL`` (default
        http://localhost:8080), the URL the SDK, the magic and the widget connect to; a URL that
        is not on this machine raises ValueError (nothing can be started there). Returns the new
        handle (stopped at interpreter exit), or None when a server was already there (left alone).
        """
        if port is None:
            url_host, port = local_address()
            host = host or url_host
        host = host or "127.0.0.1"
        if is_listening(display_host(host).strip("[]"), port):
            return None
        rt = cls(model=model, host=host, port=port, **kwargs).start()
        atexit.register(rt.stop)
        return rt


def local_address() -> tuple[str, int]:
    """``(host, port)`` to serve on for ``$REACTOR_LOCAL_URL``; ValueError when it is not this machine."""
    from ..protocol import DEFAULT_LOCAL_URL, LOCAL_URL_ENV

    url = (os.environ.get(LOCAL_URL_ENV) or DEFAULT_LOCAL_URL).rstrip("/")
    parts = urllib.parse.urlsplit(url)
    if parts.hostname not in ("localhost", "127.0.0.1", "::1", "0.0.0.0"):
        raise ValueError(
            f"{LOCAL_URL_ENV}={url} is not on this machine: the embedded runtime can only be started on a "
            "loopback address (e.g. http://127.0.0.1:8080); pass host=/port= to start one elsewhere"
        )
    host = "127.0.0.1" if parts.hostname == "localhost" else parts.hostname
    return host, parts.port or 80


def is_listening(host: str, port: int, timeout: float = 0.5) -> bool:
    """True if a TCP server accepts connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False

"""The runtime server: model + sessions + aiohttp site on one event loop (used by CLI and handle)."""

from __future__ import annotations

import logging

from aiohttp import web

from .app import build_app
from .auth import Authenticator
from .config import RuntimeConfig
from .models.base import Model
from .session import SessionManager

log = logging.getLogger(__name__)

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def display_host(host: str) -> str:
    """The host to put in URLs (wildcard binds are reached via loopback; IPv6 gets brackets)."""
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


class RuntimeServer:
    """Serves one model over HTTP + WebRTC until :meth:`stop`."""

    def __init__(self, model: Model, config: RuntimeConfig) -> None:
        self.model = model
        self.config = config
        self.auth = Authenticator(config.api_keys, config.token_lifetime)
        self.manager = SessionManager(model, config)
        self._runner: web.AppRunner | None = None
        self.port: int = config.port

    @property
    def url(self) -> str:
        """Base URL for clients (a wildcard bind is shown as loopback, IPv6 in brackets)."""
        return f"http://{display_host(self.config.host)}:{self.port}"

    async def start(self) -> None:
        """Bind the port and start serving (raises OSError if the port is taken)."""
        self.manager.start()
        app = build_app(self.manager, self.auth)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.config.host, self.config.port, reuse_address=True)
        try:
            await site.start()
        except OSError:
            await self.stop()
            raise
        if self.config.host not in LOOPBACK_HOSTS and not self.config.api_keys:
            log.warning("binding %s without an API key: anyone who can reach this port can use the runtime", self.config.host)
        addresses = self._runner.addresses
        if addresses:
            self.port = int(addresses[0][1])
        log.info("reactor runtime listening on %s (model %s)", self.url, self.model.name)

    async def stop(self) -> None:
        """Close every session and peer, stop the model thread, release the socket."""
        await self.manager.shutdown()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

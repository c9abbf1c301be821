"""Launch reactor-runtime 2.0.0's HTTP runtime (aiortc transport) with the toy model, offline.

Run with the RT20 venv's python: ``python launch_rt20.py [--host 127.0.0.1] [--port 0]``. It binds
the listening socket itself (RT20's CLI refuses ports < 1024, so no port 0 there), prints
``rt20 listening on http://HOST:PORT (model rt20toy)`` and serves until SIGTERM/SIGINT; the model
is loaded in the background, so callers wait for ``GET /health`` to report ``READY``.

Two things are patched, both only to keep RT20 on the machine: with no ICE servers configured it
would hand clients Google's public STUN server from ``…/ice_servers`` and use it for its own peers;
here both get an empty list (host candidates only). Everything on the wire is RT20's own code.
No redis or OpenTelemetry endpoint is needed: the metrics backend it probes for is not in the
wheel, and file profiling stays off unless ``--profiling-dir`` is given.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
MODEL_SPEC = "rt20_toy:ToyModel"
MODEL_NAME = "rt20toy"


def _stay_offline() -> None:
    """Drop RT20's public STUN fallback from ``…/ice_servers`` and from its own peer connections."""
    from aiortc import RTCConfiguration
    from reactor_runtime.runtimes.http import config as http_config
    from reactor_runtime.transports.aiortc import client as aiortc_client
    from reactor_runtime.transports.config import DEFAULT_STUN_SERVER

    listed = http_config.HttpRuntimeConfig.ice_servers_json

    def ice_servers_json(self: Any) -> list[dict[str, Any]]:
        return listed.fget(self) if self.ice_servers else []

    http_config.HttpRuntimeConfig.ice_servers_json = property(ice_servers_json)  # type: ignore[method-assign]

    def rtc_configuration(iceServers: Any = None, **kwargs: Any) -> RTCConfiguration:
        def public(server: Any) -> bool:
            urls = server.urls if isinstance(server.urls, list) else [server.urls]
            return DEFAULT_STUN_SERVER in urls

        return RTCConfiguration(iceServers=[s for s in iceServers or [] if not public(s)], **kwargs)

    aiortc_client.RTCConfiguration = rtc_configuration  # type: ignore[assignment]


async def _serve(sock: socket.socket, orphan_timeout: float) -> None:
    """RT20's ``serve()``, except that uvicorn is handed our already-bound socket."""
    import uvicorn
    from reactor_runtime.config import ReactorConfig
    from reactor_runtime.runtimes.http.http_runtime import HttpRuntime, HttpRuntimeConfig
    from reactor_runtime.transports.types import TransportType

    class SocketHttpRuntime(HttpRuntime):
        """HttpRuntime whose uvicorn server listens on a socket bound by the launcher."""

        async def run(self) -> None:
            host, port = sock.getsockname()[:2]
            self._server = uvicorn.Server(
                uvicorn.Config(app=self.app, host=host, port=port, log_level="warning")
            )
            try:
                await self._server.serve(sockets=[sock])
            finally:
                self._server = None
                await self._stop_webrtc_client()
                await self.shutdown()

    config = HttpRuntimeConfig(
        reactor_config=ReactorConfig(model=MODEL_SPEC, name=MODEL_NAME),
        host=sock.getsockname()[0],
        port=sock.getsockname()[1],
        orphan_timeout=orphan_timeout,
        transport_type=TransportType.AIORTC,
    )
    runtime = SocketHttpRuntime(config)
    load = asyncio.create_task(runtime.load())
    await runtime.run()
    await load


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 = ephemeral (printed)")
    parser.add_argument("--orphan-timeout", type=float, default=30.0)
    args = parser.parse_args()

    from reactor_runtime.utils.launch import add_import_paths, configure_logging

    configure_logging(os.environ.get("RT20_LOG_LEVEL", "INFO"))
    add_import_paths([str(HERE)])
    _stay_offline()

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    sock.listen(128)
    host, port = sock.getsockname()[:2]
    print(f"rt20 listening on http://{host}:{port} (model {MODEL_NAME})", flush=True)
    try:
        asyncio.run(_serve(sock, args.orphan_timeout))
    except KeyboardInterrupt:
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()

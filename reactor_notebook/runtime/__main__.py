"""CLI: ``python -m reactor_notebook.runtime --port 8080 --model helios``.

Prints ``reactor runtime listening on http://HOST:PORT (model NAME)`` once the port accepts
connections (with the real port for ``--port 0``); stops cleanly on SIGINT/SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
from typing import Any

from .config import ConfigError
from .encoding import CODECS, X264_PRESETS, X264_TUNES, EncoderSettingsError
from .handle import build_config
from .models import create_model, model_names
from .server import LOOPBACK_HOSTS, RuntimeServer


def _option(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key, json.loads(value)
    except ValueError:
        return key, value


def parser() -> argparse.ArgumentParser:
    """The command-line options of ``python -m reactor_notebook.runtime`` (bind, model, auth, encoder…)."""
    p = argparse.ArgumentParser(prog="python -m reactor_notebook.runtime", description="Reactor embedded runtime")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8080, help="port (0 = pick a free one; default 8080)")
    p.add_argument("--model", default="helios", choices=model_names(), help="model to host (default helios)")
    p.add_argument("--api-key", action="append", default=None, help="accept only this API key at /tokens (repeatable)")
    p.add_argument("--api-key-env", default=None, metavar="VAR",
                   help="read the accepted API key from this environment variable (keeps it out of `ps`)")
    p.add_argument("--fps", type=float, default=None, help="model frame rate (default: the model's)")
    p.add_argument("--model-option", action="append", type=_option, default=[], metavar="KEY=VALUE",
                   help="model option, e.g. width=1280 (repeatable)")
    p.add_argument("--orphan-timeout", type=float, default=30.0, help="seconds without a peer before a session closes")
    p.add_argument("--keepalive-timeout", type=float, default=20.0, help="seconds of data-channel silence before a peer is closed")
    p.add_argument("--keepalive-check", type=float, default=2.0, help="seconds between keepalive/orphan checks (default 2)")
    p.add_argument("--assignment-delay", type=float, default=0.0, help="simulated GPU assignment delay for cloud sessions (s)")
    p.add_argument("--ice-server", action="append", default=None, help="STUN/TURN URL offered to clients (repeatable)")
    p.add_argument("--codec", default=None, help=f"preferred video codec: {', '.join(CODECS)} (default auto = offer order)")
    p.add_argument("--preset", default=None, help=f"x264 preset: {', '.join(X264_PRESETS)} (default veryfast)")
    p.add_argument("--tune", default=None, help=f"x264 tune: {', '.join(X264_TUNES)} (default zerolatency)")
    p.add_argument("--bitrate", default=None, help="start bitrate in bit/s, e.g. 3M or 2500k (default 3M)")
    p.add_argument("--max-bitrate", default=None, help="maximum bitrate in bit/s (default 8M)")
    p.add_argument("--min-bitrate", default=None, help="lowest bitrate receiver feedback may set (default bitrate/2)")
    p.add_argument("--no-recording", dest="recording", action="store_false",
                   help="do not record output tracks (clip requests are then answered clipFailed)")
    p.add_argument("--recordings-dir", default=None, metavar="DIR",
                   help="where rolling recordings are written (default: a temporary directory removed at exit)")
    p.add_argument("--recording-window", type=float, default=120.0, metavar="S",
                   help="seconds of recording kept per output track (default 120)")
    p.add_argument("--recording-max-mb", type=float, default=256.0, metavar="MB",
                   help="megabytes of recording kept per output track (default 256)")
    p.add_argument("--recording-linger", type=float, default=10.0, metavar="S",
                   help="seconds a session's recording outlives the session (default 10)")
    p.add_argument("--log-level", default="WARNING", help="logging level (default WARNING)")
    return p


async def serve(server: RuntimeServer) -> None:
    """Run until SIGINT/SIGTERM, then shut down cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            pass
    await server.start()
    print(f"reactor runtime listening on {server.url} (model {server.model.name})", flush=True)
    try:
        await stop.wait()
    finally:
        await server.stop()


def _warn_exposed(host: str, keyed: bool) -> None:
    """Say on stderr what is open to the network when the runtime binds beyond loopback."""
    if host in LOOPBACK_HOSTS:
        return
    if not keyed:
        message = f"warning: binding {host} without --api-key: anyone who can reach this port can use the runtime"
    else:
        message = (
            f"warning: binding {host}: --api-key protects /tokens and cloud sessions only; the local routes "
            "(/start_session, session 'local') never check auth"
        )
    print(message, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: build the config and model from the options and serve until interrupted."""
    args = parser().parse_args(argv)
    if args.api_key_env:
        env_key = os.environ.get(args.api_key_env)
        if not env_key:
            print(f"error: --api-key-env: environment variable {args.api_key_env} is not set or empty", file=sys.stderr)
            return 2
        args.api_key = [*(args.api_key or []), env_key]
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        config = build_config(
            args.host,
            args.port,
            args.api_key[0] if args.api_key and len(args.api_key) == 1 else args.api_key,
            args.orphan_timeout,
            keepalive_timeout=args.keepalive_timeout,
            keepalive_check=args.keepalive_check,
            assignment_delay=args.assignment_delay,
            ice_servers=args.ice_server or (),
            codec=args.codec,
            preset=args.preset,
            tune=args.tune,
            bitrate=args.bitrate,
            max_bitrate=args.max_bitrate,
            min_bitrate=args.min_bitrate,
            recording=args.recording,
            recordings_dir=args.recordings_dir,
            recording_window=args.recording_window,
            recording_max_mb=args.recording_max_mb,
            recording_linger=args.recording_linger,
        )
        model = create_model(args.model, fps=args.fps, **dict(args.model_option))
    except (ConfigError, EncoderSettingsError, ValueError, TypeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    _warn_exposed(args.host, bool(args.api_key))
    try:
        asyncio.run(serve(RuntimeServer(model, config)))
    except OSError as exc:
        print(f"error: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

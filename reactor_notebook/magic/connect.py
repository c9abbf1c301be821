"""``%reactor connect``: its arguments, where it connects, whether to start the embedded runtime, and
how it reports what it joined (the model actually served and other clients).

The SDK refuses a local runtime serving another model and warns when a local session is shared
(:mod:`reactor_notebook.sdk.joining`); here those become magic-worded messages. The SDK is imported
lazily so ``%load_ext reactor_notebook`` stays cheap.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

from IPython.core.error import UsageError

from .help import UsageParser


def connect_session(reactor: Any, model: str, where: str) -> None:
    """``reactor.connect_sync()``; a model mismatch becomes a UsageError naming both models and the fix."""
    from ..sdk.joining import ModelMismatchError, SharedSessionWarning

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SharedSessionWarning)  # the magic prints its own note
            reactor.connect_sync()
    except ModelMismatchError as exc:
        raise UsageError(
            f"connect: the runtime at {where} serves model {exc.served!r}, not {exc.asked!r}; "
            f"use it with `%reactor connect --model {exc.served}` (plus your --url), or stop it so "
            f"`%reactor connect --local` can start a {exc.asked} simulator there"
        ) from None


def served_model(info: Any) -> str | None:
    """The model name in the session descriptor, or None."""
    from ..sdk.joining import served_model as _served

    return _served(info if isinstance(info, dict) else None)


def shared_note(reactor: Any, where: str) -> str | None:
    """``note: joined session ...`` when other clients use the session, else None."""
    n = getattr(reactor, "shared_clients", 0)
    if not isinstance(n, int) or n <= 0:
        return None
    from ..sdk.joining import shared_message

    sid = reactor.get_session_id() if hasattr(reactor, "get_session_id") else None
    return "note: " + shared_message(n, sid, where).replace(
        "Pass exclusive=True (magic: --exclusive)", "`%reactor connect --exclusive`"
    )


DEFAULT_LOCAL_URL = "http://localhost:8080"
DEFAULT_API_KEY_ENV = "REACTOR_API_KEY"


def connect_args(argv: list[str]) -> Any:
    """Parse ``%reactor connect`` arguments; refuses keys in the text and never echoes a value back."""
    if any(a == "--api-key" or a.startswith("--api-key=") or a.startswith("rk_") for a in argv):
        raise UsageError(
            "connect: API keys are never taken from notebook text; put the key in an environment "
            "variable and pass its name: %reactor connect --api-key-env REACTOR_API_KEY"
        )
    p = UsageParser(prog="%reactor connect", description="Connect to a local runtime (default) or Reactor cloud.")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--local", action="store_true", help="local runtime; started here if nothing listens")
    mode.add_argument("--api-key-env", metavar="VAR", help="cloud: read the API key from this environment variable")
    p.add_argument("--model", default="helios", help="model name (default helios)")
    p.add_argument("--url", help="local runtime URL, or the cloud API URL with --api-key-env")
    p.add_argument("--name", default="reactor", help="variable to bind the session to (default reactor)")
    p.add_argument("--stepped", action="store_true", help="a stepped session: %%reactor step runs each step")
    p.add_argument("--start", action="store_true", help="start the embedded simulator at --url if nothing listens")
    p.add_argument("--exclusive", action="store_true", help="refuse a session other clients use")
    try:
        args = p.parse_args(argv)
    except UsageError as exc:
        reason = str(exc)
        for token in argv:  # never echo values: a pasted secret must not reach the output
            if not token.startswith("-") or "=" in token:
                reason = reason.replace(token, "<value>")
        raise UsageError(reason) from None
    if not args.name.isidentifier():
        raise UsageError(f"connect: --name must be a Python name, got {args.name!r}")
    return args


def cloud_kwargs(args: Any) -> tuple[dict[str, Any], str]:
    """Reactor(...) arguments for a cloud session (the key read from ``--api-key-env``) and where it goes."""
    key = os.environ.get(args.api_key_env)
    if not key:
        raise UsageError(
            f"connect: environment variable {args.api_key_env} is not set or empty "
            "(set it from a secret store, e.g. Colab's userdata, before connecting)"
        )
    kwargs: dict[str, Any] = {"model_name": args.model, "api_key": key}
    if args.url:
        kwargs["api_url"] = args.url
    return kwargs, args.url or "Reactor cloud"


def local_url(args: Any) -> str:
    """The local runtime URL: ``--url``, else ``$REACTOR_LOCAL_URL``, else the default."""
    return str(args.url or os.environ.get("REACTOR_LOCAL_URL") or DEFAULT_LOCAL_URL).rstrip("/")


def start_needed(url: str, args: Any) -> int | None:
    """The port to start the embedded runtime on, None when something listens at ``url`` already.

    A UsageError says why it is not started: not asked (no ``--local``/``--start``) or not this machine.
    """
    from ..sdk.probe import probe_runtime

    try:
        target = probe_runtime(url)
    except ValueError as exc:
        raise UsageError(f"connect: {exc}") from None
    if target.listening:
        return None
    if not (args.local or args.start):
        how = f"add --start to start the embedded {args.model} simulator there" if args.url else (
            f"`%reactor connect --local` starts the embedded {args.model} simulator there"
        )
        raise UsageError(f"connect: nothing listens at {url}; check the URL and port, or {how}")
    if not target.loopback:
        raise UsageError(
            f"connect: nothing listens at {url}; the embedded simulator is only started on this "
            "machine (a loopback URL such as http://127.0.0.1:8080)"
        )
    return target.port

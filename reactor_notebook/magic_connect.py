"""How ``%reactor connect`` reports what it joined: the model actually served and other clients.

The SDK refuses a local runtime serving another model and warns when a local session is shared
(:mod:`reactor_notebook.sdk.joining`); here those become magic-worded messages. The SDK is imported
lazily so ``%load_ext reactor_notebook`` stays cheap.
"""

from __future__ import annotations

import warnings
from typing import Any

from IPython.core.error import UsageError


def connect_session(reactor: Any, model: str, where: str) -> None:
    """``reactor.connect_sync()``; a model mismatch becomes a UsageError naming both models and the fix."""
    from .sdk.joining import ModelMismatchError, SharedSessionWarning

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
    from .sdk.joining import served_model as _served

    return _served(info if isinstance(info, dict) else None)


def shared_note(reactor: Any, where: str) -> str | None:
    """``note: joined session ...`` when other clients use the session, else None."""
    n = getattr(reactor, "shared_clients", 0)
    if not isinstance(n, int) or n <= 0:
        return None
    from .sdk.joining import shared_message

    sid = reactor.get_session_id() if hasattr(reactor, "get_session_id") else None
    return "note: " + shared_message(n, sid, where).replace(
        "Pass exclusive=True (magic: --exclusive)", "`%reactor connect --exclusive`"
    )

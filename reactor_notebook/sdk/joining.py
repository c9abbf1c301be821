"""What a session descriptor says about who else is there: the model actually served and other clients.

A local runtime serves whatever model it was started with, whatever name the client asked for,
and its ``/start_session`` is idempotent: a second client gets the first one's session. Both are
fine on purpose but must never go unnoticed, so the SDK checks the descriptor here:

* a local runtime serving another model is refused (:class:`ModelMismatchError` names both);
  in cloud mode a different name is only logged, since the coordinator picks the deployment;
* a local session with other clients attached (our runtime reports ``attached_clients``) is
  joined with a :class:`SharedSessionWarning`, or refused with :class:`SessionSharedError`
  when the client asked for ``exclusive=True``. A joiner never stops the session it joined.
"""

from __future__ import annotations

import logging
from typing import Any

from .. import protocol as P
from .errors import (  # noqa: F401  (defined in errors, still importable here)
    CONNECTION_FAILED,
    ConflictError,
    ModelMismatchError,
    ReactorException,
    SessionSharedError,
    SharedSessionWarning,
)

logger = logging.getLogger("reactor_notebook.sdk")





def served_model(desc: dict[str, Any] | None) -> str | None:
    """The model name a session descriptor reports, or None when it names none."""
    model = (desc or {}).get("model")
    name = model.get("name") if isinstance(model, dict) else None
    return name if isinstance(name, str) and name else None


def check_model(asked: str, desc: dict[str, Any], *, local: bool, where: str) -> None:
    """Refuse (local) or log (cloud) a descriptor whose model differs from ``asked``."""
    served = served_model(desc)
    if served is None or served.lower() == asked.lower():
        return
    if local:
        raise ModelMismatchError(asked, served, where)
    logger.warning("asked for model %r, the coordinator's session serves %r", asked, served)


def other_clients(desc: dict[str, Any] | None) -> int:
    """How many other clients the runtime says are attached to this session (0 when it does not say)."""
    n = (desc or {}).get(P.ATTACHED_CLIENTS_KEY)
    return n if isinstance(n, int) and not isinstance(n, bool) and n > 0 else 0


def check_sharing(desc: dict[str, Any], *, exclusive: bool, where: str) -> int:
    """The number of other clients attached; raises :class:`SessionSharedError` if exclusive."""
    n = other_clients(desc)
    if n and exclusive:
        raise SessionSharedError(n, where)
    return n


def shared_message(clients: int, session_id: str | None, where: str) -> str:
    """One line for users: which session is shared, with how many others, and what that means."""
    others = f"{clients} other client{'s already use' if clients != 1 else ' already uses'}"
    return (
        f"joined session {session_id!r} at {where}, which {others} "
        "(another notebook?): commands from either reach the same model, and this client will not "
        "stop the session on disconnect. Pass exclusive=True (magic: --exclusive) to refuse sharing"
    )


def warn_if_shared(reactor: Any) -> None:
    """After a connect returned: warn (in the caller's thread, so notebooks show it) about a shared session."""
    n = getattr(reactor, "shared_clients", 0)
    if n:
        import warnings

        msg = shared_message(n, reactor.get_session_id(), reactor.base_url)
        logger.warning("%s", msg)
        warnings.warn(msg, SharedSessionWarning, stacklevel=3)

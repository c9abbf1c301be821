"""What the widget shows about its session beyond the SDK status: the served model, sharing, staleness."""

from __future__ import annotations

from typing import Any


def served_name(reactor: Any) -> str:
    """The model the runtime reports serving (the descriptor), else the name asked for."""
    info = reactor.get_session_info() if hasattr(reactor, "get_session_info") else None
    model = info.get("model") if isinstance(info, dict) else None
    name = model.get("name") if isinstance(model, dict) else None
    return str(name or getattr(reactor, "model_name", "") or "")


def shared_count(reactor: Any) -> int:
    """Other clients attached to the reactor's local session when it connected (0: alone or unknown)."""
    n = getattr(reactor, "shared_clients", 0)
    return n if isinstance(n, int) and not isinstance(n, bool) and n > 0 else 0


def not_running(state: dict[str, Any] | None) -> dict[str, Any] | None:
    """The last model state with ``running``/``pause_pending`` off: nothing runs for a session that is not ready."""
    if not state:
        return state
    return {**state, "running": False, "pause_pending": False}

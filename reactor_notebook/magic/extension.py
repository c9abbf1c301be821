"""``%load_ext reactor_notebook``: install and remove the magics and their completer, once per shell."""

from __future__ import annotations

from typing import Any

from .complete import make_matcher
from .magics import ReactorMagics

_installed: dict[int, tuple[ReactorMagics, Any]] = {}


def load_ipython_extension(ipython: Any) -> None:
    """Register ``%reactor``/``%%reactor`` and its completer once per shell (idempotent)."""
    if id(ipython) in _installed:
        return
    magics = ReactorMagics(ipython)
    ipython.register_magics(magics)
    matcher = make_matcher(magics.session_commands, magics.verbs)
    completer = getattr(ipython, "Completer", None)
    if completer is not None:
        completer.custom_matchers.append(matcher)
    _installed[id(ipython)] = (magics, matcher)


def unload_ipython_extension(ipython: Any) -> None:
    """Remove the magics and completer, disconnect what they opened (idempotent)."""
    entry = _installed.pop(id(ipython), None)
    if entry is None:
        return
    magics, matcher = entry
    magics.close()
    manager = ipython.magics_manager
    for kind in ("line", "cell"):
        if manager.magics[kind].get("reactor") is not None:
            manager.magics[kind].pop("reactor", None)
    manager.registry.pop(type(magics).__name__, None)
    completer = getattr(ipython, "Completer", None)
    if completer is not None and matcher in completer.custom_matchers:
        completer.custom_matchers.remove(matcher)


def get_magics(ipython: Any) -> ReactorMagics | None:
    """The loaded :class:`ReactorMagics` of a shell (for tests and advanced use)."""
    entry = _installed.get(id(ipython))
    return entry[0] if entry else None

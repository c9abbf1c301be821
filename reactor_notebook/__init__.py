"""reactor_notebook: the Jupyter toolkit for realtime video AI.

Public API (imported lazily so ``import reactor_notebook`` stays cheap): the Reactor SDK
(:class:`Reactor`, statuses, errors, types), :class:`ReactorWidget`, :class:`LocalRuntime`,
and the ``%reactor`` IPython extension (``%load_ext reactor_notebook``).
"""

import importlib as _importlib
from typing import Any as _Any

# No ``from __future__ import annotations`` and underscore-only helpers: completion of
# ``reactor_notebook.`` offers the public API only (``__dir__`` below; static completers too).

__version__ = "0.1.0"

_EXPORTS = {
    "Reactor": "sdk",
    "ReactorStatus": "sdk",
    "ReactorState": "sdk",
    "ReactorError": "sdk",
    "ReactorEvent": "sdk",
    "Capabilities": "sdk",
    "TrackCapability": "sdk",
    "ConflictError": "sdk",
    "VersionMismatchError": "sdk",
    "FrameCallback": "sdk",
    "ConnectionStats": "sdk",
    "FileRef": "sdk",
    "NotReadyError": "sdk",
    "CommandRejectedError": "sdk",
    "CommandReply": "sdk",
    "ReactorWidget": "widget",
    "LocalRuntime": "runtime",
    "FrameBuffer": "frames",
    "FrameMeta": "frames",
    "ModelMismatchError": "sdk",
    "SessionSharedError": "sdk",
    "SharedSessionWarning": "sdk",
    "CommandValidationError": "schema",
    "ArrayTrack": "sources",
    "VideoFileTrack": "sources",
    "FramesTrack": "sources",
}

__all__ = [*sorted(_EXPORTS), "load_ipython_extension", "unload_ipython_extension"]


def __dir__() -> list[str]:
    """The public API (what ``reactor_notebook.<TAB>`` offers), not this module's helpers."""
    return sorted({*__all__, "__version__"})


def __getattr__(name: str) -> _Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'reactor_notebook' has no attribute {name!r}")
    value = getattr(_importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def load_ipython_extension(ipython: _Any) -> None:
    """``%load_ext reactor_notebook``: register the ``%reactor`` magics."""
    from .magic import load_ipython_extension as _load

    _load(ipython)


def unload_ipython_extension(ipython: _Any) -> None:
    """``%unload_ext reactor_notebook``: remove the magics and disconnect what they opened."""
    from .magic import unload_ipython_extension as _unload

    _unload(ipython)

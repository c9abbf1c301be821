"""Opening export files with errors that name the path, the cause and what to do.

PyAV reports a bad output path as a bare ``PermissionError``/``FileNotFoundError`` raised from its
Cython frames; :func:`open_writer` checks the target first and words the error for a user. The
exceptions keep their built-in types, so ``except OSError`` (or ``PermissionError``) still works.
"""

from __future__ import annotations

import errno as errno_mod
import os
from typing import Any

_HINTS = {
    errno_mod.ENOENT: "create the directory first (os.makedirs(..., exist_ok=True)) or pick another location",
    errno_mod.EACCES: "choose a location you can write to, e.g. the notebook's folder",
    errno_mod.EPERM: "choose a location you can write to, e.g. the notebook's folder",
    errno_mod.EROFS: "the file system is read-only; choose another location",
    errno_mod.EISDIR: "give a file name inside that directory, e.g. clip.mp4",
    errno_mod.ENOSPC: "the disk is full; free space or choose another location",
}


def export_error(what: str, path: str, exc: OSError) -> OSError:
    """An OSError of the same type whose message names the call, the path, the cause and a fix.

    Built with the message as its only argument (no errno), so it prints as that sentence.
    """
    code = exc.errno
    cause = os.strerror(code).lower() if code else str(exc)
    hint = _HINTS.get(code or -1)
    return type(exc)(f"{what}: cannot write {path}: {cause}" + (f"; {hint}" if hint else ""))


def check_target(what: str, path: str) -> None:
    """Raise a worded OSError when ``path`` cannot be created as a file (missing directory, a directory)."""
    if os.path.isdir(path):
        raise export_error(what, path, IsADirectoryError(errno_mod.EISDIR, "is a directory"))
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise FileNotFoundError(
            f"{what}: cannot write {path}: the directory {parent} does not exist; " + _HINTS[errno_mod.ENOENT]
        )


def open_writer(path: str, what: str, **kwargs: Any) -> Any:
    """``av.open(path, mode="w", **kwargs)`` with worded errors (see module doc).

    The file is opened once with plain Python first: PyAV may only fail when it writes the
    header (e.g. sysfs refuses new files even to root), deep inside its Cython frames.
    """
    import av

    check_target(what, path)
    try:
        with open(path, "ab"):
            pass
        return av.open(path, mode="w", **kwargs)
    except OSError as exc:
        raise export_error(what, path, exc) from None

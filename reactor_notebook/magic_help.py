"""Error wording for the ``%reactor`` magic: "did you mean", usage lines, and file checks.

Kept apart from :mod:`reactor_notebook.magic` (the IPython glue) so each message is built in one
place and can be tested without a shell.
"""

from __future__ import annotations

import argparse
import difflib
import os
from collections.abc import Iterable

from IPython.core.error import UsageError
from IPython.core.magic_arguments import MagicArgumentParser


class UsageParser(MagicArgumentParser):
    """A ``%reactor VERB`` argument parser whose errors end with the verb's usage line."""

    def error(self, message: str) -> None:  # type: ignore[override]
        fmt = argparse.HelpFormatter(prog=self.prog, width=200)  # IPython's formatter writes "::" blocks
        fmt.add_usage(self.usage, self._actions, self._mutually_exclusive_groups)
        usage = fmt.format_help().strip().replace("[-h] ", "")
        raise UsageError(f"{self.prog.removeprefix('%reactor ')}: {message}\n{usage}")


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest candidate, or an empty string when none is close."""
    close = difflib.get_close_matches(word, sorted(set(candidates)), n=1, cutoff=0.7)
    return f" (did you mean {close[0]!r}?)" if close else ""


def unknown_word(word: str, verbs: Iterable[str], commands: Iterable[str]) -> str:
    """The message for a first word that is neither a magic verb nor one of the model's commands."""
    verbs, commands = sorted(set(verbs)), sorted(set(commands))
    hint = did_you_mean(word, [*verbs, *commands])
    known = f"the model's commands: {', '.join(commands)}; " if commands else ""
    return (
        f"unknown command {word!r}{hint}; {known}magic verbs: {', '.join(verbs)} "
        "(`%reactor help` explains them)"
    )


def check_image_path(source: str, max_bytes: int) -> str:
    """The expanded path of an image file, or a UsageError saying why it cannot be one."""
    path = os.path.expanduser(source)
    if os.path.isdir(path):
        raise UsageError(f"image: {source} is a directory; give the path of a PNG, JPEG or WebP file in it")
    if not os.path.exists(path):
        parent = os.path.dirname(os.path.abspath(path))
        where = "" if os.path.isdir(parent) else f" (the directory {parent} does not exist either)"
        raise UsageError(f"image: no such file: {source}{where}")
    if not os.path.isfile(path):
        raise UsageError(f"image: {source} is not a regular file")
    if not os.access(path, os.R_OK):
        raise UsageError(f"image: {source} is not readable (permission denied)")
    if os.path.getsize(path) > max_bytes:
        raise UsageError(f"image: {source} is larger than {max_bytes // (1024 * 1024)} MB")
    return path

"""Pure parsing for the ``%reactor`` magic: tokens, ``key=value`` arguments, durations, script lines.

Kept apart from the IPython glue (``magics.py``) so every rule is unit-testable
without a shell. Errors are :class:`MagicSyntaxError` with a message that says what was wrong.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from typing import Any

_OPEN = "[{("
_CLOSE = "]})"


class MagicSyntaxError(ValueError):
    """A ``%reactor`` line that cannot be parsed; the message names the offending part."""


def split_raw(text: str) -> list[str]:
    """Split on whitespace outside quotes and brackets, keeping quotes; ``#`` at a token start ends the line."""
    tokens: list[str] = []
    cur: list[str] = []
    quote: str | None = None
    depth = 0
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if quote is not None:
            cur.append(c)
            if c == "\\" and i + 1 < n:
                cur.append(text[i + 1])
                i += 2
                continue
            if c == quote:
                quote = None
        elif c in "\"'":
            quote = c
            cur.append(c)
        elif c in _OPEN:
            depth += 1
            cur.append(c)
        elif c in _CLOSE:
            depth = max(0, depth - 1)
            cur.append(c)
        elif c.isspace() and depth == 0:
            if cur:
                tokens.append("".join(cur))
                cur = []
        elif c == "#" and depth == 0 and not cur:
            break
        else:
            cur.append(c)
        i += 1
    if quote is not None:
        raise MagicSyntaxError(f"unterminated {quote} quote in: {text.strip()}")
    if cur:
        tokens.append("".join(cur))
    return tokens


def parse_value(raw: str) -> Any:
    """A value as JSON, else as a Python literal, else the text itself (``sunset`` → ``"sunset"``)."""
    try:
        return json.loads(raw)
    except ValueError:
        pass
    try:
        return ast.literal_eval(raw)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return raw


def parse_kwargs(tokens: list[str], command: str = "") -> dict[str, Any]:
    """``["prompt='A b'", "chunk=2"]`` → ``{"prompt": "A b", "chunk": 2}``; a bare word is an error."""
    out: dict[str, Any] = {}
    for tok in tokens:
        key, sep, raw = tok.partition("=")
        where = f"{command}: " if command else ""
        if not sep or not key:
            raise MagicSyntaxError(f"{where}expected key=value, got {tok!r}")
        if not key.isidentifier():
            raise MagicSyntaxError(f"{where}field name {key!r} is not a valid name")
        if key in out:
            raise MagicSyntaxError(f"{where}field '{key}' given twice")
        out[key] = parse_value(raw)
    return out


_DURATION = re.compile(r"^(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|sec|secs|seconds|f|frames)?$")


def parse_amount(text: str) -> tuple[int | None, float | None]:
    """``"3s"`` → (None, 3.0) seconds; ``"500ms"`` → (None, 0.5); ``"30"``/``"30f"`` → (30, None) frames."""
    m = _DURATION.match(text.strip().lower())
    if not m:
        raise MagicSyntaxError(
            f"record: expected a duration like 3s or 500ms, or a frame count like 30; got {text!r}"
        )
    number, unit = m.group(1), m.group(2)
    if unit in ("ms",):
        seconds = float(number) / 1000
    elif unit in ("s", "sec", "secs", "seconds"):
        seconds = float(number)
    else:
        if "." in number:
            raise MagicSyntaxError(
                f"record: a frame count must be a whole number, got {text!r} (add s for seconds)"
            )
        count = int(number)
        if count < 1:
            raise MagicSyntaxError("record: the frame count must be at least 1")
        return count, None
    if seconds <= 0:
        raise MagicSyntaxError("record: the duration must be positive")
    return None, seconds


@dataclass(frozen=True)
class ScriptLine:
    """One meaningful line of a ``%%reactor`` cell (1-based ``lineno`` in the cell body)."""

    lineno: int
    text: str


def script_lines(cell: str) -> list[ScriptLine]:
    """Non-blank, non-comment lines of a cell; trailing comments are handled when each line is split."""
    out = []
    for i, line in enumerate(cell.splitlines(), start=1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            out.append(ScriptLine(i, stripped))
    return out


DIRECTIVES = {
    "chunk": "wait until the model's current_chunk reaches N",
    "frame": "wait until the model's current_frame reaches N",
    "sleep": "pause the script for S seconds",
    "timeout": "set the timeout (seconds) of the following @chunk/@frame waits",
}


def parse_directive(text: str) -> tuple[str, float]:
    """``@chunk 3`` → ("chunk", 3). Numbers must be non-negative; chunk/frame whole."""
    tokens = split_raw(text[1:])
    name = tokens[0].lower() if tokens else ""
    if name not in DIRECTIVES:
        known = ", ".join("@" + d for d in DIRECTIVES)
        raise MagicSyntaxError(f"unknown directive {text.split()[0]!r}; known: {known}")
    if len(tokens) != 2:
        raise MagicSyntaxError(
            f"@{name} takes one number, e.g. @{name} {3 if name in ('chunk', 'frame') else 1.5}"
        )
    raw = tokens[1].lower().removesuffix("s") if name in ("sleep", "timeout") else tokens[1]
    try:
        value = float(raw) if name in ("sleep", "timeout") else int(raw)
    except ValueError:
        kind = "a whole number" if name in ("chunk", "frame") else "a number of seconds"
        raise MagicSyntaxError(f"@{name}: expected {kind}, got {tokens[1]!r}") from None
    if value < 0 or (name == "timeout" and value == 0):
        raise MagicSyntaxError(f"@{name}: the value must be positive, got {tokens[1]!r}")
    return name, value

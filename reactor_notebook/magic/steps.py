"""``%reactor step`` and ``%%reactor step``: one step of a stepped session from a notebook cell.

Line form (state as ``key=value``, commands with ``--do``, media from notebook variables)::

    %reactor step prompt="a red fox" seed=7 --do start -o fox
    %reactor step --do "set_color r=1 g=2 b=3" --media webcam=frames
    %reactor step                      # one more step on the model's current state

Cell form: one step whose body lists state lines (``key=value``, one or more per line) and
command lines (``COMMAND [key=value ...]``), in order; commands run after the state::

    %%reactor step -o fox
    prompt="a red fox"
    seed=7
    start

The result (:class:`~reactor_notebook.sdk.steps.StepResult`) is bound to ``-o NAME`` (default
``step_result``) and summarised in one line: step number, frames per track, model time and the
request → arrays latency.
"""

from __future__ import annotations

import shlex
from typing import Any

import numpy as np

from .parse import MagicSyntaxError, parse_kwargs, script_lines, split_raw

DEFAULT_RESULT_NAME = "step_result"
USAGE = (
    "usage: %reactor step [KEY=VALUE ...] [--do 'COMMAND [k=v ...]'] ... [--media TRACK=VARIABLE] ... [-o NAME]"
)


def parse_step_line(rest: str) -> tuple[dict[str, Any], list[tuple[str, dict[str, Any]]], dict[str, str], str]:
    """``%reactor step`` arguments → (state, commands, media variables by track, result name)."""
    try:
        argv = shlex.split(rest, comments=True, posix=True)
    except ValueError as exc:
        raise MagicSyntaxError(f"step: cannot parse {rest!r}: {exc}; {USAGE}") from None
    state_tokens: list[str] = []
    commands: list[tuple[str, dict[str, Any]]] = []
    media: dict[str, str] = {}
    name = DEFAULT_RESULT_NAME
    it = iter(argv)
    for tok in it:
        if tok in ("--do", "--media", "-o", "--out"):
            value = next(it, None)
            if value is None:
                raise MagicSyntaxError(f"step: {tok} needs a value; {USAGE}")
            if tok == "--do":
                commands.append(parse_command(value))
            elif tok == "--media":
                track, sep, var = value.partition("=")
                if not sep or not track or not var.isidentifier():
                    raise MagicSyntaxError(f"step: --media takes TRACK=VARIABLE, got {value!r}")
                media[track] = var
            else:
                if not value.isidentifier():
                    raise MagicSyntaxError(f"step: -o takes a Python name, got {value!r}")
                name = value
        elif tok.startswith("-"):
            raise MagicSyntaxError(f"step: unknown option {tok!r}; {USAGE}")
        else:
            state_tokens.append(tok)
    return parse_kwargs(state_tokens, "step"), commands, media, name


def parse_command(text: str) -> tuple[str, dict[str, Any]]:
    """``"set_color r=1 g=2 b=3"`` → ``("set_color", {"r": 1, "g": 2, "b": 3})``."""
    tokens = split_raw(text)
    if not tokens or "=" in tokens[0]:
        raise MagicSyntaxError(f"step: a command starts with its name, got {text!r}")
    return tokens[0], parse_kwargs(tokens[1:], tokens[0])


def parse_step_cell(cell: str) -> tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]]:
    """The ``%%reactor step`` body → (state, commands); errors name the line."""
    state: dict[str, Any] = {}
    commands: list[tuple[str, dict[str, Any]]] = []
    for sl in script_lines(cell):
        try:
            tokens = split_raw(sl.text)
            if tokens and "=" in tokens[0]:
                for key, value in parse_kwargs(tokens, "step").items():
                    if key in state:
                        raise MagicSyntaxError(f"step: state key '{key}' given twice")
                    state[key] = value
            elif tokens:
                commands.append(parse_command(sl.text))
        except MagicSyntaxError as exc:
            raise MagicSyntaxError(f"line {sl.lineno}: {exc}") from None
    return state, commands


def media_from(namespace: dict[str, Any], media: dict[str, str]) -> dict[str, Any]:
    """Look up ``--media TRACK=VARIABLE`` arrays in the notebook namespace."""
    out: dict[str, Any] = {}
    for track, var in media.items():
        if var not in namespace:
            raise MagicSyntaxError(f"step: --media {track}={var}: no variable {var!r} in the notebook")
        out[track] = namespace[var]
    return out


def summary(result: Any, name: str) -> str:
    """One line: step number, frames per track, model time, request → arrays latency."""
    tracks = ", ".join(
        f"{k} {v.shape[0]} frames {v.shape[2]}x{v.shape[1]}" for k, v in result.frames.items() if isinstance(v, np.ndarray)
    )
    return (
        f"step {result.step}: {tracks or 'no frames'} (model {result.elapsed * 1000:.0f} ms, "
        f"request → arrays {result.latency * 1000:.0f} ms) → `{name}`"
    )


def run_step(
    reactor: Any,
    namespace: dict[str, Any],
    state: dict[str, Any],
    commands: list[tuple[str, dict[str, Any]]],
    media: dict[str, str],
    name: str,
) -> Any:
    """Take the step, bind the result, return the summary line."""
    step_sync = getattr(reactor, "step_sync", None)
    if step_sync is None:
        raise MagicSyntaxError("step: this session object cannot step (not a reactor_notebook Reactor)")
    result = step_sync(state=state, commands=commands, media=media_from(namespace, media) or None)
    namespace[name] = result
    return summary(result, name)

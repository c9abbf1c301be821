"""Tab completion for ``%reactor``: verbs, options, the session's command and field names.

:func:`complete` is pure (given the text before the cursor, what could come next) and
:func:`make_matcher` wraps it as an IPython completion matcher for line and cell magics.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from IPython.core.completer import SimpleCompletion, completion_matcher

from ..profiles import ClientProfile, known_models, profile_for
from ..schema import CommandSpec
from .parse import DIRECTIVES

DEFAULT_MODEL = "helios"  # `%reactor connect` without --model

# The verbs every session has, with their options; a model profile adds its shortcuts.
SESSION_VERBS: dict[str, tuple[str, ...]] = {
    "connect": ("--local", "--api-key-env", "--model", "--url", "--name", "--start", "--exclusive", "--stepped"),
    "status": (),
    "disconnect": ("--recoverable",),
    "reconnect": (),
    "show": ("-o",),
    "commands": (),
    "record": ("-o", "--meta", "--timeout"),
    "send": (),
    "step": ("--do", "--media", "-o"),
    "use": (),
    "help": (),
}


def verb_options(profile: ClientProfile | None = None) -> dict[str, tuple[str, ...]]:
    """Every verb with its options: the session verbs plus ``profile``'s shortcuts (default model's if None)."""
    profile = profile if profile is not None else profile_for(DEFAULT_MODEL)
    return {**SESSION_VERBS, **profile.magic_verbs}


def complete(
    before_cursor: str, commands: list[CommandSpec], verbs: Mapping[str, Sequence[str]] | None = None
) -> list[str]:
    """Candidates for the word under the cursor in a ``%reactor`` line (without the ``%reactor``)."""
    verbs = verb_options() if verbs is None else verbs
    words = before_cursor.split()
    partial = "" if (not before_cursor or before_cursor[-1].isspace()) else words[-1]
    done = words[:-1] if partial else words
    by_name = {c.name: c for c in commands}
    if partial.startswith("@") or (not done and before_cursor.lstrip().startswith("@")):
        return ["@" + d for d in DIRECTIVES if ("@" + d).startswith(partial)]
    if not done:
        return [n for n in sorted(set(verbs) | set(by_name)) if n.startswith(partial)]
    verb = done[0]
    if verb == "send":
        if len(done) == 1:
            return [n for n in sorted(by_name) if n.startswith(partial)]
        verb, done = done[1], done[1:]
    spec = by_name.get(verb)
    if spec is not None and spec.params:
        used = {w.split("=", 1)[0] for w in done[1:]}
        return [p.name + "=" for p in spec.params if p.name not in used and (p.name + "=").startswith(partial)]
    if verb in verbs:
        if done[-1] == "--model" and verb == "connect":
            return [m for m in known_models() if m.startswith(partial)]
        return [o for o in verbs[verb] if o.startswith(partial) and o not in done]
    return []


def make_matcher(
    commands: Callable[[], list[CommandSpec]], verbs: Callable[[], Mapping[str, Sequence[str]]]
) -> Any:
    """An IPython completion matcher offering :func:`complete`'s candidates in ``%reactor`` lines and cells."""

    @completion_matcher(api_version=2, identifier="reactor_notebook.magic")
    def reactor_matcher(context: Any) -> dict[str, Any]:
        """IPython's matcher: ``%reactor`` candidates cut to the token being typed; none outside it."""
        empty: dict[str, Any] = {"completions": [], "suppress": False}
        try:
            rest = _magic_text(context)
            if rest is None:
                return empty
            cands = complete(rest, commands(), verbs())
            words = rest.split()
            partial = "" if (not rest or rest[-1].isspace()) else words[-1]
            token = context.token or ""
            cut = len(partial) - len(token) if partial.endswith(token) else 0
            items = [SimpleCompletion(c[cut:], type="reactor") for c in cands]
            return {"completions": items, "suppress": bool(items)}
        except Exception:  # a completer must never break the kernel's completion
            return empty

    return reactor_matcher


def _magic_text(context: Any) -> str | None:
    """The ``%reactor`` line (or ``%%reactor`` cell line) before the cursor, without the magic; None elsewhere."""
    line = str(context.text_until_cursor)
    stripped = line.lstrip()
    if stripped.startswith("%%reactor "):
        return None  # options line of the cell magic
    if stripped.startswith("%reactor "):
        return stripped[len("%reactor ") :]
    if context.cursor_line > 0 and str(context.full_text).lstrip().startswith("%%reactor"):
        return stripped
    return None

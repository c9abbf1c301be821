"""Error wording for the ``%reactor`` magic: "did you mean", usage lines, and file checks.

Kept apart from the IPython glue (``magics.py``) so each message is built in one place and can be
tested without a shell. :data:`REFERENCE` is what ``%reactor help`` prints.
"""

from __future__ import annotations

import argparse
import difflib
from collections.abc import Iterable

from IPython.core.error import UsageError
from IPython.core.magic_arguments import MagicArgumentParser


class UsageParser(MagicArgumentParser):
    """A ``%reactor VERB`` argument parser whose errors end with the verb's usage line."""

    def error(self, message: str) -> None:  # type: ignore[override]
        """argparse's error hook: raise a ``UsageError`` with the verb's usage, not exit the kernel."""
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


REFERENCE = """The ``%reactor`` IPython magic: connect, drive and record a Reactor session from notebook cells.

Load with ``%load_ext reactor_notebook``. Line magic (``%reactor VERB ...``)::

    %reactor connect [--local | --api-key-env VAR] [--model helios] [--url URL] [--start] [--exclusive] [--name reactor]
    %reactor status | disconnect [--recoverable] | reconnect | show [-o NAME] | commands | use VAR
    %reactor record 3s -o frames          # 3 s of live frames → (N, H, W, 3) uint8 array `frames`
    %reactor record 30 -o frames          # 30 frames (also 500ms, 2.5s)
    %reactor prompt "A sunset" [--chunk 2]     # set_prompt, or schedule_prompt with --chunk
    %reactor start | pause | resume | reset
    %reactor seed 42
    %reactor image path/or/url.png [--blend]   # set_image (file or URL → image_b64); --clear → clear_image
    %reactor set_color r=255 g=0 b=0      # any model command: key=value, values as JSON, then Python
    %reactor send start                   # any command, even one named like a verb above
    %reactor connect --local --stepped    # a stepped session, then one step per call:
    %reactor step prompt="a red fox" seed=7 --do start -o fox   # state, commands → fox.frames

Without ``--api-key-env`` the session is local: ``--url``, else ``$REACTOR_LOCAL_URL``, else
``http://localhost:8080``. ``--local`` (or ``--start`` with a ``--url``) starts the embedded
simulator there first when nothing listens on that loopback address, and says so; otherwise nothing is
started (a mistyped port gets an error, not fake video). A runtime serving another model than
``--model`` is refused naming both; joining a session another client uses prints a note, and
``--exclusive`` refuses to share. API keys are read only from environment variables.

Cell magic ``%%reactor [--timeout 30] [--quiet]`` runs a little script, one line magic per line::

    %%reactor
    # comments start with '#', also after a command (outside quotes)
    seed 7
    prompt "A foggy harbour at dawn"
    schedule_prompt prompt="Boats leave the harbour" chunk=2
    start
    @chunk 2          # wait until state.current_chunk >= 2 (fails after --timeout seconds)
    prompt "Night falls"
    @frame 120        # wait until state.current_frame >= 120
    @timeout 60       # later waits may take up to 60 s
    @sleep 0.5        # plain pause
    pause

Rules: every line is a ``%reactor`` line without the prefix (``%reactor @chunk 3`` works on its own
too). Values of ``key=value`` parse as JSON, then as Python literals, else stay text
(``prompt="42"`` is the string "42"). Commands are validated against the session's schema before
anything is sent, and the whole cell is parsed before its first line runs; a failing line stops the
script with ``line N: <reason>`` (earlier lines have been sent). ``@chunk``/``@frame`` wait on the
model's ``state`` messages (``reactor.frames.state``): Helios sends one at every chunk start and
after each command, so ``@frame N`` returns at the first such report with ``current_frame >= N``,
and the video shows that frame a few frames later (state travels ahead of video). Every call
returns after its own round trip; only ``record`` and the ``@`` waits block for longer, bounded
by their timeouts. Tab completion offers verbs, command names and field names from the session's
capabilities, in line and cell magics.
"""

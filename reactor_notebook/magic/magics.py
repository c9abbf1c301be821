""":class:`ReactorMagics`: the ``%reactor`` / ``%%reactor`` entry point, verb dispatch, ``step``, ``help``, teardown."""

from __future__ import annotations

from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import line_cell_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring

from . import steps
from .base import DEFAULT_WAIT_TIMEOUT, USER_ERRORS, status_name
from .help import REFERENCE
from .model_verbs import ModelVerbs
from .parse import MagicSyntaxError
from .script import ScriptRunner
from .session_verbs import SessionVerbs


@magics_class
class ReactorMagics(SessionVerbs, ModelVerbs, ScriptRunner):
    """``%reactor`` / ``%%reactor``; holds the current session, the widgets and any runtime it started."""

    @magic_arguments()
    @argument(
        "--timeout",
        type=float,
        default=DEFAULT_WAIT_TIMEOUT,
        help="cell magic: seconds each @chunk/@frame may wait",
    )
    @argument("--quiet", action="store_true", help="cell magic: do not echo each command")
    @argument("verb_and_args", nargs="*", help="line magic: VERB [ARGS...] or COMMAND key=value ...")
    @line_cell_magic
    def reactor(self, line: str, cell: str | None = None) -> Any:
        """Drive a Reactor session: connect, status, show, commands, record, prompt, start/pause/resume/reset,
        seed, image, any model command as ``COMMAND key=value``; ``%%reactor`` runs one such line per line
        with ``@chunk N`` / ``@frame N`` waits. ``%reactor help`` prints the full reference.
        """
        if cell is not None:
            head = line.strip()
            if head == "step" or head.startswith("step "):  # %%reactor step [-o NAME]: the cell is one step
                try:
                    return self.do_step(head[4:].strip(), cell)
                except USER_ERRORS as exc:
                    raise UsageError(str(exc)) from None
            opts = parse_argstring(self.reactor, line)
            if opts.verb_and_args:
                raise UsageError(
                    "%%reactor takes only --timeout and --quiet (or `step [-o NAME]`) on its first line; "
                    "commands go in the cell"
                )
            return self.run_script(cell, timeout=opts.timeout, quiet=opts.quiet)
        try:
            return self.run_line(line)
        except USER_ERRORS as exc:
            raise UsageError(str(exc)) from None

    def run_line(self, line: str) -> Any:
        """Dispatch one ``%reactor`` line (also one script line)."""
        text = line.strip()
        if not text or text.startswith("#"):
            return self.help()
        if text.startswith("@"):
            return self.directive(text)
        verb = text.split(None, 1)[0]
        rest = text[len(verb) :].strip()
        if verb in self.profile().transport_commands:
            return self.plain(verb, rest)
        handler = getattr(self, f"do_{verb}", None) if verb in self.verbs() else None
        if handler is not None:
            return handler(rest)
        return self.send_generic(text)

    def do_step(self, rest: str, cell: str | None = None) -> None:
        """``%reactor step ...`` / ``%%reactor step``: one step of a stepped session (``steps.py``)."""
        r = self._require_ready("step")
        try:
            state, commands, media, name = steps.parse_step_line(rest)
            if cell is not None:
                state_cell, commands_cell = steps.parse_step_cell(cell)
                state, commands = {**state, **state_cell}, commands + commands_cell
            self._say(steps.run_step(r, self.shell.user_ns, state, commands, media, name))
        except MagicSyntaxError as exc:
            raise UsageError(str(exc)) from None

    def do_help(self, rest: str) -> None:
        """``help``: the full reference."""
        self.help()

    def help(self) -> None:
        """Print the ``%reactor`` reference."""
        print(REFERENCE)

    def close(self) -> None:
        """Close widgets, disconnect sessions this magic opened, stop the runtime it started."""
        self._close_widgets(keep=None)
        for r in self.opened:
            try:
                if status_name(r) != "disconnected":
                    r.disconnect_sync()
            except Exception:
                pass
        self.opened.clear()
        self.session = None
        if self.runtime is not None:
            try:
                self.runtime.stop()
            except Exception:
                pass
            self.runtime = None

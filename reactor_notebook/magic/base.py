"""What every ``%reactor`` verb shares: the current session, argument splitting, readiness checks, sending.

:class:`MagicsBase` holds the magic's state (session, widgets, started runtime, script settings);
the verb mixins (``session_verbs.py``, ``model_verbs.py``, ``script.py``) build on it.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics
from IPython.core.magic_arguments import MagicArgumentParser
from traitlets import Float

from ..profiles import ClientProfile, profile_for
from ..schema import CommandValidationError, validate_command
from .complete import DEFAULT_MODEL, verb_options
from .help import UsageParser
from .parse import MagicSyntaxError
from .replies import REPLY_WAIT_S, send_and_describe

DEFAULT_WAIT_TIMEOUT = 30.0
# Errors a user can cause or fix; anything else is a bug and keeps its traceback.
USER_ERRORS: tuple[type[BaseException], ...] = (
    CommandValidationError,
    MagicSyntaxError,
    TimeoutError,
    ConnectionError,
    OSError,
    RuntimeError,
    ValueError,
)


def parser(verb: str, description: str) -> MagicArgumentParser:
    """An argument parser for ``%reactor VERB`` whose errors end with the usage line."""
    return UsageParser(prog=f"%reactor {verb}", description=description)


def brief(data: dict[str, Any]) -> str:
    """JSON for display with long strings (base64 images) shortened."""
    shown = {k: (f"<{len(v)} chars>" if isinstance(v, str) and len(v) > 80 else v) for k, v in data.items()}
    return json.dumps(shown, ensure_ascii=False, default=_show_upload)


def _show_upload(value: Any) -> str:
    """A FileRef argument in a command echo: ``<upload NAME, N bytes>``."""
    return f"<upload {value.name}, {value.size} bytes>" if hasattr(value, "upload_id") else str(value)


def status_name(reactor: Any) -> str:
    """The session's status as a lower-case word (``ready``, ``disconnected``, ...)."""
    status = reactor.get_status()
    value = getattr(status, "value", status)
    return str(value).lower()


class MagicsBase(Magics):
    """The magic's state and the helpers every verb uses."""

    shell: Any  # the InteractiveShell (IPython declares it None until set)
    #: Builds the session; tests replace it with a fake (``factory(**kwargs) -> reactor``).
    reactor_factory: Callable[..., Any] | None = None
    #: Starts the embedded runtime; tests replace it (``ensure(model=, port=) -> handle``).
    runtime_ensure: Callable[..., Any] | None = None
    reply_wait = Float(
        REPLY_WAIT_S,
        help="seconds a command waits for the model's reply or rejection before the cell moves on "
        "(`%config ReactorMagics.reply_wait = 1.0`; 0 = fire-and-forget)",
    ).tag(config=True)

    def __init__(self, shell: Any) -> None:
        super().__init__(shell)
        self.session: Any = None
        self.session_name = "reactor"
        self.model: str | None = None  # the model asked for at the last connect
        self.opened: list[Any] = []  # sessions this magic created (disconnected on unload)
        self.runtime: Any = None
        self.widgets: list[Any] = []
        self.wait_timeout = DEFAULT_WAIT_TIMEOUT
        self.quiet = False

    def profile(self) -> ClientProfile:
        """The client profile of the current session's model (the default model's before a session)."""
        model = getattr(self.session, "model_name", None) if self.session is not None else None
        return profile_for(model if isinstance(model, str) else self.model or DEFAULT_MODEL)

    def verbs(self) -> dict[str, tuple[str, ...]]:
        """The verbs of this session: the session verbs plus its model's shortcuts."""
        return verb_options(self.profile())

    def _argv(self, rest: str) -> list[str]:
        try:
            return shlex.split(rest, comments=True)
        except ValueError as exc:
            raise UsageError(f"cannot parse {rest!r}: {exc}") from None

    def _require(self, verb: str) -> Any:
        if self.session is None:
            raise UsageError(f"{verb}: no session yet; run `%reactor connect --local` first")
        return self.session

    def _require_ready(self, verb: str) -> Any:
        r = self._require(verb)
        status = status_name(r)
        if status != "ready":
            raise UsageError(
                f"{verb}: the session is {status}, not ready; run `%reactor connect` or `%reactor reconnect`"
            )
        return r

    def _say(self, text: str) -> None:
        if not self.quiet:
            print(text)

    def send(self, command: str, data: dict[str, Any]) -> None:
        """Validate against the session's schema, send, and wait only for the command round trip."""
        r = self._require_ready(command)
        commands = list(getattr(r, "commands", None) or [])
        if commands:
            data = validate_command(commands, command, data)
        if hasattr(r, "upload_file_sync"):  # too big for one message: images go as uploads
            from ..sdk.large import fit_message

            data = fit_message(r, next((c for c in commands if c.name == command), None), command, data)
        self._say(f"→ {command} {brief(data)}")
        answer = send_and_describe(r, command, data, self.reply_wait, brief)
        if answer:
            print(answer)  # even with --quiet: the model's answer belongs to this cell

"""``%%reactor`` scripts: run a cell line by line, and the ``@chunk``/``@frame``/``@sleep``/``@timeout`` directives.

The whole cell is parsed before its first line runs; a failing line stops the script with
``line N: <reason>``. ``@chunk``/``@frame`` wait on the model's ``state`` messages through the
session's frame buffer, reading the counters the model's profile names.
"""

from __future__ import annotations

import time
from typing import Any

from IPython.core.error import UsageError

from .base import DEFAULT_WAIT_TIMEOUT, USER_ERRORS, MagicsBase
from .parse import MagicSyntaxError, parse_directive, script_lines, split_raw

_LINE_ERRORS: tuple[type[BaseException], ...] = (UsageError, *USER_ERRORS)  # what stops a script at its line


class ScriptRunner(MagicsBase):
    """Runs ``%%reactor`` cells and ``@`` directives; ``run_line`` comes from the class that dispatches verbs."""

    def run_line(self, line: str) -> Any:  # pragma: no cover - ReactorMagics defines it
        """Run one ``%reactor`` line; declared here so scripts can call it, provided by ``ReactorMagics``."""
        raise NotImplementedError

    def run_script(self, cell: str, *, timeout: float = DEFAULT_WAIT_TIMEOUT, quiet: bool = False) -> None:
        """Run a ``%%reactor`` cell line by line; stop at the first failing line."""
        saved = (self.wait_timeout, self.quiet)
        self.wait_timeout, self.quiet = timeout, quiet
        try:
            lines = script_lines(cell)
            for sl in lines:  # parse everything first: a typo on line 5 must not leave lines 1-4 half-applied
                try:
                    if sl.text.startswith("@"):
                        parse_directive(sl.text)
                    else:
                        split_raw(sl.text)
                except MagicSyntaxError as exc:
                    raise UsageError(f"line {sl.lineno}: {exc}") from None
            for sl in lines:
                try:
                    self.run_line(sl.text)
                except _LINE_ERRORS as exc:
                    raise UsageError(f"line {sl.lineno}: {exc}") from None
        finally:
            self.wait_timeout, self.quiet = saved

    def directive(self, text: str) -> None:
        """One ``@name value`` line: set the wait timeout, sleep, or wait for a chunk or frame."""
        try:
            name, value = parse_directive(text)
        except MagicSyntaxError as exc:
            raise UsageError(str(exc)) from None
        if name == "timeout":
            self.wait_timeout = float(value)
        elif name == "sleep":
            time.sleep(value)
        else:
            self._wait_counter(name, int(value))

    def _wait_counter(self, name: str, target: int) -> None:
        """``@chunk N`` / ``@frame N``: block until the model's state reports that counter >= N."""
        r = self._require(f"@{name}")
        frames = getattr(r, "frames", None)
        if frames is None:
            raise UsageError(f"@{name}: this session object has no frame buffer with the model state")
        profile = self.profile()
        key = profile.chunk_key if name == "chunk" else profile.frame_key
        if key is None:
            raise UsageError(f"@{name}: the {profile.name} model reports no {name} counter (Helios does)")

        def reached(state: dict[str, Any]) -> bool:
            """True once the model state's counter is a number at or past the target."""
            v = state.get(key)
            return isinstance(v, (int, float)) and not isinstance(v, bool) and v >= target

        try:
            st = frames.wait_state(reached, timeout=self.wait_timeout)
        except TimeoutError:
            state = frames.state
            if state is None:
                raise UsageError(
                    f"@{name} {target}: no state message from the model within {self.wait_timeout:g} s "
                    "(only models like Helios report chunk/frame state)"
                ) from None
            hint = "" if state.get("running") else " (the model is not running: did you `start`?)"
            raise UsageError(
                f"@{name} {target}: not reached within {self.wait_timeout:g} s; {key} is {state.get(key)}{hint}"
            ) from None
        frame, chunk, _ = profile.counters(st)
        self._say(f"… chunk {chunk}, frame {frame}")

"""Verbs that send model commands: any ``COMMAND key=value``, ``send``, and the model profile's shortcuts.

The shortcuts (``prompt``, ``seed``, ``image``, ``start``/``pause``/``resume``/``reset``) are the
Helios profile's (``reactor_notebook/profiles/helios.py`` lists them); a session whose model has no
such profile reaches its commands as ``COMMAND key=value`` lines.
"""

from __future__ import annotations

from IPython.core.error import UsageError

from .base import MagicsBase, parser
from .help import did_you_mean, unknown_word
from .parse import MagicSyntaxError, parse_kwargs, split_raw


def load_image_b64(source: str, *, timeout: float = 15.0) -> str:
    """A file path, an http(s) URL or a ``data:`` URL → base64 (data URLs pass through); UsageError says why not."""
    from ..sdk import images  # lazily: importing the SDK loads aiortc

    try:
        return images.load_image_b64(source, timeout=timeout)
    except images.ImageSourceError as exc:
        raise UsageError(f"image: {exc}") from None


class ModelVerbs(MagicsBase):
    """``COMMAND key=value``, ``send`` and the profile's shortcut verbs."""

    def send_generic(self, text: str) -> None:
        """Send one ``COMMAND key=value ...`` line, naming close verbs or commands when the word is unknown."""
        try:
            tokens = split_raw(text)
        except MagicSyntaxError as exc:
            raise UsageError(str(exc)) from None
        if not tokens:
            return
        command, verbs = tokens[0], self.verbs()
        if command not in verbs:
            known = {c.name for c in (getattr(self.session, "commands", None) or [])} if self.session else set()
            if (known and command not in known) or (not known and did_you_mean(command, verbs)):
                raise UsageError(unknown_word(command, verbs, known))
        try:
            data = parse_kwargs(tokens[1:], command)
        except MagicSyntaxError as exc:
            raise UsageError(str(exc)) from None
        self.send(command, data)

    def do_send(self, rest: str) -> None:
        """``send COMMAND key=value ...``: any command, even one named like a verb."""
        if not rest.strip():
            raise UsageError("send: usage: %reactor send COMMAND key=value ...")
        try:
            tokens = split_raw(rest)
            data = parse_kwargs(tokens[1:], tokens[0])
        except MagicSyntaxError as exc:
            raise UsageError(str(exc)) from None
        self.send(tokens[0], data)

    # --- Helios shortcuts (listed by profiles/helios.py) --------------------------------------------
    def do_prompt(self, rest: str) -> None:
        """``prompt TEXT [--chunk N]``: set_prompt, or schedule_prompt at chunk N."""
        p = parser("prompt", "set_prompt, or schedule_prompt with --chunk.")
        p.add_argument("text", nargs="+", help="the prompt (quote it or not)")
        p.add_argument("--chunk", type=int, help="schedule at this chunk instead of the next open one")
        args = p.parse_args(self._argv(rest))
        prompt = " ".join(args.text)
        if args.chunk is None:
            self.send("set_prompt", {"prompt": prompt})
        else:
            self.send("schedule_prompt", {"prompt": prompt, "chunk": args.chunk})

    def do_seed(self, rest: str) -> None:
        """``seed N``: set_seed."""
        p = parser("seed", "set_seed.")
        p.add_argument("seed", type=int, help="integer seed (-1: random, reported back)")
        args = p.parse_args(self._argv(rest))
        self.send("set_seed", {"seed": args.seed})

    def do_image(self, rest: str) -> None:
        """``image PATH_OR_URL [--blend]`` / ``image --clear``: set_image or clear_image."""
        p = parser("image", "set_image from a file or URL (or --clear).")
        p.add_argument("source", nargs="?", help="image file path, http(s) URL or data: URL")
        p.add_argument("--blend", action="store_true", help="cross-fade over one chunk instead of a cut")
        p.add_argument("--clear", action="store_true", help="clear_image instead")
        args = p.parse_args(self._argv(rest))
        if args.clear:
            if args.source:
                raise UsageError("image: give a source or --clear, not both")
            self.send("clear_image", {})
            return
        if not args.source:
            raise UsageError("image: usage: %reactor image PATH_OR_URL [--blend]   (or --clear)")
        self._require_ready("set_image")
        self.send(
            "set_image",
            {"image_b64": load_image_b64(args.source), "transition": "blend" if args.blend else "cut"},
        )

    def plain(self, command: str, rest: str) -> None:
        """A profile's transport verb (``start``, ``pause``, ...): send the command, which takes no arguments."""
        if self._argv(rest):
            raise UsageError(f"{command} takes no arguments")
        self.send(command, {})

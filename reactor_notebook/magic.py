"""The ``%reactor`` IPython magic: connect, drive and record a Reactor session from notebook cells.

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

from __future__ import annotations

import base64
import json
import os
import shlex
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

from IPython.core.completer import SimpleCompletion, completion_matcher
from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class
from IPython.core.magic_arguments import MagicArgumentParser, argument, magic_arguments, parse_argstring
from traitlets import Float

from . import magic_steps
from .magic_connect import connect_session, served_model, shared_note
from .magic_help import UsageParser, check_image_path, did_you_mean, unknown_word
from .magic_parse import (
    VERB_OPTIONS,
    MagicSyntaxError,
    complete,
    parse_amount,
    parse_directive,
    parse_kwargs,
    script_lines,
    split_raw,
)
from .magic_replies import REPLY_WAIT_S, send_and_describe
from .schema import CommandSpec, CommandValidationError, validate_command

DEFAULT_LOCAL_URL = "http://localhost:8080"
DEFAULT_API_KEY_ENV = "REACTOR_API_KEY"
DEFAULT_WAIT_TIMEOUT = 30.0
MAX_IMAGE_BYTES = 20 * 1024 * 1024
HELIOS_VERBS = ("start", "pause", "resume", "reset")
_LOOPBACK = ("localhost", "127.0.0.1", "::1", "0.0.0.0")
# Errors a user can cause or fix; anything else is a bug and keeps its traceback.
_USER_ERRORS: tuple[type[BaseException], ...] = (
    CommandValidationError,
    MagicSyntaxError,
    TimeoutError,
    ConnectionError,
    OSError,
    RuntimeError,
    ValueError,
)


def _parser(verb: str, description: str) -> MagicArgumentParser:
    return UsageParser(prog=f"%reactor {verb}", description=description)


def _brief(data: dict[str, Any]) -> str:
    """JSON for display with long strings (base64 images) shortened."""
    shown = {k: (f"<{len(v)} chars>" if isinstance(v, str) and len(v) > 80 else v) for k, v in data.items()}
    return json.dumps(shown, ensure_ascii=False, default=_show_upload)


def _show_upload(value: Any) -> str:
    """A FileRef argument in a command echo: ``<upload NAME, N bytes>``."""
    return f"<upload {value.name}, {value.size} bytes>" if hasattr(value, "upload_id") else str(value)


def _status_name(reactor: Any) -> str:
    status = reactor.get_status()
    value = getattr(status, "value", status)
    return str(value).lower()


def _url_is_loopback(url: str) -> tuple[bool, str, int]:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"connect: --url must look like http://127.0.0.1:8080, got {url!r}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.hostname in _LOOPBACK, parts.hostname, port



def load_image_b64(source: str, *, timeout: float = 15.0) -> str:
    """A file path, an http(s) URL or a ``data:`` URL → base64 (data URLs pass through)."""
    if source.startswith("data:"):
        return source
    if source.startswith(("http://", "https://")):
        req = urllib.request.Request(source, headers={"User-Agent": "reactor-notebook"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                raw = resp.read(MAX_IMAGE_BYTES + 1)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise UsageError(
                f"image: could not download {source}: {reason}. "
                "If this machine is offline, download the image elsewhere and pass its file path."
            ) from None
    else:
        path = check_image_path(source, MAX_IMAGE_BYTES)
        with open(path, "rb") as fh:
            raw = fh.read()
    if len(raw) > MAX_IMAGE_BYTES:
        raise UsageError(f"image: {source} is larger than {MAX_IMAGE_BYTES // (1024 * 1024)} MB")
    if not (
        raw.startswith(b"\x89PNG")
        or raw.startswith(b"\xff\xd8")
        or (raw[:4] == b"RIFF" and raw[8:12] == b"WEBP")
    ):
        raise UsageError(f"image: {source} is not a PNG, JPEG or WebP image")
    return base64.b64encode(raw).decode("ascii")


class CommandTable:
    """The session's commands as a table (HTML in notebooks, text elsewhere)."""

    def __init__(self, commands: list[CommandSpec]) -> None:
        self.commands = commands

    def rows(self) -> list[tuple[str, str, str]]:
        out = []
        for c in self.commands:
            params = []
            for p in c.params:
                extra = []
                if p.minimum is not None or p.maximum is not None:
                    extra.append(
                        f"{p.minimum if p.minimum is not None else ''}..{p.maximum if p.maximum is not None else ''}"
                    )
                if p.enum is not None:
                    extra.append("|".join(map(str, p.enum)))
                if not p.required:
                    extra.append(f"default {p.default!r}")
                params.append(f"{p.name}: {p.type}" + (f" ({', '.join(extra)})" if extra else ""))
            out.append((c.name, ", ".join(params) or "-", c.description))
        return out

    def __repr__(self) -> str:
        rows = [("command", "parameters", "description"), *self.rows()]
        w0 = max(len(r[0]) for r in rows)
        w1 = max(len(r[1]) for r in rows)
        return "\n".join(f"{a:<{w0}}  {b:<{w1}}  {c}".rstrip() for a, b, c in rows)

    def _repr_html_(self) -> str:
        from html import escape

        body = "".join(
            f"<tr><td><code>{escape(a)}</code></td><td>{escape(b)}</td><td>{escape(c)}</td></tr>"
            for a, b, c in self.rows()
        )
        return (
            "<table><thead><tr><th>command</th><th>parameters</th><th>description</th></tr></thead>"
            f"<tbody>{body}</tbody></table>"
        )


@magics_class
class ReactorMagics(Magics):
    """``%reactor`` / ``%%reactor``; holds the current session, the widgets and any runtime it started."""

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
        self.opened: list[Any] = []  # sessions this magic created (disconnected on unload)
        self.runtime: Any = None
        self.widgets: list[Any] = []
        self.wait_timeout = DEFAULT_WAIT_TIMEOUT
        self.quiet = False

    # --- entry point --------------------------------------------------------------------------
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
                except _USER_ERRORS as exc:
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
        except _USER_ERRORS as exc:
            raise UsageError(str(exc)) from None

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
                except (UsageError, *_USER_ERRORS) as exc:
                    raise UsageError(f"line {sl.lineno}: {exc}") from None
        finally:
            self.wait_timeout, self.quiet = saved

    def run_line(self, line: str) -> Any:
        """Dispatch one ``%reactor`` line (also one script line)."""
        text = line.strip()
        if not text or text.startswith("#"):
            return self.help()
        if text.startswith("@"):
            return self.directive(text)
        verb = text.split(None, 1)[0]
        rest = text[len(verb) :].strip()
        handler = getattr(self, f"do_{verb}", None) if verb in VERB_OPTIONS else None
        if handler is not None:
            return handler(rest)
        return self.send_generic(text)

    # --- helpers --------------------------------------------------------------------------------
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
        status = _status_name(r)
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
            from .sdk.large import fit_message

            data = fit_message(r, next((c for c in commands if c.name == command), None), command, data)
        self._say(f"→ {command} {_brief(data)}")
        answer = send_and_describe(r, command, data, self.reply_wait, _brief)
        if answer:
            print(answer)  # even with --quiet: the model's answer belongs to this cell

    def send_generic(self, text: str) -> None:
        try:
            tokens = split_raw(text)
        except MagicSyntaxError as exc:
            raise UsageError(str(exc)) from None
        if not tokens:
            return
        command = tokens[0]
        if command not in VERB_OPTIONS:
            known = {c.name for c in (getattr(self.session, "commands", None) or [])} if self.session else set()
            if (known and command not in known) or (not known and did_you_mean(command, VERB_OPTIONS)):
                raise UsageError(unknown_word(command, VERB_OPTIONS, known))
        try:
            data = parse_kwargs(tokens[1:], command)
        except MagicSyntaxError as exc:
            raise UsageError(str(exc)) from None
        self.send(command, data)

    # --- session verbs --------------------------------------------------------------------------
    def do_connect(self, rest: str) -> Any:
        argv = self._argv(rest)
        if any(a == "--api-key" or a.startswith("--api-key=") or a.startswith("rk_") for a in argv):
            raise UsageError(
                "connect: API keys are never taken from notebook text; put the key in an environment "
                "variable and pass its name: %reactor connect --api-key-env REACTOR_API_KEY"
            )
        p = _parser("connect", "Connect to a local runtime (default) or Reactor cloud.")
        mode = p.add_mutually_exclusive_group()
        mode.add_argument(
            "--local", action="store_true", help="local runtime; started here if nothing listens"
        )
        mode.add_argument(
            "--api-key-env", metavar="VAR", help="cloud: read the API key from this environment variable"
        )
        p.add_argument("--model", default="helios", help="model name (default helios)")
        p.add_argument("--url", help="local runtime URL, or the cloud API URL with --api-key-env")
        p.add_argument("--name", default="reactor", help="variable to bind the session to (default reactor)")
        p.add_argument("--stepped", action="store_true", help="a stepped session: %%reactor step runs each step")
        p.add_argument(
            "--start", action="store_true", help="start the embedded simulator at --url if nothing listens"
        )
        p.add_argument("--exclusive", action="store_true", help="refuse a session other clients use")
        try:
            args = p.parse_args(argv)
        except UsageError as exc:
            reason = str(exc)
            for token in argv:  # never echo values: a pasted secret must not reach the output
                if not token.startswith("-") or "=" in token:
                    reason = reason.replace(token, "<value>")
            raise UsageError(reason) from None
        if not args.name.isidentifier():
            raise UsageError(f"connect: --name must be a Python name, got {args.name!r}")
        if self.session is not None and _status_name(self.session) != "disconnected":
            self._say(
                f"already {_status_name(self.session)}; run `%reactor disconnect` first to switch sessions"
            )
            return None
        factory = self.reactor_factory or _default_factory
        if args.api_key_env:
            key = os.environ.get(args.api_key_env)
            if not key:
                raise UsageError(
                    f"connect: environment variable {args.api_key_env} is not set or empty "
                    "(set it from a secret store, e.g. Colab's userdata, before connecting)"
                )
            kwargs: dict[str, Any] = {"model_name": args.model, "api_key": key}
            if args.url:
                kwargs["api_url"] = args.url
            where = args.url or "Reactor cloud"
        else:
            url = (args.url or os.environ.get("REACTOR_LOCAL_URL") or DEFAULT_LOCAL_URL).rstrip("/")
            self._start_if_asked(url, args)
            kwargs = {"model_name": args.model, "local": True, "local_url": url}
            where = url
        if args.stepped:
            kwargs["generation"] = "stepped"
        if args.exclusive:
            kwargs["exclusive"] = True
        reactor = factory(**kwargs)
        self._close_widgets(keep=None)  # views of an earlier session: free their pump threads and subshells
        self.session, self.session_name = reactor, args.name
        self.opened.append(reactor)
        self.shell.user_ns[args.name] = reactor
        connect_session(reactor, args.model, where)
        info = reactor.get_session_info() if hasattr(reactor, "get_session_info") else None
        model = served_model(info) or args.model
        session = reactor.get_session_id() if hasattr(reactor, "get_session_id") else None
        self._say(f"{_status_name(reactor)}: {model} at {where}, session {session} → `{args.name}`")
        note = shared_note(reactor, where)
        if note:
            self._say(note)
        return None

    def _start_if_asked(self, url: str, args: Any) -> None:
        """Start the embedded runtime at a loopback ``url`` where nothing listens, only if asked."""
        loopback, host, port = _url_is_loopback(url)
        from .runtime.handle import is_listening

        if is_listening(host, port):
            return
        if not (args.local or args.start):
            how = f"add --start to start the embedded {args.model} simulator there" if args.url else (
                f"`%reactor connect --local` starts the embedded {args.model} simulator there"
            )
            raise UsageError(f"connect: nothing listens at {url}; check the URL and port, or {how}")
        if not loopback:
            raise UsageError(
                f"connect: nothing listens at {url}; the embedded simulator is only started on this "
                "machine (a loopback URL such as http://127.0.0.1:8080)"
            )
        ensure = self.runtime_ensure or _default_ensure
        handle = ensure(model=args.model, port=port)
        if handle is not None:
            if self.runtime is None:
                self.runtime = handle
            self._say(
                f"started the embedded runtime serving the simulated {args.model!r} model at {url} "
                "(inside this kernel; it stops with the kernel)"
            )

    def do_use(self, rest: str) -> None:
        argv = self._argv(rest)
        if len(argv) != 1 or not argv[0].isidentifier():
            raise UsageError("use: usage: %reactor use VARIABLE (an existing Reactor in the notebook)")
        obj = self.shell.user_ns.get(argv[0])
        if obj is None or not hasattr(obj, "send_command_sync"):
            raise UsageError(f"use: {argv[0]!r} is not a Reactor session in this notebook")
        self.session, self.session_name = obj, argv[0]
        self._say(f"using `{argv[0]}` ({_status_name(obj)})")

    def do_status(self, rest: str) -> None:
        if self.session is None:
            print("no session; run `%reactor connect --local`")
            return
        from .reprs import rows_text, session_rows

        print(rows_text(session_rows(self.session)))

    def do_disconnect(self, rest: str) -> None:
        p = _parser("disconnect", "Disconnect the session.")
        p.add_argument(
            "--recoverable", action="store_true", help="keep the session alive for %reactor reconnect"
        )
        args = p.parse_args(self._argv(rest))
        r = self._require("disconnect")
        r.disconnect_sync(recoverable=args.recoverable)
        self._say(
            f"{_status_name(r)}"
            + (" (recoverable: `%reactor reconnect` resumes)" if args.recoverable else "")
        )

    def do_reconnect(self, rest: str) -> None:
        self._argv(rest)
        r = self._require("reconnect")
        r.reconnect_sync()
        self._say(f"{_status_name(r)}: session {r.get_session_id() if hasattr(r, 'get_session_id') else ''}")

    def do_show(self, rest: str) -> None:
        p = _parser("show", "Display the live widget.")
        p.add_argument("-o", "--output", help="also bind the widget to this variable")
        args = p.parse_args(self._argv(rest))
        r = self._require("show")
        from IPython.display import display

        from .widget import ReactorWidget

        w = self._widget_for(r, ReactorWidget)
        if args.output:
            self.shell.user_ns[args.output] = w
        display(w)

    def _widget_for(self, reactor: Any, cls: Any) -> Any:
        """The session's one live widget (one pump thread, one subshell), created on first use."""
        for w in self.widgets:
            if w.reactor is reactor and not getattr(w, "_closed", False):
                return w
        w = cls(reactor)
        self.widgets.append(w)
        return w

    def do_commands(self, rest: str) -> CommandTable:
        r = self._require("commands")
        cmds = list(getattr(r, "commands", None) or [])
        if not cmds:
            raise UsageError(f"commands: no command schema yet (session is {_status_name(r)})")
        return CommandTable(cmds)

    def do_record(self, rest: str) -> None:
        p = _parser("record", "Record live frames into an array.")
        p.add_argument("amount", help="3s, 500ms (duration) or 30 (frames)")
        p.add_argument(
            "-o", "--output", default="recording", help="variable for the (N, H, W, 3) uint8 array"
        )
        p.add_argument("--meta", help="variable for a pandas DataFrame of the frames' metadata")
        p.add_argument("--timeout", type=float, help="give up after this many seconds without enough frames")
        args = p.parse_args(self._argv(rest))
        for var in (args.output, args.meta):
            if var is not None and not var.isidentifier():
                raise UsageError(f"record: {var!r} is not a valid variable name")
        n, seconds = parse_amount(args.amount)
        r = self._require_ready("record")
        arr, metas = r.frames.record(n=n, seconds=seconds, timeout=args.timeout, return_meta=True)
        self.shell.user_ns[args.output] = arr
        if args.meta:
            self.shell.user_ns[args.meta] = r.frames.to_dataframe(metas)
        span = metas[-1].arrival_mono - metas[0].arrival_mono if len(metas) > 1 else 0.0
        self._say(
            f"recorded {len(arr)} frames ({arr.shape[2]}x{arr.shape[1]}, {span:.2f} s) → `{args.output}`"
            + (f", metadata → `{args.meta}`" if args.meta else "")
        )

    # --- Helios shortcuts -------------------------------------------------------------------------
    def do_prompt(self, rest: str) -> None:
        p = _parser("prompt", "set_prompt, or schedule_prompt with --chunk.")
        p.add_argument("text", nargs="+", help="the prompt (quote it or not)")
        p.add_argument("--chunk", type=int, help="schedule at this chunk instead of the next open one")
        args = p.parse_args(self._argv(rest))
        prompt = " ".join(args.text)
        if args.chunk is None:
            self.send("set_prompt", {"prompt": prompt})
        else:
            self.send("schedule_prompt", {"prompt": prompt, "chunk": args.chunk})

    def do_seed(self, rest: str) -> None:
        p = _parser("seed", "set_seed.")
        p.add_argument("seed", type=int, help="integer seed (-1: random, reported back)")
        args = p.parse_args(self._argv(rest))
        self.send("set_seed", {"seed": args.seed})

    def do_image(self, rest: str) -> None:
        p = _parser("image", "set_image from a file or URL (or --clear).")
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

    def _plain(self, command: str, rest: str) -> None:
        if self._argv(rest):
            raise UsageError(f"{command} takes no arguments")
        self.send(command, {})

    def do_start(self, rest: str) -> None:
        self._plain("start", rest)

    def do_pause(self, rest: str) -> None:
        self._plain("pause", rest)

    def do_resume(self, rest: str) -> None:
        self._plain("resume", rest)

    def do_reset(self, rest: str) -> None:
        self._plain("reset", rest)

    def do_send(self, rest: str) -> None:
        if not rest.strip():
            raise UsageError("send: usage: %reactor send COMMAND key=value ...")
        try:
            tokens = split_raw(rest)
        except MagicSyntaxError as exc:
            raise UsageError(str(exc)) from None
        try:
            data = parse_kwargs(tokens[1:], tokens[0])
        except MagicSyntaxError as exc:
            raise UsageError(str(exc)) from None
        self.send(tokens[0], data)

    def do_step(self, rest: str, cell: str | None = None) -> None:
        """``%reactor step ...`` / ``%%reactor step``: one step of a stepped session (magic_steps.py)."""
        r = self._require_ready("step")
        try:
            state, commands, media, name = magic_steps.parse_step_line(rest)
            if cell is not None:
                state_cell, commands_cell = magic_steps.parse_step_cell(cell)
                state, commands = {**state, **state_cell}, commands + commands_cell
            self._say(magic_steps.run_step(r, self.shell.user_ns, state, commands, media, name))
        except MagicSyntaxError as exc:
            raise UsageError(str(exc)) from None

    def do_help(self, rest: str) -> None:
        self.help()

    def help(self) -> None:
        print(__doc__)

    # --- script directives ------------------------------------------------------------------------
    def directive(self, text: str) -> None:
        try:
            name, value = parse_directive(text)
        except MagicSyntaxError as exc:
            raise UsageError(str(exc)) from None
        if name == "timeout":
            self.wait_timeout = float(value)
            return
        if name == "sleep":
            time.sleep(value)
            return
        r = self._require(f"@{name}")
        frames = getattr(r, "frames", None)
        if frames is None:
            raise UsageError(f"@{name}: this session object has no frame buffer with the model state")
        key = "current_chunk" if name == "chunk" else "current_frame"
        target = int(value)

        def reached(state: dict[str, Any]) -> bool:
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
        self._say(f"… chunk {st.get('current_chunk')}, frame {st.get('current_frame')}")

    # --- completion -------------------------------------------------------------------------------
    def session_commands(self) -> list[CommandSpec]:
        try:
            return list(getattr(self.session, "commands", None) or []) if self.session is not None else []
        except Exception:  # completion must never raise
            return []

    # --- teardown ---------------------------------------------------------------------------------
    def _close_widgets(self, keep: Any) -> None:
        """Close the widgets of every session but ``keep`` (their sessions are not disconnected)."""
        for w in [w for w in self.widgets if w.reactor is not keep]:
            try:
                w.close(disconnect=False)
            except TypeError:
                w.close()
            except Exception:
                pass
            self.widgets.remove(w)

    def close(self) -> None:
        """Close widgets, disconnect sessions this magic opened, stop the runtime it started."""
        self._close_widgets(keep=None)
        for r in self.opened:
            try:
                if _status_name(r) != "disconnected":
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


def _default_factory(**kwargs: Any) -> Any:
    from .sdk import Reactor

    return Reactor(**kwargs)


def _default_ensure(*, model: str, port: int) -> Any:
    from .runtime import LocalRuntime

    return LocalRuntime.ensure(model=model, port=port)


# ---------------------------------------------------------------------------------------------
# Extension hooks
# ---------------------------------------------------------------------------------------------
_installed: dict[int, tuple[ReactorMagics, Any]] = {}


def _make_matcher(magics: ReactorMagics) -> Any:
    @completion_matcher(api_version=2, identifier="reactor_notebook.magic")
    def reactor_matcher(context: Any) -> dict[str, Any]:
        empty: dict[str, Any] = {"completions": [], "suppress": False}
        try:
            line = context.text_until_cursor
            stripped = line.lstrip()
            if stripped.startswith("%reactor ") or stripped.startswith("%%reactor "):
                if stripped.startswith("%%"):
                    return empty  # options line of the cell magic
                rest = stripped[len("%reactor ") :]
            elif context.cursor_line > 0 and context.full_text.lstrip().startswith("%%reactor"):
                rest = line.lstrip()
            else:
                return empty
            cands = complete(rest, magics.session_commands())
            words = rest.split()
            partial = "" if (not rest or rest[-1].isspace()) else words[-1]
            token = context.token or ""
            cut = len(partial) - len(token) if partial.endswith(token) else 0
            items = [SimpleCompletion(c[cut:], type="reactor") for c in cands]
            return {"completions": items, "suppress": bool(items)}
        except Exception:  # a completer must never break the kernel's completion
            return empty

    return reactor_matcher


def load_ipython_extension(ipython: Any) -> None:
    """Register ``%reactor``/``%%reactor`` and its completer once per shell (idempotent)."""
    if id(ipython) in _installed:
        return
    magics = ReactorMagics(ipython)
    ipython.register_magics(magics)
    matcher = _make_matcher(magics)
    completer = getattr(ipython, "Completer", None)
    if completer is not None:
        completer.custom_matchers.append(matcher)
    _installed[id(ipython)] = (magics, matcher)


def unload_ipython_extension(ipython: Any) -> None:
    """Remove the magics and completer, disconnect what they opened (idempotent)."""
    entry = _installed.pop(id(ipython), None)
    if entry is None:
        return
    magics, matcher = entry
    magics.close()
    manager = ipython.magics_manager
    for kind in ("line", "cell"):
        if manager.magics[kind].get("reactor") is not None:
            manager.magics[kind].pop("reactor", None)
    manager.registry.pop(type(magics).__name__, None)
    completer = getattr(ipython, "Completer", None)
    if completer is not None and matcher in completer.custom_matchers:
        completer.custom_matchers.remove(matcher)


def get_magics(ipython: Any) -> ReactorMagics | None:
    """The loaded :class:`ReactorMagics` of a shell (for tests and advanced use)."""
    entry = _installed.get(id(ipython))
    return entry[0] if entry else None

"""Verbs about the session itself: connect, use, status, disconnect, reconnect, show, commands, record."""

from __future__ import annotations

from typing import Any

from IPython.core.error import UsageError

from ..schema import CommandSpec
from .base import MagicsBase, parser, status_name
from .connect import (
    cloud_kwargs,
    connect_args,
    connect_session,
    local_url,
    served_model,
    shared_note,
    start_needed,
)
from .parse import parse_amount
from .table import CommandTable


def _default_factory(**kwargs: Any) -> Any:
    from ..sdk import Reactor

    return Reactor(**kwargs)


def _default_ensure(*, model: str, port: int) -> Any:
    from ..runtime import LocalRuntime

    return LocalRuntime.ensure(model=model, port=port)


class SessionVerbs(MagicsBase):
    """``connect``, ``use``, ``status``, ``disconnect``, ``reconnect``, ``show``, ``commands``, ``record``."""

    def do_connect(self, rest: str) -> None:
        """Create a session (local runtime by default, cloud with ``--api-key-env``), bind it and connect."""
        args = connect_args(self._argv(rest))
        if self.session is not None and status_name(self.session) != "disconnected":
            self._say(f"already {status_name(self.session)}; run `%reactor disconnect` first to switch sessions")
            return
        if args.api_key_env:
            kwargs, where = cloud_kwargs(args)
        else:
            where = local_url(args)
            self._start_if_asked(where, args)
            kwargs = {"model_name": args.model, "local": True, "local_url": where}
        if args.stepped:
            kwargs["generation"] = "stepped"
        if args.exclusive:
            kwargs["exclusive"] = True
        reactor = (self.reactor_factory or _default_factory)(**kwargs)
        self._close_widgets(keep=None)  # views of an earlier session: free their pump threads and subshells
        self.session, self.session_name, self.model = reactor, args.name, args.model
        self.opened.append(reactor)
        self.shell.user_ns[args.name] = reactor
        connect_session(reactor, args.model, where)
        info = reactor.get_session_info() if hasattr(reactor, "get_session_info") else None
        model = served_model(info) or args.model
        session = reactor.get_session_id() if hasattr(reactor, "get_session_id") else None
        self._say(f"{status_name(reactor)}: {model} at {where}, session {session} → `{args.name}`")
        note = shared_note(reactor, where)
        if note:
            self._say(note)

    def _start_if_asked(self, url: str, args: Any) -> None:
        """Start the embedded runtime at a loopback ``url`` where nothing listens, only if asked."""
        port = start_needed(url, args)
        if port is None:
            return
        handle = (self.runtime_ensure or _default_ensure)(model=args.model, port=port)
        if handle is not None:
            if self.runtime is None:
                self.runtime = handle
            self._say(
                f"started the embedded runtime serving the simulated {args.model!r} model at {url} "
                "(inside this kernel; it stops with the kernel)"
            )

    def do_use(self, rest: str) -> None:
        """``use VARIABLE``: drive an existing Reactor of the notebook."""
        argv = self._argv(rest)
        if len(argv) != 1 or not argv[0].isidentifier():
            raise UsageError("use: usage: %reactor use VARIABLE (an existing Reactor in the notebook)")
        obj = self.shell.user_ns.get(argv[0])
        if obj is None or not hasattr(obj, "send_command_sync"):
            raise UsageError(f"use: {argv[0]!r} is not a Reactor session in this notebook")
        self.session, self.session_name = obj, argv[0]
        self._say(f"using `{argv[0]}` ({status_name(obj)})")

    def do_status(self, rest: str) -> None:
        """``status``: the session's status rows."""
        if self.session is None:
            print("no session; run `%reactor connect --local`")
            return
        from ..reprs import rows_text, session_rows

        print(rows_text(session_rows(self.session)))

    def do_disconnect(self, rest: str) -> None:
        """``disconnect [--recoverable]``."""
        p = parser("disconnect", "Disconnect the session.")
        p.add_argument("--recoverable", action="store_true", help="keep the session alive for %reactor reconnect")
        args = p.parse_args(self._argv(rest))
        r = self._require("disconnect")
        r.disconnect_sync(recoverable=args.recoverable)
        self._say(
            f"{status_name(r)}" + (" (recoverable: `%reactor reconnect` resumes)" if args.recoverable else "")
        )

    def do_reconnect(self, rest: str) -> None:
        """``reconnect``: resume a recoverable session."""
        self._argv(rest)
        r = self._require("reconnect")
        r.reconnect_sync()
        self._say(f"{status_name(r)}: session {r.get_session_id() if hasattr(r, 'get_session_id') else ''}")

    def do_show(self, rest: str) -> None:
        """``show [-o NAME]``: display the session's live widget."""
        p = parser("show", "Display the live widget.")
        p.add_argument("-o", "--output", help="also bind the widget to this variable")
        args = p.parse_args(self._argv(rest))
        r = self._require("show")
        from IPython.display import display

        from ..widget import ReactorWidget

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

    def do_commands(self, rest: str) -> CommandTable:
        """``commands``: the session's commands as a table."""
        r = self._require("commands")
        cmds = list(getattr(r, "commands", None) or [])
        if not cmds:
            raise UsageError(f"commands: no command schema yet (session is {status_name(r)})")
        return CommandTable(cmds)

    def session_commands(self) -> list[CommandSpec]:
        """The session's command specs for completion ([] without a session; never raises)."""
        try:
            return list(getattr(self.session, "commands", None) or []) if self.session is not None else []
        except Exception:  # completion must never raise
            return []

    def do_record(self, rest: str) -> None:
        """``record AMOUNT [-o NAME] [--meta NAME] [--timeout S]``: live frames into a notebook array."""
        p = parser("record", "Record live frames into an array.")
        p.add_argument("amount", help="3s, 500ms (duration) or 30 (frames)")
        p.add_argument("-o", "--output", default="recording", help="variable for the (N, H, W, 3) uint8 array")
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

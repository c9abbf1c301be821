"""``%reactor commands``: the session's commands as a table (HTML in notebooks, text elsewhere)."""

from __future__ import annotations

from ..schema import CommandSpec


class CommandTable:
    """The session's commands as a table (HTML in notebooks, text elsewhere)."""

    def __init__(self, commands: list[CommandSpec]) -> None:
        self.commands = commands

    def rows(self) -> list[tuple[str, str, str]]:
        """One (name, parameters, description) row per command, parameters with range, choices and default."""
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

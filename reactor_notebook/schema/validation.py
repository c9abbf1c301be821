"""Argument validation against a :class:`CommandSpec`, with one wording for every layer's errors."""

from __future__ import annotations

import math
from typing import Any

from .spec import CommandSpec, CommandValidationError, ParamSpec


# ---------------------------------------------------------------------------------------------
# Validation (shared by SDK, runtime, widget and magic)
# ---------------------------------------------------------------------------------------------
def _show(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _check_number(cmd: str, p: ParamSpec, value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise CommandValidationError(
            cmd, "wrong_type", f"expected {p.type}, got {type(value).__name__} {_show(value)}", p.name
        )
    if isinstance(value, float) and not math.isfinite(value):
        raise CommandValidationError(cmd, "invalid_value", f"expected a finite {p.type}, got {value!r}", p.name)
    if p.type == "integer":
        if isinstance(value, float):
            if not value.is_integer():
                raise CommandValidationError(
                    cmd, "wrong_type", f"expected integer, got non-integral number {value!r}", p.name
                )
            value = int(value)
    lo, hi = p.minimum, p.maximum
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        rng = f"{_fmt(lo)} to {_fmt(hi)}" if lo is not None and hi is not None else (
            f">= {_fmt(lo)}" if lo is not None else f"<= {_fmt(hi)}"
        )
        raise CommandValidationError(cmd, "out_of_range", f"value {value!r} is out of range ({rng})", p.name)
    return value


def _fmt(x: float | None) -> str:
    if x is None:
        return "?"
    return str(int(x)) if float(x).is_integer() else str(x)


def _check_string(cmd: str, p: ParamSpec, value: Any) -> str:
    if not isinstance(value, str):
        raise CommandValidationError(
            cmd, "wrong_type", f"expected string, got {type(value).__name__} {_show(value)}", p.name
        )
    n = len(value)
    if p.min_length is not None and n < p.min_length:
        raise CommandValidationError(
            cmd, "out_of_range", f"length {n} is below the minimum length {p.min_length}", p.name
        )
    if p.max_length is not None and n > p.max_length:
        raise CommandValidationError(
            cmd, "out_of_range", f"length {n} exceeds the maximum length {p.max_length}", p.name
        )
    return value


def _same_enum_value(value: Any, member: Any) -> bool:
    """Equal and of a compatible JSON type (so True never matches 1 and "1" never matches 1)."""
    numeric = (int, float)
    if isinstance(value, bool) or isinstance(member, bool):
        return type(value) is type(member) and value == member
    if isinstance(value, numeric) and isinstance(member, numeric):
        return value == member
    return type(value) is type(member) and value == member


def validate_param(command: str, p: ParamSpec, value: Any) -> Any:
    """Check one value against its spec; return it normalised (integral floats → int)."""
    if value is None and p.nullable:
        return None
    if p.enum is not None:
        if not any(_same_enum_value(value, e) for e in p.enum):
            allowed = ", ".join(repr(e) for e in p.enum)
            raise CommandValidationError(
                command, "not_in_enum", f"value {_show(value)} is not one of: {allowed}", p.name
            )
        return value
    if p.type in ("integer", "number"):
        return _check_number(command, p, value)
    if p.type == "string":
        return _check_string(command, p, value)
    if p.type == "boolean":
        if not isinstance(value, bool):
            raise CommandValidationError(
                command, "wrong_type", f"expected boolean, got {type(value).__name__} {_show(value)}", p.name
            )
        return value
    return value  # uploads and raw JSON are checked by whoever consumes them


def validate_command(
    commands: list[CommandSpec] | dict[str, CommandSpec],
    command: str,
    data: Any,
    *,
    fill_defaults: bool = False,
    uploads: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Validate ``data`` for ``command``; return normalised arguments or raise CommandValidationError.

    Checks, in order: known command, object body, unexpected fields, missing required
    fields, then each value's type, range, length and enum.
    """
    table = commands if isinstance(commands, dict) else {c.name: c for c in commands}
    spec = table.get(command)
    if spec is None:
        known = ", ".join(sorted(table)) or "(none)"
        raise CommandValidationError(
            command, "unknown_command", f"unknown command {command!r}; known commands: {known}"
        )
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise CommandValidationError(
            command, "wrong_type", f"arguments must be an object, got {type(data).__name__} {_show(data)}"
        )
    uploads = uploads or {}
    _check_field_names(spec, command, data, uploads)
    out: dict[str, Any] = {}
    grouped = {n for group in spec.one_of for n in group}
    for p in spec.params:
        if p.name in data:
            out[p.name] = validate_param(command, p, data[p.name])
        elif p.name in uploads:
            continue
        elif p.required and p.name not in grouped:
            hint = f" ({p.type})" if p.type != "json" else ""
            raise CommandValidationError(command, "missing_field", f"required field is missing{hint}", p.name)
        elif fill_defaults and not p.required:
            out[p.name] = p.default
    _check_one_of(spec, command, data, uploads)
    return out


def _check_field_names(spec: CommandSpec, command: str, data: dict[str, Any], uploads: dict[str, Any]) -> None:
    """Every argument names a parameter, and every upload names an upload parameter."""
    names = {p.name for p in spec.params}
    for key in data:
        if key not in names:
            allowed = ", ".join(sorted(names)) or "none"
            raise CommandValidationError(
                command, "unexpected_field", f"unexpected field; allowed fields: {allowed}", str(key)
            )
    for key in uploads:
        p = spec.param(key)
        if p is None or not p.is_upload:
            raise CommandValidationError(command, "unexpected_field", "this field does not take an upload", key)


def _check_one_of(spec: CommandSpec, command: str, data: dict[str, Any], uploads: dict[str, Any]) -> None:
    """Exactly one parameter of each one-of group is given (as an argument or an upload)."""
    for group in spec.one_of:
        present = [n for n in group if n in data or n in uploads]
        if len(present) != 1:
            what = "both" if present else "neither"
            raise CommandValidationError(
                command,
                "invalid_value",
                f"give exactly one of {' or '.join(repr(n) for n in group)} ({what} given)",
                group[0] if not present else present[-1],
            )

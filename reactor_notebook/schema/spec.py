"""The command model: parameters, commands and the validation error every layer reports.

Models declare commands as :class:`CommandSpec`; clients normalise what a runtime serves back
into the same classes, so the SDK, the runtime, the widget forms and the magic share one model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PARAM_TYPES = ("integer", "number", "string", "boolean", "upload", "json")
UPLOAD_REF_NAME = "ReactorUploadReference"


@dataclass(frozen=True)
class ParamSpec:
    """One command parameter, normalised from either schema format."""

    name: str
    type: str = "string"
    required: bool = True
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    enum: tuple[Any, ...] | None = None
    description: str = ""
    is_upload: bool = False
    format: str | None = None  # UI hints: "image-base64", "multiline", ...
    nullable: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (used by the widget front end and the magic's tables)."""
        return {
            "name": self.name,
            "type": self.type,
            "required": self.required,
            "default": self.default,
            "minimum": self.minimum,
            "maximum": self.maximum,
            "minLength": self.min_length,
            "maxLength": self.max_length,
            "enum": list(self.enum) if self.enum is not None else None,
            "description": self.description,
            "is_upload": self.is_upload,
            "format": self.format,
        }


@dataclass(frozen=True)
class CommandSpec:
    """A model command with its parameters in declaration order."""

    name: str
    description: str = ""
    params: tuple[ParamSpec, ...] = ()
    # Exactly one of these parameter groups must be present (e.g. set_image: image_b64 | image).
    one_of: tuple[tuple[str, ...], ...] = field(default=())
    reply: str | None = None  # the message type the model answers this command with, if any

    def param(self, name: str) -> ParamSpec | None:
        """The parameter called ``name``, or None."""
        for p in self.params:
            if p.name == name:
                return p
        return None

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (used by the widget front end and the magic)."""
        return {"name": self.name, "description": self.description, "params": [p.to_dict() for p in self.params]}


class CommandValidationError(ValueError):
    """A command argument that breaks the schema; names command, field and reason."""

    def __init__(self, command: str, reason: str, message: str, field: str | None = None) -> None:
        self.command = command
        self.field = field
        self.reason = reason
        self.explanation = message
        where = f"{command}: field '{field}': " if field else f"{command}: "
        super().__init__(where + message)

    @property
    def message(self) -> str:
        """The full message, prefixed with the command (and field) it concerns."""
        return str(self)

    def to_dict(self) -> dict[str, Any]:
        """The ``command_error`` fields: command, field, reason and the full message."""
        return {"command": self.command, "field": self.field, "reason": self.reason, "message": str(self)}



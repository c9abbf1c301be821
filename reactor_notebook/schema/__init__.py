"""Command schemas: one parameter model, both wire formats, and validation.

Models declare commands as :class:`CommandSpec` (:mod:`.spec`); the runtime serves them as legacy
capabilities (format A) and as an OpenAPI 3.1 document (format B), and clients normalise whichever
they receive back into CommandSpecs (:mod:`.wire_formats`), then validate arguments with
:func:`validate_command` (:mod:`.validation`) before sending, so the SDK, the runtime, the widget
forms and the magic all share one set of rules and one error wording.
"""

from __future__ import annotations

from .spec import PARAM_TYPES, UPLOAD_REF_NAME, CommandSpec, CommandValidationError, ParamSpec
from .validation import validate_command, validate_param
from .wire_formats import (
    commands_from_legacy,
    commands_from_openapi,
    legacy_capabilities,
    normalize_commands,
    openapi_schema,
    tracks_from_openapi,
)

__all__ = [
    "PARAM_TYPES",
    "UPLOAD_REF_NAME",
    "CommandSpec",
    "CommandValidationError",
    "ParamSpec",
    "commands_from_legacy",
    "commands_from_openapi",
    "legacy_capabilities",
    "normalize_commands",
    "openapi_schema",
    "tracks_from_openapi",
    "validate_command",
    "validate_param",
]

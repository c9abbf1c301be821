"""The Helios command spec: command names, fields, limits, message shapes and rejection wording.

What a client may send the simulated Helios and what it answers, apart from the state machine
(:mod:`.helios_sim`) that applies them: chunks of 33 frames, three output scales, the legacy
and typed message families and the checks the generic schema cannot state (blank prompts, images).
"""

from __future__ import annotations

from typing import Any

from ...schema import CommandSpec, CommandValidationError, ParamSpec

__all__ = [
    "BASE_HEIGHT",
    "BASE_WIDTH",
    "BY_NAME",
    "CHUNK_FRAMES",
    "COMMANDS",
    "MAX_SEED",
    "MESSAGE_MODES",
    "SR_FACTORS",
    "SR_SCALES",
    "TYPED_NAME",
    "check_prompt",
    "message_schemas",
]

BASE_WIDTH = 640  # output size without super-resolution; SR_FACTORS scales it
BASE_HEIGHT = 384
SR_FACTORS: dict[str, int] = {"off": 1, "2x": 2, "4x": 4}
CHUNK_FRAMES = 33
MAX_PROMPT_LENGTH = 2000
MAX_CHUNK = 1_000_000
MAX_SEED = 4_294_967_295
MESSAGE_MODES = ("legacy", "typed", "both")
SR_SCALES = ("off", "2x", "4x")
TRANSITIONS = ("cut", "blend")


# ---------------------------------------------------------------------------------------------
# Command schema
# ---------------------------------------------------------------------------------------------
def _prompt() -> ParamSpec:
    return ParamSpec(
        "prompt",
        "string",
        min_length=1,
        max_length=MAX_PROMPT_LENGTH,
        description=f"Text prompt (1-{MAX_PROMPT_LENGTH} characters, not blank)",
        format="multiline",
    )


def _image_params() -> tuple[ParamSpec, ...]:
    return (
        ParamSpec(
            "image_b64",
            "string",
            min_length=1,
            description="Base64 PNG/JPEG/WebP, raw or as a data: URL, at most 4096 px per side (or use 'image')",
            format="image-base64",
        ),
        ParamSpec(
            "image", "upload", is_upload=True, description="Uploaded PNG/JPEG/WebP (or use 'image_b64')"
        ),
        ParamSpec(
            "transition",
            "string",
            required=False,
            default="cut",
            enum=TRANSITIONS,
            description="'cut' switches at the chunk start; 'blend' cross-fades over that chunk's 33 frames",
        ),
    )


IMAGE_GROUP = (("image_b64", "image"),)

COMMANDS: list[CommandSpec] = [
    CommandSpec(
        "set_prompt",
        "Set the prompt at the first open chunk (chunk 0 before start, current chunk if paused, next if running)",
        (_prompt(),),
    ),
    CommandSpec(
        "schedule_prompt",
        "Schedule a prompt to start at a chunk index",
        (
            _prompt(),
            ParamSpec(
                "chunk",
                "integer",
                minimum=0,
                maximum=MAX_CHUNK,
                description="0-based chunk index (33 frames each)",
            ),
        ),
    ),
    CommandSpec(
        "set_image",
        "Set the reference image from the first open chunk on",
        _image_params(),
        one_of=IMAGE_GROUP,
    ),
    CommandSpec("clear_image", "Remove the reference image from the first open chunk on", ()),
    CommandSpec(
        "set_conditioning",
        "Set prompt and reference image together at the first open chunk",
        (_prompt(), *_image_params()),
        one_of=IMAGE_GROUP,
    ),
    CommandSpec(
        "set_image_strength",
        "Weight of the reference image from the first open chunk on",
        (
            ParamSpec(
                "image_strength", "number", minimum=0.0, maximum=1.0, description="0.0 (ignore) to 1.0 (full)"
            ),
        ),
    ),
    CommandSpec(
        "set_sr_scale",
        "Super-resolution from the first open chunk on: off 640x384, 2x 1280x768, 4x 2560x1536",
        (ParamSpec("sr_scale", "string", enum=SR_SCALES, description="Output scale"),),
    ),
    CommandSpec(
        "set_seed",
        "Set the RNG seed used by the next start (-1 draws a random seed)",
        (
            ParamSpec(
                "seed", "integer", minimum=-1, maximum=MAX_SEED, description=f"-1 (random) or 0-{MAX_SEED}"
            ),
        ),
    ),
    CommandSpec("start", "Start generation (needs a prompt at chunk 0)", ()),
    CommandSpec("pause", "Pause generation at the end of the current chunk", ()),
    CommandSpec("resume", "Resume generation (cancels a pending pause)", ()),
    CommandSpec(
        "reset", "Stop at once; clear prompts, image and counters (keeps seed, strength, sr_scale)", ()
    ),
]
BY_NAME = {c.name: c for c in COMMANDS}

# Legacy event name -> typed message name (None: that family has no such message).
TYPED_NAME: dict[str, str | None] = {
    "generation_started": "generation_started",
    "generation_paused": "generation_paused",
    "generation_resumed": "generation_resumed",
    "generation_reset": None,
    "prompt_scheduled": "prompt_accepted",
    "prompt_switched": None,
    "image_set": "image_accepted",
    "image_cleared": None,
    "seed_set": None,
    "error": "command_error",
}


_INT, _STR, _BOOL, _NUM = ({"type": t} for t in ("integer", "string", "boolean", "number"))
_STR_OR_NULL = {"type": ["string", "null"]}


def _state_schema() -> dict[str, Any]:
    """The ``state`` message: the simulation's whole observable state."""
    return {
        "type": "object",
        "properties": {
            "running": _BOOL,
            "paused": _BOOL,
            "started": _BOOL,
            "current_frame": _INT,
            "current_chunk": _INT,
            "current_prompt": _STR_OR_NULL,
            "scheduled_prompts": {"type": "object", "additionalProperties": _STR},
            "image_set": _BOOL,
            "seed": _INT,
            "image_strength": _NUM,
            "sr_scale": {"type": "string", "enum": list(SR_SCALES)},
            "pause_pending": _BOOL,
        },
    }


def _event_schema() -> dict[str, Any]:
    """The legacy ``event`` message: one shape for every event name, fields per event."""
    fields = {
        "prompt": _STR,
        "seed": _INT,
        "frame": _INT,
        "chunk": _INT,
        "new_prompt": _STR,
        "previous_prompt": _STR_OR_NULL,
        "width": _INT,
        "height": _INT,
        "transition": _STR,
        "downscaled": _BOOL,
    }
    properties = {"event": {"type": "string", "enum": sorted(TYPED_NAME)}, **fields}
    return {"type": "object", "properties": {**properties, **_error_fields()}, "required": ["event"]}


def _error_fields() -> dict[str, Any]:
    return {"command": _STR, "field": _STR_OR_NULL, "reason": _STR, "message": _STR}


def message_schemas() -> dict[str, dict[str, Any]]:
    """JSON schemas of the outbound messages (for the OpenAPI ``webhooks``)."""
    return {
        "state": _state_schema(),
        "event": _event_schema(),
        "command_error": {"type": "object", "properties": _error_fields(), "required": ["command", "reason"]},
        "conditions_ready": {
            "type": "object",
            "properties": {"has_image": _BOOL},
            "required": ["has_image"],
        },
        "chunk_complete": {"type": "object", "properties": {"chunk": _INT, "frame": _INT}},
    }


# ---------------------------------------------------------------------------------------------
# Rules the schema cannot state
# ---------------------------------------------------------------------------------------------
def check_prompt(command: str, prompt: str) -> str:
    """The prompt, or a rejection when it is blank (the schema already bounds its length)."""
    if not prompt.strip():
        raise CommandValidationError(
            command,
            "invalid_value",
            f"value {prompt[:20]!r} is blank; a prompt needs at least one non-whitespace character",
            "prompt",
        )
    return prompt

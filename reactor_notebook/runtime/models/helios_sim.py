"""The simulated Helios as a pure state machine: commands in, messages and frames out.

No transport, no threads, no clocks: :class:`HeliosSim` advances one frame per
:meth:`HeliosSim.step`, so a recorded command sequence (applied at the same frame counts)
replays to byte-identical frames. The runtime's :class:`~.helios.HeliosModel` wraps it.
What may be sent and the rejection wording live in :mod:`.helios_spec`: chunks of 33 frames,
conditioning latched at each chunk start from the first open chunk on, pause at the chunk
boundary, and the legacy and typed message families.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from typing import Any

from ...media import Frame
from ...schema import CommandValidationError, validate_command
from .base import rejection_messages
from .helios_images import RefImage, check_image
from .helios_render import Look, Renderer
from .helios_spec import (
    BASE_HEIGHT,
    BASE_WIDTH,
    BY_NAME,
    CHUNK_FRAMES,
    MAX_SEED,
    MESSAGE_MODES,
    SR_FACTORS,
    SR_SCALES,
    TYPED_NAME,
    check_prompt,
)

__all__ = ["LOOK_HISTORY", "HeliosSim"]

LOOK_HISTORY = 64  # latched chunks kept for render(); bounds memory held by old reference images

Message = dict[str, Any]


# ---------------------------------------------------------------------------------------------
# The state machine
# ---------------------------------------------------------------------------------------------
class HeliosSim:
    """Deterministic Helios: ``apply`` commands, ``step`` one frame at a time, ``render`` any latched frame.

    ``apply`` and ``step`` return the application messages to broadcast, in order.
    ``apply`` raises :class:`CommandValidationError` for a rejected command and then has
    changed nothing; :meth:`error_messages` turns that error into the messages to send.
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        messages: str = "legacy",
        max_sr_scale: str = "2x",
        entropy: Callable[[], int] | None = None,
    ) -> None:
        if messages not in MESSAGE_MODES:
            raise ValueError(f"messages must be one of {', '.join(MESSAGE_MODES)}, got {messages!r}")
        if max_sr_scale not in SR_SCALES:
            raise ValueError(f"max_sr_scale must be one of {', '.join(SR_SCALES)}, got {max_sr_scale!r}")
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
            raise ValueError(f"seed must be an integer 0-{MAX_SEED}, got {seed!r}")
        self.messages = messages
        self.max_sr_scale = max_sr_scale
        self.renderer = Renderer(CHUNK_FRAMES)
        self._entropy = entropy or (lambda: secrets.randbelow(MAX_SEED + 1))
        # Settings that survive reset.
        self.seed = seed
        self.image_strength = 1.0
        self.sr_requested = "off"
        self._out: list[Message] = []
        self._clear()

    def _clear(self) -> None:
        """Everything reset clears: prompts, image, counters, latched chunks, held frame."""
        self.scheduled: dict[int, str] = {}
        self.image: RefImage | None = None
        self._pending_transition = "cut"
        self.started = False
        self.running = False
        self.paused = False
        self.pause_pending = False
        self.current_frame = 0
        self.active_seed = self.seed
        self.looks: dict[int, Look] = {}
        self._last_frame: Frame | None = None

    # --- derived values ----------------------------------------------------------------------
    @property
    def current_chunk(self) -> int:
        """The chunk the next generated frame belongs to."""
        return self.current_frame // CHUNK_FRAMES

    @property
    def first_open_chunk(self) -> int:
        """The earliest chunk whose conditioning can still change (the next one while running)."""
        return self.current_chunk + 1 if self.running else self.current_chunk

    @property
    def sr_scale(self) -> str:
        """The effective super-resolution setting (requested, clamped to ``max_sr_scale``)."""
        if SR_FACTORS[self.sr_requested] > SR_FACTORS[self.max_sr_scale]:
            return self.max_sr_scale
        return self.sr_requested

    @property
    def output_size(self) -> tuple[int, int]:
        """(width, height) of frames for the first open chunk's super-resolution setting."""
        f = SR_FACTORS[self.sr_scale]
        return BASE_WIDTH * f, BASE_HEIGHT * f

    @property
    def current_prompt(self) -> str | None:
        """Prompt of the latest latched chunk, or None."""
        if not self.looks:
            return None
        return self.looks[max(self.looks)].prompt

    def effective_prompt(self, chunk: int) -> str | None:
        """The scheduled prompt with the largest index ≤ ``chunk``."""
        best = max((k for k in self.scheduled if k <= chunk), default=None)
        return None if best is None else self.scheduled[best]

    def state(self) -> dict[str, Any]:
        """The ``state`` message data."""
        return {
            "running": self.running,
            "paused": self.paused,
            "started": self.started,
            "current_frame": self.current_frame,
            "current_chunk": self.current_chunk,
            "current_prompt": self.current_prompt,
            "scheduled_prompts": {str(k): self.scheduled[k] for k in sorted(self.scheduled)},
            "image_set": self.image is not None,
            "seed": self.seed,
            "image_strength": self.image_strength,
            "sr_scale": self.sr_scale,
            "pause_pending": self.pause_pending,
        }

    def state_message(self) -> Message:
        """The ``state`` application message, as broadcast after every change."""
        return {"type": "state", "data": self.state()}

    # --- messages ------------------------------------------------------------------------------
    def _event(self, name: str, typed_extra: Mapping[str, Any] | None = None, **fields: Any) -> None:
        """Queue a message in the configured family/families; ``typed_extra`` replaces typed fields."""
        if self.messages in ("legacy", "both"):
            self._out.append({"type": "event", "data": {"event": name, **fields}})
        typed = TYPED_NAME.get(name, name)
        if typed is not None and self.messages in ("typed", "both"):
            self._out.append(
                {"type": typed, "data": dict(typed_extra if typed_extra is not None else fields)}
            )

    def _typed(self, name: str, **fields: Any) -> None:
        if self.messages in ("typed", "both"):
            self._out.append({"type": name, "data": fields})

    def _state(self) -> None:
        self._out.append(self.state_message())

    def _take(self) -> list[Message]:
        out, self._out = self._out, []
        return out

    def error_messages(self, err: CommandValidationError) -> list[Message]:
        """How a rejected command is reported: legacy ``event``/``error`` and/or typed ``command_error``."""
        return rejection_messages(err, self.messages)

    # --- commands ------------------------------------------------------------------------------
    def apply(
        self, command: str, args: Mapping[str, Any] | None = None, uploads: Mapping[str, Any] | None = None
    ) -> list[Message]:
        """Apply one command; return the messages it causes (events, then ``state``).

        Validates the arguments against :data:`COMMANDS` (the runtime already did; this keeps
        offline replay honest), then the Helios rules; raises CommandValidationError and
        changes nothing when rejected.
        """
        uploads = dict(uploads or {})
        data = validate_command(BY_NAME, command, dict(args or {}), fill_defaults=True, uploads=uploads)
        self._out = []
        try:
            getattr(self, f"_cmd_{command}")(data, uploads)
        except CommandValidationError:
            self._out = []
            raise
        self._state()
        return self._take()

    def _schedule(self, chunk: int, prompt: str) -> None:
        self.scheduled[chunk] = prompt
        self._event("prompt_scheduled", chunk=chunk, prompt=prompt)

    def _set_image(self, image: RefImage, transition: str) -> None:
        self.image = image
        self._pending_transition = transition
        w, h = self.output_size
        image.at(w, h)  # resize now, not at the chunk boundary
        down = image.downscaled(w, h)
        self._event(
            "image_set",
            typed_extra={"width": image.width, "height": image.height, "downscaled": down},
            width=image.width,
            height=image.height,
            transition=transition,
            downscaled=down,
        )

    def _conditions_ready(self) -> None:
        self._typed("conditions_ready", has_image=self.image is not None)

    def _cmd_set_prompt(self, data: dict[str, Any], uploads: Mapping[str, Any]) -> None:
        prompt = check_prompt("set_prompt", data["prompt"])
        self._schedule(self.first_open_chunk, prompt)
        self._conditions_ready()

    def _cmd_schedule_prompt(self, data: dict[str, Any], uploads: Mapping[str, Any]) -> None:
        prompt = check_prompt("schedule_prompt", data["prompt"])
        chunk, first = data["chunk"], self.first_open_chunk
        if chunk < first:
            raise CommandValidationError(
                "schedule_prompt",
                "past_chunk",
                f"chunk {chunk} is in the past (first open chunk is {first})",
                "chunk",
            )
        self._schedule(chunk, prompt)
        self._conditions_ready()

    def _cmd_set_image(self, data: dict[str, Any], uploads: Mapping[str, Any]) -> None:
        image = check_image("set_image", data, uploads)
        self._set_image(image, data["transition"])
        self._conditions_ready()

    def _cmd_clear_image(self, data: dict[str, Any], uploads: Mapping[str, Any]) -> None:
        self.image = None
        self._pending_transition = "cut"
        self._event("image_cleared")
        self._conditions_ready()

    def _cmd_set_conditioning(self, data: dict[str, Any], uploads: Mapping[str, Any]) -> None:
        prompt = check_prompt("set_conditioning", data["prompt"])
        image = check_image("set_conditioning", data, uploads)
        self._schedule(self.first_open_chunk, prompt)
        self._set_image(image, data["transition"])
        self._conditions_ready()

    def _cmd_set_image_strength(self, data: dict[str, Any], uploads: Mapping[str, Any]) -> None:
        self.image_strength = float(data["image_strength"])

    def _cmd_set_sr_scale(self, data: dict[str, Any], uploads: Mapping[str, Any]) -> None:
        self.sr_requested = data["sr_scale"]

    def _cmd_set_seed(self, data: dict[str, Any], uploads: Mapping[str, Any]) -> None:
        seed = data["seed"]
        if seed == -1:
            seed = int(self._entropy()) & MAX_SEED
        self.seed = seed
        self._event("seed_set", seed=seed)

    def _cmd_start(self, data: dict[str, Any], uploads: Mapping[str, Any]) -> None:
        if self.started:
            where = "paused; use resume" if self.paused else "running"
            raise CommandValidationError(
                "start", "invalid_state", f"generation is already started ({where}; reset to start over)"
            )
        if 0 not in self.scheduled:
            have = ", ".join(str(k) for k in sorted(self.scheduled)) or "none"
            raise CommandValidationError(
                "start",
                "invalid_state",
                f"no prompt scheduled at chunk 0 (scheduled chunks: {have}); "
                "use set_prompt or schedule_prompt with chunk 0 first",
            )
        self.started = self.running = True
        self.paused = self.pause_pending = False
        self.active_seed = self.seed
        self._latch(self.current_chunk)
        self._event("generation_started", prompt=self.scheduled[0], seed=self.active_seed)

    def _require_started(self, command: str) -> None:
        if not self.started:
            raise CommandValidationError(
                command,
                "invalid_state",
                "generation is not started (schedule a prompt at chunk 0, then start)",
            )

    def _cmd_pause(self, data: dict[str, Any], uploads: Mapping[str, Any]) -> None:
        self._require_started("pause")
        if self.running:
            self.pause_pending = True  # takes effect at the end of the current chunk (step)

    def _cmd_resume(self, data: dict[str, Any], uploads: Mapping[str, Any]) -> None:
        self._require_started("resume")
        if self.pause_pending:
            self.pause_pending = False  # never paused: no event, the state says it
        elif self.paused:
            self.paused, self.running = False, True
            self._event("generation_resumed", frame=self.current_frame, chunk=self.current_chunk)
            self._latch(self.current_chunk)

    def _cmd_reset(self, data: dict[str, Any], uploads: Mapping[str, Any]) -> None:
        frame, chunk = self.current_frame, self.current_chunk
        self._clear()
        self._event("generation_reset", frame=frame, chunk=chunk)

    # --- time ----------------------------------------------------------------------------------
    def _latch(self, chunk: int) -> None:
        """Fix chunk ``chunk``'s conditioning now; announce a prompt switch."""
        prompt = self.effective_prompt(chunk)
        assert prompt is not None, "chunk 0 always has a prompt once started"
        prev = self.looks.get(chunk - 1)
        transition = self._pending_transition
        self._pending_transition = "cut"
        look = Look(
            prompt=prompt,
            seed=self.active_seed,
            chunk=chunk,
            sr_scale=self.sr_scale,
            image=self.image,
            image_strength=self.image_strength,
            transition=transition,
            from_image=prev.image if (prev is not None and transition == "blend") else None,
            from_strength=prev.image_strength if (prev is not None and transition == "blend") else 1.0,
        )
        self.looks[chunk] = look
        for old in [k for k in self.looks if k <= chunk - LOOK_HISTORY]:
            del self.looks[old]
        if prev is not None and prev.prompt != prompt:
            self._event(
                "prompt_switched",
                frame=self.current_frame,
                chunk=chunk,
                new_prompt=prompt,
                previous_prompt=prev.prompt,
            )

    def step(self) -> tuple[Frame, list[Message]]:
        """The next output frame and the messages due with it; advances one frame while running."""
        self._out = []
        if not self.started:
            return self.renderer.idle(self.sr_scale), []
        if not self.running:
            held = self._last_frame if self._last_frame is not None else self.renderer.idle(self.sr_scale)
            return held, []
        g = self.current_frame
        chunk, f = divmod(g, CHUNK_FRAMES)
        frame = self.renderer.frame(self.looks[chunk], f)
        self.current_frame += 1
        self._last_frame = frame
        if f == CHUNK_FRAMES - 1:
            self._typed("chunk_complete", chunk=chunk, frame=g)
            if self.pause_pending:
                self.pause_pending, self.running, self.paused = False, False, True
                self._event("generation_paused", frame=self.current_frame, chunk=self.current_chunk)
            else:
                self._latch(self.current_chunk)
            self._state()
        return frame, self._take()

    def render(self, frame_index: int) -> Frame:
        """Pixels of global frame ``frame_index`` from its chunk's latched conditioning (pure, replayable)."""
        chunk, f = divmod(int(frame_index), CHUNK_FRAMES)
        look = self.looks.get(chunk)
        if look is None:
            latched = f"{min(self.looks)}-{max(self.looks)}" if self.looks else "none"
            raise ValueError(
                f"frame {frame_index} is in chunk {chunk}, which is not latched (latched chunks: {latched})"
            )
        return self.renderer.frame(look, f)

    def look(self, chunk: int) -> Look | None:
        """The latched conditioning of a chunk, if it has begun."""
        return self.looks.get(chunk)

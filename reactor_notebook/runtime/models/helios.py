"""The ``helios`` model plug-in: the deterministic Helios simulation behind the runtime interface.

All behaviour lives in :class:`~.helios_sim.HeliosSim`; this adapter maps the runtime's
calls onto it (one frame per :meth:`HeliosModel.render`, commands through
:meth:`HeliosModel.handle_command`) and broadcasts the messages the simulation returns.
"""

from __future__ import annotations

import threading
from typing import Any, ClassVar, cast

from ...schema import CommandSpec
from .base import ErrorStyle, Frame, Model, TrackSpec, Upload
from .helios_sim import HeliosSim
from .helios_spec import CHUNK_FRAMES, COMMANDS, MESSAGE_MODES, SR_SCALES, message_schemas

__all__ = ["HeliosModel"]

TRACK = "main_video"


class HeliosModel(Model):
    """Simulated Helios: 640x384 chunked video (33 frames per chunk), Helios commands and messages.

    Options (``create_model("helios", **options)`` / ``LocalRuntime(model_options=...)``):
    ``fps`` (default 24), ``seed`` (initial seed, default 0), ``messages``
    (``"legacy"`` | ``"typed"`` | ``"both"``, default legacy), ``max_sr_scale``
    (``"off"`` | ``"2x"`` | ``"4x"``, default ``"2x"``: a requested 4x is clamped to 2x),
    ``step_frames`` (frames per step of a stepped session, default 33: one chunk).

    A step (runtime/stepping.py) is, once generation has started: ``resume`` (if paused), ``pause``,
    then ``step_frames`` times :meth:`HeliosSim.step`. So a 33-frame step is exactly one chunk, and a
    prompt or image set by the step's state or commands conditions that step's own chunk.
    Before ``start`` a step returns the idle card.
    """

    name: ClassVar[str] = "helios"
    version: ClassVar[str] = "sim-1"
    description: ClassVar[str] = "Simulated Helios: deterministic chunked text/image-to-video on the CPU"
    default_fps: ClassVar[float] = 24.0
    # Rejections are reported like Helios does, as legacy event/error (or per the ``messages`` option:
    # __init__ sets the instance value, so the base error_messages follows it).
    error_style: ClassVar[ErrorStyle] = "legacy"

    def __init__(
        self,
        *,
        fps: float | None = None,
        seed: int = 0,
        messages: str = "legacy",
        max_sr_scale: str = "2x",
        step_frames: int = CHUNK_FRAMES,
        **options: Any,
    ) -> None:
        if options:
            known = "fps, max_sr_scale, messages, seed, step_frames"
            raise ValueError(f"unknown helios option(s): {', '.join(sorted(options))}; known options: {known}")
        if fps is not None and (isinstance(fps, bool) or not isinstance(fps, (int, float)) or not 0 < fps <= 240):
            raise ValueError(f"fps must be a number in (0, 240], got {fps!r}")
        if messages not in MESSAGE_MODES:
            raise ValueError(f"messages must be one of {', '.join(MESSAGE_MODES)}, got {messages!r}")
        if max_sr_scale not in SR_SCALES:
            raise ValueError(f"max_sr_scale must be one of {', '.join(SR_SCALES)}, got {max_sr_scale!r}")
        if isinstance(step_frames, bool) or not isinstance(step_frames, int) or not 1 <= step_frames <= 10 * CHUNK_FRAMES:
            raise ValueError(f"step_frames must be an integer 1-{10 * CHUNK_FRAMES}, got {step_frames!r}")
        super().__init__(fps=fps)
        self.frames_per_step = step_frames
        self.options = {"seed": seed, "messages": messages, "max_sr_scale": max_sr_scale}
        self.error_style = cast("ErrorStyle", messages)  # type: ignore[misc]  # instance value follows the option
        self._lock = threading.Lock()
        self.sim = self._new_sim()

    def _new_sim(self) -> HeliosSim:
        return HeliosSim(**self.options)

    # --- declarations ------------------------------------------------------------------------
    @property
    def tracks(self) -> list[TrackSpec]:
        """One output, ``main_video``: Helios renders video and takes no input track."""
        return [TrackSpec(TRACK, "video", "out")]

    def commands(self) -> list[CommandSpec]:
        """The Helios command set, declared once in ``helios_spec`` (validated before dispatch)."""
        return list(COMMANDS)

    def message_schemas(self) -> dict[str, dict[str, Any]]:
        """Schemas of the messages Helios emits, for the OpenAPI ``webhooks``."""
        return message_schemas()

    # --- lifecycle -----------------------------------------------------------------------------
    def on_session_end(self) -> None:
        """A closed session leaves nothing behind: the next one starts from the idle card."""
        with self._lock:
            self.sim = self._new_sim()

    def greeting(self) -> list[dict[str, Any]]:
        """A newly opened ``data`` channel gets the current ``state``."""
        with self._lock:
            return [self.sim.state_message()]

    # --- work ------------------------------------------------------------------------------------
    def handle_command(self, command: str, args: dict[str, Any], uploads: dict[str, Upload]) -> dict[str, Any] | None:
        """Apply a command and broadcast what it caused; the reply is its effect (else the new state)."""
        with self._lock:
            messages = self.sim.apply(command, args, uploads)
        for msg in messages:
            self.emit(msg)
        effects = [m for m in messages if m.get("type") != "state"] or messages
        return effects[0] if effects else None

    def render(self) -> dict[str, Frame]:
        """Advance the simulation one frame and broadcast the messages that step produced."""
        with self._lock:
            frame, messages = self.sim.step()
        for msg in messages:
            self.emit(msg)
        return {TRACK: frame}

    def step_frames(self) -> dict[str, list[Frame]]:
        """One step: once started, resume (if paused) and pause, then ``step_frames`` frames."""
        messages = []
        with self._lock:
            sim = self.sim
            if sim.started:
                if sim.paused:
                    messages += sim.apply("resume")
                messages += sim.apply("pause")
            frames = []
            for _ in range(self.frames_per_step):
                frame, msgs = sim.step()
                frames.append(frame)
                messages += msgs
        for msg in messages:
            self.emit(msg)
        return {TRACK: frames}

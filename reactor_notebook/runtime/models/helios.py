"""The ``helios`` model plug-in: the deterministic Helios simulation behind the runtime interface.

All behaviour lives in :class:`~.helios_sim.HeliosSim`; this adapter maps the runtime's
calls onto it (one frame per :meth:`HeliosModel.render`, commands through
:meth:`HeliosModel.handle_command`) and broadcasts the messages the simulation returns.
"""

from __future__ import annotations

import threading
from typing import Any, ClassVar, Literal

from ...schema import CommandSpec, CommandValidationError
from .base import Frame, Model, TrackSpec, Upload
from .helios_sim import COMMANDS, MESSAGE_MODES, SR_SCALES, HeliosSim, message_schemas

__all__ = ["HeliosModel"]

TRACK = "main_video"


class HeliosModel(Model):
    """Simulated Helios: 640x384 chunked video (33 frames per chunk), §6 commands and messages.

    Options (``create_model("helios", **options)`` / ``LocalRuntime(model_options=...)``):
    ``fps`` (default 24), ``seed`` (initial seed, default 0), ``messages``
    (``"legacy"`` | ``"typed"`` | ``"both"``, default legacy), ``max_sr_scale``
    (``"off"`` | ``"2x"`` | ``"4x"``, default ``"2x"``: a requested 4x is clamped to 2x).
    """

    name: ClassVar[str] = "helios"
    version: ClassVar[str] = "sim-1"
    description: ClassVar[str] = "Simulated Helios: deterministic chunked text/image-to-video on the CPU"
    default_fps: ClassVar[float] = 24.0
    # Rejections are reported like Helios does, as legacy event/error (or per the ``messages`` option).
    error_style: ClassVar[Literal["typed", "legacy", "both"]] = "legacy"

    def __init__(
        self,
        *,
        fps: float | None = None,
        seed: int = 0,
        messages: str = "legacy",
        max_sr_scale: str = "2x",
        **options: Any,
    ) -> None:
        if options:
            known = "fps, max_sr_scale, messages, seed"
            raise ValueError(f"unknown helios option(s): {', '.join(sorted(options))}; known options: {known}")
        if fps is not None and (isinstance(fps, bool) or not isinstance(fps, (int, float)) or not 0 < fps <= 240):
            raise ValueError(f"fps must be a number in (0, 240], got {fps!r}")
        if messages not in MESSAGE_MODES:
            raise ValueError(f"messages must be one of {', '.join(MESSAGE_MODES)}, got {messages!r}")
        if max_sr_scale not in SR_SCALES:
            raise ValueError(f"max_sr_scale must be one of {', '.join(SR_SCALES)}, got {max_sr_scale!r}")
        super().__init__(fps=fps)
        self.options = {"seed": seed, "messages": messages, "max_sr_scale": max_sr_scale}
        self.error_style = messages  # type: ignore[misc]  # instance value follows the option
        self._lock = threading.Lock()
        self.sim = self._new_sim()

    def _new_sim(self) -> HeliosSim:
        return HeliosSim(**self.options)

    # --- declarations ------------------------------------------------------------------------
    @property
    def tracks(self) -> list[TrackSpec]:
        return [TrackSpec(TRACK, "video", "out")]

    def commands(self) -> list[CommandSpec]:
        return list(COMMANDS)

    def message_schemas(self) -> dict[str, dict[str, Any]]:
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

    def error_messages(self, error: CommandValidationError) -> list[dict[str, Any]]:
        """Legacy ``event``/``error`` and/or typed ``command_error``, per the ``messages`` option."""
        return self.sim.error_messages(error)

    # --- work ------------------------------------------------------------------------------------
    def handle_command(self, command: str, args: dict[str, Any], uploads: dict[str, Upload]) -> dict[str, Any] | None:
        """Apply a command and broadcast what it caused; the reply is its effect (else the new state)."""
        with self._lock:
            messages = self.sim.apply(command, args, uploads)
        for msg in messages:
            self.emit(msg)
        effects = [m for m in messages if m.get("type") != "state"]
        return (effects or messages or [None])[0]

    def render(self) -> dict[str, Frame]:
        with self._lock:
            frame, messages = self.sim.step()
        for msg in messages:
            self.emit(msg)
        return {TRACK: frame}

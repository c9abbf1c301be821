"""Commands that wait for the model's answer (the :class:`~.session.Reactor` side of :mod:`.replies`).

``send_command`` stays fire-and-forget, as in the seed API. ``send_command_and_wait`` sends the
same validated command and returns the model's :class:`~.replies.CommandReply`, or raises
:class:`~.errors.CommandRejectedError` with the model's code and message. Rejections that arrive
for fire-and-forget commands are kept too: ``last_rejection`` is the latest one, apart from
``get_last_error()`` (client-side errors).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from .errors import CommandTimeoutError
from .replies import REPLY_WAIT_S, CommandReply, Rejection, ReplyBook, await_reply
from .sync import sync_twin

if TYPE_CHECKING:
    from .loop import SdkLoop


class CommandRepliesMixin:
    """``send_command_and_wait`` (+ sync twin) and ``last_rejection`` for :class:`Reactor`."""

    _sdk: SdkLoop
    _replies: ReplyBook
    _last_rejection: Rejection | None

    if TYPE_CHECKING:  # provided by Reactor

        async def _send_command(
            self, command: str, data: Any, validate: bool, *, expect: bool = False
        ) -> asyncio.Future[CommandReply] | None: ...

    async def _command_and_wait(self, command: str, data: Any, validate: bool, timeout: float) -> CommandReply:
        if not timeout > 0:
            raise ValueError(f"timeout must be > 0 seconds, got {timeout!r}")
        fut = await self._send_command(command, data, validate, expect=True)
        assert fut is not None
        if getattr(self, "v1", None) is not None:  # wire v1: the runtime answers every command
            try:
                return await asyncio.wait_for(asyncio.shield(fut), timeout)
            except asyncio.TimeoutError:
                raise CommandTimeoutError(command, timeout) from None
        return await await_reply(self._replies, command, fut, timeout)

    async def send_command_and_wait(
        self, command: str, data: Any = None, *, timeout: float = REPLY_WAIT_S, validate: bool = True
    ) -> CommandReply:
        """Send a command and wait (at most ``timeout`` s) for the model's answer to it.

        ``data`` is the argument object (a dict, a JSON string, or None for none), validated
        against the model's schema first (``CommandValidationError`` names command, field and
        reason). Returns a :class:`CommandReply`: ``reply`` is the model's reply message when it
        sends one, ``confirmed`` says whether the runtime acknowledged the command itself (wire
        v1 always does; on wire v0 a command without a declared reply counts as accepted when no
        rejection arrived within ``timeout``). Raises :class:`CommandRejectedError` (``model_code``,
        ``model_message``, ``field``) when the model refuses it, :class:`CommandTimeoutError` when
        a declared reply does not come, ``NotReadyError`` when not READY.
        """
        return await self._sdk.run(self._command_and_wait(command, data, validate, timeout))

    send_command_and_wait_sync = sync_twin(
        send_command_and_wait,
        wait=lambda self, timeout: timeout + 10.0,
        doc="Blocking :meth:`send_command_and_wait` for plain cells and threads.",
    )

    @property
    def last_rejection(self) -> Rejection | None:
        """The model's latest refusal of a command (command, code, field, message, time), or None."""
        return self._last_rejection

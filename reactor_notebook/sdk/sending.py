"""What :class:`~.session.Reactor` sends: commands (validated once, here), uploads and published tracks.

A command is checked against the model's schema on the client before anything is sent; its
``FileRef`` arguments travel as uploads. The model's verdict arrives later through routing
(:mod:`.routing`, :mod:`.replies`).
"""

from __future__ import annotations

import asyncio
import json
import mimetypes
import os
from typing import TYPE_CHECKING, Any

from aiortc.mediastreams import MediaStreamTrack

from .. import protocol as P
from ..schema import CommandValidationError, validate_command
from .core import SCHEMA_REQUEST_TIMEOUT_S, SessionCore
from .errors import (
    MESSAGE_SEND_FAILED,
    TRACK_PUBLISH_FAILED,
    ControlRequestError,
    MessageSendError,
    NotReadyError,
    TrackPublishError,
)
from .replies import CommandReply
from .sync import sync_twin
from .types import FileRef, ReactorStatus

if TYPE_CHECKING:
    from .channels_v1 import V1Channels


class SendingPart(SessionCore):
    """Commands, uploads and tracks for :class:`Reactor`."""

    if TYPE_CHECKING:  # provided by the lifecycle part and V1SessionMixin

        async def _connect(
            self, timeout: float | None, adopt: str | None = None, extra_configs: dict[str, Any] | None = None
        ) -> None: ...

        @property
        def connect_timeout(self) -> float | None:
            """The constructor's connect timeout, used when a send has to connect first."""

        @property
        def v1(self) -> V1Channels | None:
            """The v1 request/response client of the current connection (None on wire v0)."""

        def _v1_command(
            self, command: str, data: Any, uploads: dict[str, Any], expect: bool
        ) -> asyncio.Future[CommandReply] | None: ...

        def _v1_file_uploaded(self, ref: dict[str, Any]) -> None: ...

    # --- commands -------------------------------------------------------------------------------
    async def send_command(self, command: str, data: Any = None, *, validate: bool = True) -> None:
        """Validate and send a model command; returns once it is on the data channel (fire-and-forget).

        ``command`` is a name from :attr:`commands` (e.g. ``"schedule_prompt"``) and ``data`` a
        dict of its fields (``{"prompt": "A sunset", "chunk": 2}``; a JSON string, or None for
        none; ``FileRef`` values travel as uploads). Errors raised here, before anything is sent:
        :class:`NotReadyError` unless the status is READY,
        :class:`~reactor_notebook.schema.CommandValidationError` (naming command, field and reason)
        for an unknown command or a missing/extra/mistyped/out-of-range field (``validate=False``
        skips this check), :class:`MessageSendError` when the message is over 256 KiB (send large
        files with :meth:`upload_file`). The model's own verdict comes later: a rejection fires
        ``command_rejected``, is kept in ``last_rejection`` and lands in
        ``reactor.frames.timeline()``; to wait for the answer (the reply, or
        ``CommandRejectedError``) use :meth:`send_command_and_wait`.
        """
        await self._sdk.run(self._send_command(command, data, validate))

    send_command_sync = sync_twin(
        send_command,
        timeout=10.0,
        doc="Blocking :meth:`send_command` (returns once sent; :meth:`send_command_and_wait_sync` waits "
        "for the answer).",
    )

    async def _send_command(
        self, command: str, data: Any, validate: bool, *, expect: bool = False
    ) -> asyncio.Future[CommandReply] | None:
        if not isinstance(command, str) or not command:
            raise TypeError(f"command must be a non-empty string, got {command!r}")
        if self._in_context and self._status == ReactorStatus.DISCONNECTED and self._session_id is None:
            await self._connect(self.connect_timeout)  # the seed's context-manager snippet sends at once
        if self._status != ReactorStatus.READY or self._transport is None:
            raise NotReadyError(f"send command {command!r}", self._status)
        data, uploads = await self._checked_arguments(command, data, validate)
        try:
            text = P.encode_envelope(P.SCOPE_APPLICATION, command, data, uploads or None)
        except (TypeError, ValueError) as exc:
            raise CommandValidationError(
                command, "invalid_value", f"arguments are not JSON-serialisable: {exc}"
            ) from None
        reply = self._replies.expect(command) if expect and self.v1 is None else None
        try:
            if self.v1 is not None:
                reply = self._v1_command(command, data, uploads, expect)
            else:
                self._transport.send_raw(text)
        except MessageSendError as exc:
            if reply is not None and self.v1 is None:
                self._replies.discard(reply)
            self._error(MESSAGE_SEND_FAILED, f"{command}: {exc.message}", "gpu", True)
            raise MessageSendError(f"{command}: {exc.message}") from None
        self.frames.add_event("command", command, {**data, **uploads} if uploads else data)
        return reply

    async def _checked_arguments(self, command: str, data: Any, validate: bool) -> tuple[Any, dict[str, Any]]:
        """The command's arguments (parsed, validated against the schema) and its uploads."""
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except ValueError as exc:
                raise CommandValidationError(
                    command, "wrong_type", f"data string is not valid JSON: {exc}"
                ) from None
        if data is None:
            data = {}
        uploads: dict[str, Any] = {}
        if isinstance(data, dict) and any(isinstance(v, FileRef) for v in data.values()):
            uploads = {k: v.to_wire() for k, v in data.items() if isinstance(v, FileRef)}
            data = {k: v for k, v in data.items() if not isinstance(v, FileRef)}
        if validate:
            if not self._commands and self._schema_task is not None and not self._schema_task.done():
                await asyncio.wait([self._schema_task], timeout=SCHEMA_REQUEST_TIMEOUT_S)
            if self._commands or self._commands_known():
                data = validate_command(self._commands, command, data, uploads=uploads)
        return data, uploads

    def _commands_known(self) -> bool:
        caps = self._capabilities
        return bool(self._commands_from_schema or (caps and caps.get("commands")))

    # --- uploads --------------------------------------------------------------------------------
    async def upload_file(
        self,
        file: bytes | str | os.PathLike[str] | Any,
        *,
        name: str | None = None,
        mime_type: str | None = None,
    ) -> FileRef:
        """Upload bytes, a path or a binary file object; returns a FileRef to use as a command argument."""
        data, resolved = _read_file(file, name)
        mime = mime_type or mimetypes.guess_type(resolved)[0] or "application/octet-stream"
        return await self._sdk.run(self._upload(data, resolved, mime))

    upload_file_sync = sync_twin(upload_file, timeout=60.0)

    async def _upload(self, data: bytes, name: str, mime_type: str) -> FileRef:
        if self._status != ReactorStatus.READY or self._transport is None or self._api is None:
            raise NotReadyError(f"upload {name!r}", self._status)
        if not data:
            raise ValueError(f"cannot upload {name!r}: the file is empty")
        assert self._session_id is not None
        slot = await self._api.create_upload(self._session_id, name, len(data), mime_type)
        await self._api.put_upload(str(slot["presigned_url"]), data, mime_type)
        ref = FileRef(upload_id=str(slot["presigned_id"]), name=name, mime_type=mime_type, size=len(data))
        if self.v1 is not None:
            self._v1_file_uploaded(ref.to_wire())
        else:
            self._transport.send_raw(P.encode_envelope(P.SCOPE_RUNTIME, P.MSG_FILE_UPLOADED, ref.to_wire()))
        self.frames.add_event("event", "file_uploaded", ref.to_wire())
        return ref

    # --- tracks ---------------------------------------------------------------------------------
    async def publish_track(self, name: str, track: MediaStreamTrack) -> None:
        """Publish a local MediaStreamTrack on the model input ``name`` (e.g. ``webcam``).

        ``track`` is any aiortc video track, e.g. :class:`~reactor_notebook.sources.ArrayTrack`.
        Raises :class:`NotReadyError` unless READY, ``TypeError`` for a non-track, and
        :class:`TrackPublishError` when the model declares no such input or the runtime refuses
        it; returns once the runtime has accepted the track.
        """
        await self._sdk.run(self._publish(name, track))

    publish_track_sync = sync_twin(publish_track, timeout=15.0)

    async def _publish(self, name: str, track: MediaStreamTrack) -> None:
        if self._status != ReactorStatus.READY or self._transport is None:
            raise NotReadyError(f"publish track {name!r}", self._status)
        if not isinstance(track, MediaStreamTrack):
            raise TypeError(f"track must be an aiortc MediaStreamTrack, got {type(track).__name__}")
        try:
            await self._transport.publish_track(name, track)
        except (ControlRequestError, TrackPublishError) as exc:
            self._error(TRACK_PUBLISH_FAILED, f"publish {name!r} failed: {exc.message}", "gpu", True)
            raise TrackPublishError(f"publish {name!r} failed: {exc.message}") from None
        self.frames.add_event("event", P.METHOD_PUBLISH_TRACK, {"name": name})

    async def unpublish_track(self, name: str) -> None:
        """Stop publishing the input ``name`` (no-op if not published)."""
        await self._sdk.run(self._unpublish(name))

    unpublish_track_sync = sync_twin(unpublish_track, timeout=10.0)

    async def _unpublish(self, name: str) -> None:
        if self._transport is not None:
            await self._transport.unpublish_track(name)
            self.frames.add_event("event", P.METHOD_UNPUBLISH_TRACK, {"name": name})

    async def pause_track(self, name: str) -> None:
        """Ask the runtime to stop sending output ``name`` to this connection."""
        await self._sdk.run(self._notify_track(P.METHOD_PAUSE_TRACK, name))

    async def resume_track(self, name: str) -> None:
        """Ask the runtime to resume sending output ``name``."""
        await self._sdk.run(self._notify_track(P.METHOD_RESUME_TRACK, name))

    async def _notify_track(self, event: str, name: str) -> None:
        if self._status != ReactorStatus.READY or self._transport is None:
            raise NotReadyError(f"{event} {name!r}", self._status)
        outputs = [t["name"] for t in self._tracks if t.get("direction") == "recvonly"]
        if name not in outputs:
            raise ValueError(
                f"{event}: {name!r} is not an output track; outputs: {', '.join(outputs) or 'none'}"
            )
        self._transport.notify(event, name)


def _read_file(file: Any, name: str | None) -> tuple[bytes, str]:
    """Bytes and a display name from bytes, a path, or a binary file object."""
    if isinstance(file, (bytes, bytearray, memoryview)):
        return bytes(file), name or "upload"
    if isinstance(file, (str, os.PathLike)):
        path = os.fspath(file)
        with open(path, "rb") as fh:
            return fh.read(), name or os.path.basename(path)
    read = getattr(file, "read", None)
    if read is None:
        raise TypeError(f"upload_file takes bytes, a path or a binary file object, got {type(file).__name__}")
    data = read()
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError("upload_file needs a binary file object (open it with mode 'rb')")
    fname = name or getattr(file, "name", None) or "upload"
    return bytes(data), os.path.basename(os.fsdecode(fname)) if not isinstance(fname, int) else "upload"

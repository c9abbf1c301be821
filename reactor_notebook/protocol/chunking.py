"""Data-channel chunking (``a=x-reactor-dc-chunking``): messages larger than one SCTP message.

Today's official packages (reactor-sdk 1.13, reactor-runtime 3.10) declare it in their SDP, at
session level: ``a=x-reactor-dc-chunking:1 max-message-size=<bytes>``. The answer echoes the line
with its own limit; a connection is chunked when both sides declare it, and then **every**
message on its ordered, reliable channels (``control`` and ``data``) travels as frames of at most
:data:`FRAME_SIZE` bytes: one flag byte (:data:`MORE` = another frame of the same message
follows, :data:`LAST` = this frame ends it) and a slice of the message. A small message is one
``LAST`` frame. The message limit is the smaller of the two declared ``max-message-size`` values.
Framing as observed on loopback traffic of reactor-sdk 1.13.0 and reactor-runtime 3.10.0 (both
directions, messages of a few bytes to 24 MB), and interoperable with both (docs/steps.md).
"""

from __future__ import annotations

import re
from typing import NoReturn

__all__ = [
    "ATTRIBUTE",
    "FRAME_SIZE",
    "LAST",
    "MAX_MESSAGE_SIZE",
    "MORE",
    "ChunkingError",
    "Reassembler",
    "add_to_sdp",
    "declared_limit",
    "frames",
]

ATTRIBUTE = "x-reactor-dc-chunking"
VERSION = 1
MAX_MESSAGE_SIZE = 64 * 1024 * 1024  # what the official packages declare, and our limit
FRAME_SIZE = 64 * 1024  # flag byte included
MORE = 0x01
LAST = 0x00

_LINE = re.compile(rf"^a={ATTRIBUTE}:(\d+)(?:\s+max-message-size=(\d+))?\s*$", re.MULTILINE)


class ChunkingError(ValueError):
    """A frame that breaks the chunk framing (the partial message is dropped; the channel goes on)."""


def line(max_message_size: int = MAX_MESSAGE_SIZE) -> str:
    """The SDP attribute line this side declares."""
    return f"a={ATTRIBUTE}:{VERSION} max-message-size={int(max_message_size)}"


def declared_limit(sdp: str) -> int | None:
    """The peer's ``max-message-size`` if its SDP declares chunking version 1, else None."""
    match = _LINE.search(sdp.replace("\r\n", "\n"))
    if match is None or int(match.group(1)) != VERSION:
        return None
    return int(match.group(2)) if match.group(2) else MAX_MESSAGE_SIZE


def add_to_sdp(sdp: str, max_message_size: int = MAX_MESSAGE_SIZE) -> str:
    """``sdp`` with our chunking line at session level (before the first m-section), once."""
    if declared_limit(sdp) is not None:
        return sdp
    eol = "\r\n" if "\r\n" in sdp else "\n"
    lines = sdp.split(eol)
    at = next((i for i, ln in enumerate(lines) if ln.startswith("m=")), len(lines))
    lines.insert(at, line(max_message_size))
    return eol.join(lines)


def frames(message: bytes | bytearray | memoryview, frame_size: int = FRAME_SIZE) -> list[bytes]:
    """Cut one message into frames (flag byte + slice); an empty message is one empty ``LAST`` frame."""
    if frame_size < 2:
        raise ValueError(f"frame_size must be at least 2 bytes, got {frame_size}")
    view = memoryview(message).cast("B")
    step = frame_size - 1
    total = len(view)
    if total <= step:
        return [bytes((LAST,)) + bytes(view)]
    out = []
    for start in range(0, total, step):
        end = min(start + step, total)
        out.append(bytes((LAST if end == total else MORE,)) + bytes(view[start:end]))
    return out


class Reassembler:
    """Joins one channel's frames back into messages, refusing frames that break the framing."""

    def __init__(self, max_message_size: int = MAX_MESSAGE_SIZE) -> None:
        self.max_message_size = max_message_size
        self._parts: list[bytes] = []
        self._size = 0
        self.errors = 0

    @property
    def pending(self) -> int:
        """Bytes of a message begun but not finished."""
        return self._size

    def feed(self, frame: bytes | bytearray | memoryview | str) -> bytes | None:
        """Add one frame; return the whole message once its ``LAST`` frame arrives, else None.

        Raises :class:`ChunkingError` (and drops the partial message) for a text frame, an empty
        frame, an unknown flag byte, or a message growing past ``max_message_size``.
        """
        if isinstance(frame, str):
            self._fail(f"a text frame ({len(frame)} characters) on a chunked channel; frames are binary")
        data = bytes(frame)
        if not data:
            self._fail("an empty frame; every frame starts with a flag byte")
        flag = data[0]
        if flag not in (MORE, LAST):
            self._fail(f"frame flag 0x{flag:02x} is neither 0x01 (more follows) nor 0x00 (last)")
        self._size += len(data) - 1
        if self._size > self.max_message_size:
            size = self._size
            self._fail(f"a chunked message reached {size} bytes, over the {self.max_message_size}-byte limit")
        self._parts.append(data[1:])
        if flag == MORE:
            return None
        message = b"".join(self._parts)
        self._parts, self._size = [], 0
        return message

    def _fail(self, why: str) -> NoReturn:
        dropped = self._size
        self._parts, self._size = [], 0
        self.errors += 1
        suffix = f" (dropped {dropped} bytes of a partial message)" if dropped else ""
        raise ChunkingError(why + suffix)

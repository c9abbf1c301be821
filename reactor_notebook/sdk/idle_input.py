"""A stand-in track for unpublished model inputs, so aiortc's sender waits instead of polling.

An aiortc ``RTCRtpSender`` without a track checks again every 20 ms (50 event-loop wake-ups a
second for every input the model declares, for as long as nothing is published; about 4 ms of
CPU a second each on the benchmark machine, ~0.1-0.2 ms per received 24 fps frame).
:class:`IdleInput` is what an input's sender holds instead of ``None``: the sender calls its
``recv`` once, which waits until a real track replaces it and then hands over that track's
first frame. Nothing is sent while it is parked, as with no track. Only the public track API
(``replaceTrack``, ``sender.track``, ``recv``) is used.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiortc import RTCRtpSender
from aiortc.mediastreams import MediaStreamTrack


class IdleInput(MediaStreamTrack):
    """Parked on an input's sender while nothing is published; ``recv`` waits for the real track."""

    def __init__(self, sender: RTCRtpSender, kind: str) -> None:
        super().__init__()
        self.kind = kind
        self._sender = sender
        self._changed = asyncio.Event()
        self.waits = 0  # times the sender's loop parked here (for tests)

    def wake(self) -> None:
        """The sender's track changed: let a waiting ``recv`` look again."""
        self._changed.set()

    async def recv(self) -> Any:
        """Wait until the sender holds another track, then return that track's next frame."""
        while True:
            track = self._sender.track
            if track is not None and track is not self:
                return await track.recv()
            self._changed.clear()
            self.waits += 1
            await self._changed.wait()


def park(sender: RTCRtpSender, kind: str) -> IdleInput:
    """Put an :class:`IdleInput` on ``sender`` (instead of no track), waking any one it replaces."""
    idle = IdleInput(sender, kind)
    attach(sender, idle)
    return idle


def attach(sender: RTCRtpSender, track: MediaStreamTrack) -> None:
    """``sender.replaceTrack(track)``, and wake the :class:`IdleInput` it replaces, if any."""
    current = sender.track
    sender.replaceTrack(track)
    if isinstance(current, IdleInput):
        current.wake()

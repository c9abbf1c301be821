"""Browser webcam → model: the browser's JPEG frames become the session's published input track.

The browser captures ``getUserMedia`` frames to a canvas, encodes JPEG and sends them as
binary custom messages at a capped rate under its own ack window. The kernel decodes each
one and pushes it into a :class:`~reactor_notebook.sources.PushedFrameTrack` (latest frame
wins, repeated at its own pace, so a stalled browser never stalls the WebRTC sender), which
the SDK publishes as the model's input track. The widget builds no media track itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..sources import PushedFrameTrack
from .encode import decode_image
from .messages import WebcamAck, WebcamState

if TYPE_CHECKING:
    from ..sdk import Reactor

log = logging.getLogger(__name__)

Reply = Callable[[Mapping[str, Any]], None]  # sends one message to the front end


def _state(active: bool, error: str | None = None, track: str | None = None) -> WebcamState:
    msg: WebcamState = {"type": "webcam_state", "active": active, "error": error}
    if active:
        msg["track"] = track
    return msg


class WebcamInput:
    """Publishes one browser webcam as an input track of ``reactor`` and feeds it frames."""

    def __init__(self, reactor: Reactor, reply: Reply, on_active: Callable[[bool], None]) -> None:
        self.reactor = reactor
        self._reply = reply
        self._on_active = on_active
        self.track: PushedFrameTrack | None = None
        self.name: str | None = None

    def start(self, name: str | None, input_tracks: list[str], fps: float) -> None:
        """Publish ``name`` (default: the model's first input track); answer with ``webcam_state``."""
        name = name if isinstance(name, str) and name else (input_tracks[0] if input_tracks else None)
        if name is None or name not in input_tracks:
            self._reply(_state(False, f"the model declares no input video track {name!r}"))
            return
        if self.track is not None:
            self._reply(_state(True, track=self.name))
            return
        track = PushedFrameTrack(fps=fps)
        try:
            self.reactor.publish_track_sync(name, track)
        except Exception as exc:
            track.stop()
            self._reply(_state(False, f"publish_track({name!r}) failed: {exc}"))
            return
        self.track, self.name = track, name
        self._on_active(True)
        self._reply(_state(True, track=name))

    def stop(self, reply: bool = True) -> None:
        """Unpublish and end the track (if any); answer with ``webcam_state`` when ``reply``."""
        track, name = self.track, self.name
        self.track = self.name = None
        if track is not None and name is not None:
            try:
                self.reactor.unpublish_track_sync(name)
            except Exception as exc:
                log.debug("unpublish_track failed: %s", exc)
            track.stop()
        self._on_active(False)
        if reply:
            self._reply(_state(False))

    def frame(self, fid: Any, buffers: list[Any]) -> None:
        """Decode one browser frame into the track (if publishing) and acknowledge it."""
        error = None
        track = self.track
        if track is not None and buffers:
            try:
                track.push(decode_image(bytes(buffers[0])))
            except ValueError as exc:
                error = str(exc)
        ack: WebcamAck = {"type": "webcam_ack", "id": fid, "error": error}
        self._reply(ack)

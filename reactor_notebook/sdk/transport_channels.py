"""Messaging half of :class:`.transport.WebRTCTransport`: the two data channels' traffic.

Control requests and their responses, notifications, the keepalive ping, raw and binary sends
with the data-channel size limit, and publishing inputs (``docs/protocol.md`` "Control channel").
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiortc import RTCRtpTransceiver
from aiortc.mediastreams import MediaStreamTrack

from .. import protocol as P
from .channels_v1 import V1Channels, is_v1_frame
from .errors import ControlRequestError, MessageSendError, TrackPublishError
from .idle_input import attach, park

if TYPE_CHECKING:
    from .http import HttpApi
    from .transport_types import DataChannel, TransportCallbacks

logger = logging.getLogger(__name__)


@dataclass
class Entry:
    """One transceiver of the connection and the capability track it carries."""

    name: str
    kind: str
    direction: str
    transceiver: RTCRtpTransceiver
    early_release: bool = False


class ChannelMessaging:
    """Sends and receives on ``control`` and ``data``; the transport class owns the peer."""

    api: HttpApi
    data: DataChannel | None
    control: DataChannel | None
    v1: V1Channels | None
    entries: dict[str, Entry]
    published: dict[str, MediaStreamTrack]
    ping_interval: float
    control_timeout: float
    _pending: dict[str, asyncio.Future[dict[str, Any]]]
    _request_counter: int
    _ping_task: asyncio.Task[None] | None
    cb: TransportCallbacks

    @property
    def flat(self) -> bool:
        """True on the flat ``sdp_params`` routes (no connection id, no ``control`` handshake)."""
        return self.api.flat_routes

    def _on_data_message(self, message: str | bytes) -> None:
        if self.v1 is not None and is_v1_frame(message):
            self.v1.on_frame("data", bytes(message))  # type: ignore[arg-type]
            return
        if isinstance(message, bytes):
            message = message.decode("utf-8", "replace")
        self.cb.on_message(message)

    def _on_control_message(self, message: str | bytes) -> None:
        if self.v1 is not None and is_v1_frame(message):
            self.v1.on_frame("control", bytes(message))  # type: ignore[arg-type]
            return
        msg = P.decode_control(message)
        if msg is None:
            logger.debug("control channel: not a JSON object, dropped")
            return
        if msg.kind != P.KIND_RESPONSE:
            logger.debug("control channel message ignored: %s", msg.kind)
            return
        fut = self._pending.pop(str(msg.request_id), None)
        if fut is None or fut.done():
            return
        if msg.error is not None:
            fut.set_exception(ControlRequestError(msg.method or P.KIND_REQUEST, *msg.error))
        else:
            fut.set_result(msg.data)

    # --- ping -----------------------------------------------------------------------------------
    def _start_ping(self) -> None:
        self._stop_ping()
        self._ping_task = asyncio.get_running_loop().create_task(self._ping_loop(), name="reactor-ping")

    def _stop_ping(self) -> None:
        task, self._ping_task = self._ping_task, None
        if task is not None and not task.done() and task is not asyncio.current_task():
            task.cancel()

    async def _ping_loop(self) -> None:
        msg = P.encode_envelope(P.SCOPE_RUNTIME, P.MSG_PING, {})
        while True:
            await asyncio.sleep(self.ping_interval)
            if self.v1 is not None:  # v1: a ping notification on control
                try:
                    self.v1.notify_control({P.MSG_PING: {}})
                except Exception as exc:
                    logger.debug("ping failed: %s", exc)
            elif self.data is not None and self.data.readyState == "open":
                try:
                    self.data.send(msg)
                except Exception as exc:  # channel closing under us
                    logger.debug("ping failed: %s", exc)

    # --- messaging --------------------------------------------------------------------------------
    def send_raw(self, text: str) -> None:
        """Send one enveloped message on ``data`` (256 KiB limit)."""
        size = len(text.encode("utf-8"))
        if size > P.MAX_MESSAGE_SIZE:
            raise MessageSendError(
                f"message is {size} bytes, over the {P.MAX_MESSAGE_SIZE}-byte data-channel limit "
                "(send large images as uploads)"
            )
        if self.data is None or self.data.readyState != "open":
            state = self.data.readyState if self.data else "missing"
            raise MessageSendError(f"data channel is {state}")
        self.data.send(text)

    def send_frame(self, channel: str, frame: bytes) -> None:
        """Send one binary (wire v1) frame on ``data`` or ``control`` (256 KiB limit)."""
        ch = self.data if channel == P.CHANNEL_DATA else self.control
        limit = getattr(ch, "max_message_size", None) or P.MAX_MESSAGE_SIZE  # chunked: the negotiated limit
        if len(frame) > limit:
            raise MessageSendError(
                f"message is {len(frame)} bytes, over the {limit}-byte data-channel limit "
                "(send large images as uploads)"
            )
        if ch is None or ch.readyState != "open":
            raise MessageSendError(f"{channel} channel is {ch.readyState if ch else 'missing'}")
        ch.send(frame)

    def notify(self, event: str, name: str) -> None:
        """Fire-and-forget control notification (``pause_track``, ``resume_track``, ``unpublish_track``)."""
        if self.control is None or self.control.readyState != "open":
            logger.debug("control channel not open; %s(%s) not sent", event, name)
            return
        if self.v1 is not None:
            self.v1.notify_control({event: {"name": name}})
            return
        self.control.send(P.control_notification(event, name))

    async def control_request(
        self, method: str, data: dict[str, Any], timeout: float | None = None
    ) -> dict[str, Any]:
        """Send a control request and wait for its response (10 s default)."""
        if self.control is None or self.control.readyState != "open":
            raise ControlRequestError(method, "CONTROL_CHANNEL_CLOSED", "control channel is not open")
        self._request_counter += 1
        rid = f"ctrl_{self._request_counter}"
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[rid] = fut
        self.control.send(P.control_request(method, rid, data))
        limit = self.control_timeout if timeout is None else timeout
        try:
            return await asyncio.wait_for(fut, limit)
        except asyncio.TimeoutError:
            raise ControlRequestError(method, "TIMEOUT", f"no response within {limit} s") from None
        finally:
            self._pending.pop(rid, None)

    # --- publishing ---------------------------------------------------------------------------
    def input_names(self) -> list[str]:
        """The model inputs this connection can publish."""
        return [n for n, e in self.entries.items() if e.direction == "sendonly"]

    async def publish_track(self, name: str, track: MediaStreamTrack) -> None:
        """Claim the input via ``control`` (skipped on flat routes), then attach the track."""
        entry = self.entries.get(name)
        if entry is None or entry.direction != "sendonly":
            inputs = ", ".join(self.input_names()) or "none"
            what = "an output track" if entry is not None else "not a track of this model"
            raise TrackPublishError(f"cannot publish {name!r}: {what}; input tracks: {inputs}")
        if track.kind != entry.kind:
            raise TrackPublishError(f"cannot publish a {track.kind} track on {entry.kind} input {name!r}")
        if self.v1 is not None:
            await self.v1.request_control({P.METHOD_PUBLISH_TRACK: {"name": name}}, self.control_timeout)
        elif not self.flat:
            await self.control_request(P.METHOD_PUBLISH_TRACK, {"name": name})
        attach(entry.transceiver.sender, track)
        self.published[name] = track

    async def unpublish_track(self, name: str) -> None:
        """Detach the input and tell the runtime (no-op if not published)."""
        entry = self.entries.get(name)
        if entry is None or name not in self.published:
            return
        self.published.pop(name, None)
        park(entry.transceiver.sender, entry.kind)  # no track: nothing is sent
        self.notify(P.METHOD_UNPUBLISH_TRACK, name)


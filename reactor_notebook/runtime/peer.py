"""One aiortc peer per connection: apply the offer, map tracks, answer fast, route channels.

The client offers; :class:`Peer` flips each mapped transceiver's direction (client ``recvonly``
→ the model sends, ``sendonly`` → the model receives), attaches to each output a track fed by the
session's shared encoder for the negotiated codec (:mod:`.fanout`; a raw per-connection
:class:`~.media.OutputTrack` with its own tuned encoder where that cannot apply), reads inputs, and hands data
channels to its host by label. It never opens a channel itself (``docs/protocol.md`` "Signalling").
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Protocol

from aiortc import (
    RTCConfiguration,
    RTCDataChannel,
    RTCIceServer,
    RTCPeerConnection,
    RTCRtpTransceiver,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import VideoFrame

from ..chunked_channel import ChunkedChannel, wrap
from ..media.ice_checks import start_checks_together
from ..protocol.chunking import add_to_sdp, declared_limit
from .encoding import EncoderSettings, install_encoder, prefer_codec
from .fanout import EncodedTrack, install_packer, shareable
from .media import OutgoingTrack, OutputTrack
from .models.base import TrackSpec
from .sdp import complete_candidates, media_sections

log = logging.getLogger(__name__)


class PeerHost(Protocol):
    """What a peer needs from its session."""

    fps: float

    def output_attached(self, peer: Peer, track: OutgoingTrack) -> None:
        """``peer`` attached output ``track``: subscribe it to the session's model worker."""

    def output_detached(self, peer: Peer, track: OutgoingTrack) -> None:
        """``track`` left ``peer`` (renegotiation or close): unsubscribe it from the worker."""

    def peer_connected(self, peer: Peer) -> None:
        """ICE and DTLS are up on ``peer``: media can flow, the session may go READY."""

    def peer_gone(self, peer: Peer) -> None:
        """``peer`` closed or failed: free its inputs (a session without peers is orphaned)."""

    def channel_opened(self, peer: Peer, channel: RTCDataChannel | ChunkedChannel) -> None:
        """The client opened ``channel``: route its messages by label."""

    def input_frame(self, peer: Peer, track: str, frame: VideoFrame) -> None:
        """One decoded frame arrived on input ``track``: hand it to the model."""

    def input_ended(self, peer: Peer, track: str) -> None:
        """Input ``track`` ended: free its publisher slot for another connection."""


def rtc_configuration(ice_servers: tuple[dict[str, Any], ...]) -> RTCConfiguration:
    """Wire-form ICE servers → aiortc config; always explicit, so aiortc adds no public STUN."""
    servers = []
    for s in ice_servers:
        creds = s.get("credentials") or {}
        servers.append(RTCIceServer(urls=list(s["uris"]), username=creds.get("username"), credential=creds.get("password")))
    return RTCConfiguration(iceServers=servers)


def fallback_mapping(offer_sdp: str, tracks: list[TrackSpec]) -> dict[str, TrackSpec]:
    """Without ``track_mapping``: match media sections to model tracks of the same kind, in order."""
    out: dict[str, TrackSpec] = {}
    remaining = list(tracks)
    for section in media_sections(offer_sdp):
        if section.kind not in ("audio", "video") or section.mid is None:
            continue
        for t in remaining:
            if t.kind == section.kind:
                out[section.mid] = t
                remaining.remove(t)
                break
    return out


class Peer:
    """An RTCPeerConnection serving one connection id of a session."""

    def __init__(
        self,
        host: PeerHost,
        connection_id: int,
        *,
        ice_servers: tuple[dict[str, Any], ...] = (),
        encoder: EncoderSettings | None = None,
    ) -> None:
        self.host = host
        self.connection_id = connection_id
        self.session: Any = None  # the owning session, set by whoever creates the peer
        self.encoder = encoder or EncoderSettings()
        self.pc = RTCPeerConnection(rtc_configuration(ice_servers))
        self.mapping: dict[str, TrackSpec] = {}
        self.outputs: dict[str, OutgoingTrack] = {}
        self.senders: dict[str, Any] = {}
        self.channels: dict[str, RTCDataChannel | ChunkedChannel] = {}
        self.chunk_limit: int | None = None  # set when the offer negotiated data-channel chunking
        self.published: set[str] = set()  # inputs this peer holds the publisher slot for
        self.wire: str | None = None  # "v0" | "v1", latched by the first inbound data-channel frame
        self.wire_hint: str | None = None  # "v1" when the offer came from a v1-era client
        self.held_messages: list[dict[str, Any]] = []  # greetings waiting for the wire to be known
        self.last_activity = time.monotonic()
        self.connected = False
        self.closed = False
        self._readers: list[asyncio.Task[None]] = []
        self.pc.on("datachannel", self._on_datachannel)
        self.pc.on("track", self._on_track)
        self.pc.on("connectionstatechange", self._on_state)

    def __repr__(self) -> str:
        return f"Peer(connection_id={self.connection_id}, state={self.pc.connectionState!r})"

    def touch(self) -> None:
        """Note client activity (resets the keepalive watchdog)."""
        self.last_activity = time.monotonic()

    # --- negotiation ---------------------------------------------------------------------
    async def answer(self, offer_sdp: str, mapping: dict[str, TrackSpec], timeout: float) -> str:
        """Apply the offer and return a complete answer (all candidates, rtcp-mux everywhere)."""
        self.mapping = mapping
        self.chunk_limit = declared_limit(offer_sdp)  # the client offers data-channel chunking
        await self.pc.setRemoteDescription(RTCSessionDescription(complete_candidates(offer_sdp), "offer"))
        for tr in self.pc.getTransceivers():
            self._configure(tr)
        answer = await self.pc.createAnswer()
        start_checks_together(self.pc)  # before setLocalDescription starts ICE
        await asyncio.wait_for(self.pc.setLocalDescription(answer), timeout)
        sdp = complete_candidates(self.pc.localDescription.sdp)
        return sdp if self.chunk_limit is None else add_to_sdp(sdp)

    def _configure(self, tr: RTCRtpTransceiver) -> None:
        spec = self.mapping.get(tr.mid or "")
        if spec is None or spec.direction == "in":
            tr.direction = "recvonly" if spec is not None else "inactive"
            return
        tr.direction = "sendonly"
        tr._codecs = prefer_codec(tr._codecs, self.encoder.codec)
        track = self._output_track(tr, spec.name)
        tr.sender.replaceTrack(track)
        self.outputs[spec.name] = track
        self.senders[spec.name] = tr.sender
        self.host.output_attached(self, track)

    def _output_track(self, tr: RTCRtpTransceiver, name: str) -> OutgoingTrack:
        """The session's shared stream for the negotiated codec, else raw frames with a tuned encoder."""
        if tr.kind != "video" or not tr._codecs:
            return OutputTrack(name, self.host.fps)
        codec = tr._codecs[0]
        if shareable(codec.mimeType):
            shared = EncodedTrack(name, codec.mimeType.lower())
            if install_packer(tr.sender, shared):
                return shared
        install_encoder(tr.sender, codec, self.encoder)
        return OutputTrack(name, self.host.fps)

    # --- events -----------------------------------------------------------------------------
    def _on_datachannel(self, channel: RTCDataChannel) -> None:
        wrapped = wrap(channel, self.chunk_limit)  # framed when chunking was negotiated
        self.channels[wrapped.label] = wrapped
        self.touch()
        self.host.channel_opened(self, wrapped)

    def _on_track(self, track: MediaStreamTrack) -> None:
        tr = next((t for t in self.pc.getTransceivers() if t.receiver.track is track), None)
        spec = self.mapping.get(tr.mid or "") if tr is not None else None
        if spec is None or spec.direction != "in" or track.kind != "video":
            self._readers.append(asyncio.ensure_future(self._drain(track)))
            return
        self._readers.append(asyncio.ensure_future(self._read_input(spec.name, track)))

    async def _read_input(self, name: str, track: MediaStreamTrack) -> None:
        try:
            while True:
                frame = await track.recv()
                if isinstance(frame, VideoFrame):
                    self.host.input_frame(self, name, frame)
        except (MediaStreamError, asyncio.CancelledError):
            pass
        finally:
            self.host.input_ended(self, name)

    @staticmethod
    async def _drain(track: MediaStreamTrack) -> None:
        """Read and drop media nobody consumes, so it does not pile up in memory."""
        try:
            while True:
                await track.recv()
        except (MediaStreamError, asyncio.CancelledError):
            pass

    async def _on_state(self) -> None:
        state = self.pc.connectionState
        log.debug("connection %s: %s", self.connection_id, state)
        if state == "connected" and not self.connected:
            self.connected = True
            self.touch()
            self.host.peer_connected(self)
        elif state in ("failed", "closed"):
            if not self.closed:
                await self.close()

    # --- outputs ------------------------------------------------------------------------------
    def pause_output(self, name: str) -> bool:
        """Pause this connection's output ``name`` (control ``pauseTrack``); False if it has no such output."""
        track = self.outputs.get(name)
        if track is None:
            return False
        track.pause()
        return True

    def resume_output(self, name: str) -> bool:
        """Resume output ``name`` with a keyframe so the decoder recovers; False if there is none."""
        track = self.outputs.get(name)
        if track is None:
            return False
        if track.paused:
            track.resume()
            sender = self.senders.get(name)
            if sender is not None and hasattr(sender, "_send_keyframe"):
                sender._send_keyframe()  # restart with a keyframe (docs/protocol.md "Signalling")
        return True

    # --- teardown ---------------------------------------------------------------------------------
    async def close(self) -> None:
        """Close the peer, stop its tracks and readers, and tell the host (idempotent)."""
        if self.closed:
            return
        self.closed = True
        for track in self.outputs.values():
            self.host.output_detached(self, track)
            track.stop()
        for channel in list(self.channels.values()):
            try:
                channel.close()
            except Exception:  # already closed transport
                pass
        try:
            await self.pc.close()
        except Exception as exc:
            log.debug("closing peer %s: %s", self.connection_id, exc)
        for task in self._readers:
            task.cancel()
        await asyncio.gather(*self._readers, return_exceptions=True)
        self._readers.clear()
        self.host.peer_gone(self)

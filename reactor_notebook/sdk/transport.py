"""The aiortc side of a connection (``docs/protocol.md`` "Signalling"): one RTCPeerConnection per connect.

Creation order follows the official Python client: one transceiver per capability track
(H264 then VP8 preferred, marker-bit early release on video receivers), then data channel
``control``, then ``data`` (media sections get mids "0", "1", …, the data section the next).
ICE servers are always passed explicitly (aiortc would otherwise add a public STUN server), and
STUN servers never enter the gathering (:mod:`.ice`): the offer carries host and TURN candidates
at once, reflexive ones are trickled after it. The answer is patched (:mod:`.sdp`), and the connection is
READY once the peer is connected and both channels are open (``data`` only on the flat legacy
routes). It pings every 5 s (v0: on ``data``; v1: on ``control``), runs ``control`` requests
with a 10 s timeout, and publishes inputs through ``control`` before ``replaceTrack`` (an input with
nothing published holds a waiting stand-in track, :mod:`.idle_input`). On a
wire-v1 connection (:mod:`.channels_v1`) binary frames go to the v1 channel client.

Link watchdog (linkwatch.py): once READY, a connection that receives no packet (RTP, RTCP,
SCTP) and no answer to the ICE consent probes it then sends, for ``link_timeout`` seconds, is
reported lost, because aiortc itself notices a dead peer only after ~30 s of failed consent
checks (a killed runtime or a cut cable never sends a close).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from aiortc import (
    RTCConfiguration,
    RTCDataChannel,
    RTCIceServer,
    RTCPeerConnection,
    RTCRtpSender,
    RTCRtpTransceiver,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamTrack
from aiortc.rtcconfiguration import RTCBundlePolicy

from .. import protocol as P
from ..chunked_channel import activate, offering
from ..media.ice_checks import start_checks_together
from ..protocol.chunking import add_to_sdp
from . import transport_probes as probes
from .channels_v1 import V1Channels
from .decoding import install_stamps
from .errors import ControlRequestError, TransportError
from .http import HttpApi
from .ice import (
    add_candidates,
    first_mid,
    is_loopback_url,
    reflexive_candidates,
    split_servers,
    strip_end_of_candidates,
    trickle_reflexive,
)
from .idle_input import park
from .jitter import decoder_queue, install_decode_timing, install_early_release
from .linkwatch import LINK_TIMEOUT_S, LinkWatchdog, ice_connection
from .reader import FrameReader
from .sdp import patch_answer
from .transport_channels import ChannelMessaging, Entry
from .transport_types import DataChannel, Timings, TransportCallbacks
from .types import TrackCapability

logger = logging.getLogger(__name__)


def _prefer_h264_then_vp8(transceiver: RTCRtpTransceiver) -> None:
    caps = RTCRtpSender.getCapabilities("video")
    if caps is None:
        return
    h264 = [c for c in caps.codecs if c.mimeType.lower() == P.MIME_H264]
    vp8 = [c for c in caps.codecs if c.mimeType.lower() == P.MIME_VP8]
    rest = [c for c in caps.codecs if c not in h264 and c not in vp8]
    transceiver.setCodecPreferences(h264 + vp8 + rest)


class WebRTCTransport(ChannelMessaging):
    """One peer connection to the runtime, its channels, tracks and frame readers."""

    def __init__(
        self,
        api: HttpApi,
        session_id: str,
        tracks: list[TrackCapability],
        callbacks: TransportCallbacks,
        *,
        early_release: bool = True,
        ping_interval: float = P.PING_INTERVAL_S,
        ice_gather_timeout: float = P.ICE_GATHER_TIMEOUT_S,
        control_timeout: float = P.CONTROL_REQUEST_TIMEOUT_S,
        link_timeout: float | None = LINK_TIMEOUT_S,
    ) -> None:
        self.api = api
        self.session_id = session_id
        self.tracks = list(tracks)
        self.cb = callbacks
        self.early_release = early_release
        self.ping_interval = ping_interval
        self.ice_gather_timeout = ice_gather_timeout
        self.control_timeout = control_timeout
        self.link_timeout = link_timeout
        self.pc: RTCPeerConnection | None = None
        self.data: DataChannel | None = None
        self.control: DataChannel | None = None
        self.connection_id: int | None = None
        self.entries: dict[str, Entry] = {}
        self.remote_tracks: dict[str, MediaStreamTrack] = {}
        self.readers: dict[str, FrameReader] = {}
        self.published: dict[str, MediaStreamTrack] = {}
        self.timings = Timings()
        self._connected = False
        self._data_open = False
        self._control_open = False
        self._ready: asyncio.Future[None] | None = None
        self._ready_fired = False
        self._closing = False
        self._ping_task: asyncio.Task[None] | None = None
        self._link_task: asyncio.Task[None] | None = None
        self.link_watch: LinkWatchdog | None = None  # probe counters, for tests and diagnostics
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._request_counter = 0
        self._t_remote: float | None = None
        self._bg: set[asyncio.Future[Any]] = set()
        self._trickle: asyncio.Future[None] | None = None
        self.v1: V1Channels | None = None  # set by the session when the connection speaks wire v1
        self.chunking = False  # offer data-channel chunking (set by the session for stepped sessions)

    def __repr__(self) -> str:
        state = self.pc.connectionState if self.pc else "none"
        return f"WebRTCTransport(session={self.session_id!r}, connection={self.connection_id}, pc={state})"

    @property
    def is_ready(self) -> bool:
        """True once READY and until closing."""
        return self._ready_fired and not self._closing

    # --- negotiation -----------------------------------------------------------------------
    async def connect(self, ice_servers: list[dict[str, Any]], *, reconnect: bool = False) -> None:
        """Build the peer and offer, register a connection, exchange SDP and apply the answer."""
        self._ready = asyncio.get_running_loop().create_future()
        turn, stun = split_servers(ice_servers)
        if is_loopback_url(self.api.base_url):
            stun = []  # same machine: host candidates connect, a reflexive address adds nothing
        pc = self._build_peer(turn)
        sdp, mapping = await self._local_offer(pc)
        start_checks_together(pc)
        if not self.api.flat_routes:
            self.connection_id = await self.api.register_connection(self.session_id)
        if stun and self.flat:  # no trickle route: wait (bounded) and put them in the offer
            sdp = add_candidates(sdp, await reflexive_candidates(pc, stun, self.ice_gather_timeout))
        elif stun:
            sdp = strip_end_of_candidates(sdp)
        t0 = time.monotonic()
        if self.chunking:  # stepped sessions: a step's frames need messages larger than SCTP's
            sdp = add_to_sdp(sdp)
        await self.api.send_offer(self.session_id, self.connection_id, sdp, mapping, reconnect=reconnect)
        if stun and not self.flat:
            self._trickle = asyncio.ensure_future(
                trickle_reflexive(pc, stun, first_mid(sdp), self._send_candidates)
            )
        answer = await self.api.poll_answer(self.session_id, self.connection_id)
        self.timings.sdp_polling_ms = (time.monotonic() - t0) * 1000
        self.timings.sdp_polling_attempts = self.api.sdp_poll_attempts
        self._t_remote = time.monotonic()
        await pc.setRemoteDescription(RTCSessionDescription(sdp=patch_answer(answer), type="answer"))
        activate((self.control, self.data), answer)
        self._check_ready()

    def _build_peer(self, turn: list[RTCIceServer]) -> RTCPeerConnection:
        """The peer with its transceivers, then the ``control`` and ``data`` channels."""
        config = RTCConfiguration(iceServers=turn, bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)
        pc = self.pc = RTCPeerConnection(configuration=config)
        pc.on("connectionstatechange", self._on_connection_state)
        pc.on("track", self._on_track)
        pc.on("datachannel", self._on_remote_channel)
        self._add_transceivers(pc)

        # Channels after the transceivers: with max-bundle, aiortc 1.16 bundles the media on the SCTP
        # transport when a channel exists first, and that peer never connects (reactor-sdk 0.8.0 uses this order too).
        self.control = control = offering(pc.createDataChannel(P.CHANNEL_CONTROL), self.chunking)
        control.on("open", self._on_control_open)
        control.on("message", self._on_control_message)
        self.data = data = offering(pc.createDataChannel(P.CHANNEL_DATA), self.chunking)
        data.on("open", self._on_data_open)
        data.on("close", self._stop_ping)
        data.on("message", self._on_data_message)
        return pc

    async def _local_offer(self, pc: RTCPeerConnection) -> tuple[str, list[dict[str, str]]]:
        """Create the offer (host and TURN candidates gathered) and the ``track_mapping`` that goes with it."""
        t_offer = time.monotonic()
        offer = await pc.createOffer()
        await pc.setLocalDescription(offer)  # host (+ TURN) candidates only: STUN is asked later
        await self._wait_gathering()
        self.timings.extra["offer_ms"] = (time.monotonic() - t_offer) * 1000
        sdp = pc.localDescription.sdp
        mapping = [
            {"mid": str(e.transceiver.mid), "name": e.name, "kind": e.kind, "direction": e.direction}
            for e in self.entries.values()
        ]
        if any(m["mid"] == "None" for m in mapping):
            raise TransportError("could not build track_mapping: a transceiver has no mid")
        return sdp, mapping

    def _add_transceivers(self, pc: RTCPeerConnection) -> None:
        """One transceiver per capability track, in order (H264 then VP8; early release on video outputs)."""
        for t in self.tracks:
            direction = "recvonly" if t["direction"] == "recvonly" else "sendonly"
            tx = pc.addTransceiver(t["kind"], direction=direction)
            entry = Entry(t["name"], t["kind"], direction, tx)
            if direction == "sendonly":
                park(tx.sender, t["kind"])  # waits for a published track instead of aiortc's 20 ms poll
            if t["kind"] == "video":
                _prefer_h264_then_vp8(tx)
                if direction == "recvonly":
                    if self.early_release:
                        entry.early_release = install_early_release(tx.receiver)
                    install_decode_timing(tx.receiver)
            self.entries[t["name"]] = entry

    async def _send_candidates(self, candidates: list[dict[str, Any]], is_final: bool) -> None:
        if self.connection_id is not None and not self._closing:
            await self.api.send_ice_candidates(self.session_id, self.connection_id, candidates, is_final)

    async def _wait_gathering(self) -> None:
        pc = self.pc
        if pc is None or pc.iceGatheringState == "complete":
            return
        done = asyncio.Event()

        def changed() -> None:
            """Wake the waiter once ICE gathering is complete."""
            if pc.iceGatheringState == "complete":
                done.set()

        pc.on("icegatheringstatechange", changed)
        try:
            await asyncio.wait_for(done.wait(), self.ice_gather_timeout)
        except asyncio.TimeoutError:
            logger.warning(
                "ICE gathering not complete after %.1f s; sending the candidates found",
                self.ice_gather_timeout,
            )

    async def wait_ready(self, timeout: float | None) -> None:
        """Wait until READY; TransportError if the peer fails or closes first, TimeoutError after ``timeout``."""
        if self._ready is None:
            raise TransportError("transport not started")
        try:
            await asyncio.wait_for(asyncio.shield(self._ready), timeout)
        except asyncio.TimeoutError:
            state = self.pc.connectionState if self.pc else "none"
            raise TransportError(
                f"not ready after {timeout} s (peer {state}, data channel "
                f"{'open' if self._data_open else 'not open'}, control channel "
                f"{'open' if self._control_open else 'not open'})"
            ) from None

    # --- events ------------------------------------------------------------------------------
    def _check_ready(self) -> None:
        if self._ready_fired or self._closing:
            return
        if self._connected and self._data_open and (self._control_open or self.flat):
            self._ready_fired = True
            if self._ready is not None and not self._ready.done():
                self._ready.set_result(None)
            if self.link_timeout and self.cb.on_link_lost is not None:
                self._link_task = asyncio.get_running_loop().create_task(
                    self._watch_link(), name="reactor-link"
                )
            self.cb.on_ready()

    def _fail_ready(self, message: str) -> None:
        if self._ready is not None and not self._ready.done():
            self._ready.set_exception(TransportError(message))
            self._ready.exception()  # mark retrieved: wait_ready may not be awaiting yet

    def _on_connection_state(self) -> None:
        pc = self.pc
        if pc is None or self._closing:
            return
        state = pc.connectionState
        logger.debug("peer connection state: %s", state)
        if state == "connected":
            if self._t_remote is not None and not self.timings.ice_negotiation_ms:
                self.timings.ice_negotiation_ms = (time.monotonic() - self._t_remote) * 1000
            self._connected = True
            self._check_ready()
        elif state in ("failed", "closed", "disconnected"):
            self._connected = False
            failed = state == "failed"
            if not self._ready_fired:
                self._fail_ready(f"peer connection {state} before the transport was ready")
            else:
                self.cb.on_lost(failed)

    def _on_track(self, track: MediaStreamTrack) -> None:
        name = next(
            (
                n
                for n, e in self.entries.items()
                if e.transceiver.receiver is not None and e.transceiver.receiver.track is track
            ),
            f"unknown-{track.id}",
        )
        self.remote_tracks[name] = track
        logger.debug("track received: %s (%s)", name, track.kind)
        if track.kind == "video":
            entry = self.entries.get(name)
            if entry is not None:
                install_stamps(track, entry.transceiver.receiver)
            dq = decoder_queue(entry.transceiver.receiver) if entry is not None else None
            reader = FrameReader(track, name, self.cb.on_frame, released_at=dq.released_at if dq else None)
            old = self.readers.pop(name, None)
            if old is not None:
                task = asyncio.ensure_future(old.stop())
                self._bg.add(task)
                task.add_done_callback(self._bg.discard)
            self.readers[name] = reader
            reader.start()
        self.cb.on_track(name, track)

    def _on_remote_channel(self, channel: RTCDataChannel) -> None:
        # docs/protocol.md "Signalling": a runtime must not open channels; note it and ignore it.
        logger.warning("runtime opened data channel %r; ignored (clients own the channels)", channel.label)

    def _on_data_open(self) -> None:
        if self._t_remote is not None:
            self.timings.data_channel_ms = (time.monotonic() - self._t_remote) * 1000
        self._data_open = True
        self._start_ping()
        self._check_ready()

    def _on_control_open(self) -> None:
        self._control_open = True
        self._check_ready()

    # --- link watchdog and probes -----------------------------------------------------------------
    def rx_packets(self) -> int | None:
        """Packets received so far on this peer's DTLS transport(s); None if aiortc hides the count."""
        return probes.rx_packets(self.pc)

    async def _watch_link(self) -> None:
        """Report the link lost after ``link_timeout`` s with no packet and unanswered consent probes."""
        assert self.link_timeout and self.cb.on_link_lost is not None
        self.link_watch = LinkWatchdog(
            self.rx_packets, lambda: ice_connection(self.pc), self.link_timeout,
            self.cb.on_link_lost, lambda: self._closing,
        )
        await self.link_watch.run()

    # --- teardown -------------------------------------------------------------------------------------
    async def close(self) -> None:
        """Stop ping, fail pending requests, unpublish, stop readers, close channels and the peer."""
        if self._closing:
            return
        self._closing = True
        self._stop_ping()
        if self._trickle is not None and not self._trickle.done():
            self._trickle.cancel()
        link, self._link_task = self._link_task, None
        if link is not None and not link.done() and link is not asyncio.current_task():
            link.cancel()
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(
                    ControlRequestError(P.KIND_REQUEST, "DISCONNECTED", "disconnected while waiting")
                )
        self._pending.clear()
        if self.v1 is not None:
            self.v1.fail_all()
        self._fail_ready("transport closed")
        for name in list(self.published):
            try:
                await self.unpublish_track(name)
            except Exception as exc:
                logger.debug("unpublish %s during close failed: %s", name, exc)
        readers = list(self.readers.values())
        self.readers.clear()
        await asyncio.gather(*(r.stop() for r in readers), return_exceptions=True)
        for ch in (self.control, self.data):
            if ch is not None:
                try:
                    ch.close()
                except Exception:
                    pass
        if self.pc is not None:
            try:
                await self.pc.close()
            except Exception as exc:
                logger.debug("closing peer connection failed: %s", exc)
        self.remote_tracks.clear()

    # --- stats ----------------------------------------------------------------------------------------
    def candidate_type(self) -> str | None:
        """Local candidate type of the nominated ICE pair (host/srflx/relay), if known."""
        return probes.candidate_type(self.pc)

    def sctp_rtt_ms(self) -> float | None:
        """Smoothed RTT of the SCTP association (the data channels), in ms."""
        return probes.sctp_rtt_ms(self.pc)

    def outgoing_bitrate(self) -> float | None:
        """Encoder target bitrate of the first published input (bits/s), if any."""
        return probes.outgoing_bitrate(self.entries[n].transceiver.sender for n in self.published)

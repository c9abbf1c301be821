"""Read-outs of an aiortc peer connection that aiortc keeps private: packets, candidate type, RTT, bitrate.

Each returns None when this aiortc version hides the value; the link watchdog and the stats use them.
"""

from __future__ import annotations

from collections.abc import Iterable

from aiortc import RTCPeerConnection, RTCRtpSender


def rx_packets(pc: RTCPeerConnection | None) -> int | None:
    """Packets received so far on the peer's DTLS transport(s); None if aiortc hides the count."""
    if pc is None:
        return None
    transports = [pc.sctp.transport] if pc.sctp is not None else []
    transports += [tr.receiver.transport for tr in pc.getTransceivers()]
    seen: set[int] = set()
    total: int | None = None
    for dtls in transports:
        if dtls is None or id(dtls) in seen:
            continue
        seen.add(id(dtls))
        count = getattr(dtls, "_RTCDtlsTransport__rx_packets", None)  # aiortc private counter
        if isinstance(count, int):
            total = (total or 0) + count
    return total


def candidate_type(pc: RTCPeerConnection | None) -> str | None:
    """Local candidate type of the nominated ICE pair (host/srflx/relay), if known."""
    try:
        assert pc is not None
        sctp = pc.sctp
        dtls = sctp.transport if sctp is not None else pc.getTransceivers()[0].receiver.transport
        conn = dtls.transport._connection
        pair = next(iter(conn._nominated.values()))
        return str(pair.local_candidate.type)
    except Exception:
        return None


def sctp_rtt_ms(pc: RTCPeerConnection | None) -> float | None:
    """Smoothed RTT of the SCTP association (the data channels), in ms."""
    try:
        assert pc is not None and pc.sctp is not None
        srtt = pc.sctp._srtt
        return None if srtt is None else float(srtt) * 1000.0
    except Exception:
        return None


def outgoing_bitrate(senders: Iterable[RTCRtpSender]) -> float | None:
    """Encoder target bitrate of the first sender that has one (bits/s), if any."""
    for sender in senders:
        try:
            enc = sender._RTCRtpSender__encoder  # type: ignore[attr-defined]
            rate = getattr(enc, "target_bitrate", None)
            if rate:
                return float(rate)
        except Exception:
            continue
    return None

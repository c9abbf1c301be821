"""MarkerJitterBuffer on synthetic RTP packets: early release on the marker bit, stock fallback otherwise.

``Sim`` drives the buffer exactly like aiortc's RTCRtpReceiver does (add → put the returned
frame on the decoder queue), with the chained decoder queue installed, and records after
which packet each frame reached the decoder queue.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from aiortc import RTCPeerConnection
from aiortc.jitterbuffer import JitterBuffer
from aiortc.rtp import RtpPacket

from reactor_notebook.sdk import jitter
from reactor_notebook.sdk.jitter import DecoderInputQueue, MarkerJitterBuffer, install_early_release


def pkt(seq: int, ts: int, marker: bool = False) -> RtpPacket:
    p = RtpPacket(payload_type=96, marker=1 if marker else 0, sequence_number=seq % 65536, timestamp=ts)
    p._data = f"<{seq}>".encode()  # type: ignore[attr-defined]
    return p


def frames(seq0: int, sizes: list[int], ts0: int = 1000, step: int = 3750) -> list[RtpPacket]:
    """Consecutive frames of ``sizes`` packets each, marker on each frame's last packet."""
    out, seq = [], seq0
    for i, n in enumerate(sizes):
        for k in range(n):
            out.append(pkt(seq, ts0 + i * step, marker=k == n - 1))
            seq += 1
    return out


class IdentityMapper:
    def map(self, timestamp: int) -> int:
        return timestamp


class Sim:
    """Receiver-like driver: ``decoded`` lists (packet index, timestamp, data) per decoder-queue item."""

    def __init__(self, buf: JitterBuffer, chained: bool = True) -> None:
        self.buf = buf
        self.queue: Any
        if chained and isinstance(buf, MarkerJitterBuffer):
            buf.chained = True
            self.queue = DecoderInputQueue(buf, IdentityMapper())
        else:
            import queue

            self.queue = queue.Queue()
        self.decoded: list[tuple[int, int, bytes]] = []
        self.n = 0

    def feed(self, packets: list[RtpPacket]) -> list[tuple[int, int, bytes]]:
        new: list[tuple[int, int, bytes]] = []
        for p in packets:
            _, frame = self.buf.add(p)
            if frame is not None:
                self.queue.put(("codec", frame))
            while not self.queue.empty():
                _, f = self.queue.get_nowait()
                new.append((self.n, f.timestamp, f.data))
            self.n += 1
        self.decoded += new
        return new


def test_stock_buffer_waits_for_next_frame() -> None:
    """Documents the latency being fixed: stock releases frame N only on frame N+1's first packet."""
    sim = Sim(JitterBuffer(capacity=512, is_video=True))
    sim.feed(frames(100, [3, 2, 2]))
    assert [(i, ts) for i, ts, _ in sim.decoded] == [(3, 1000), (5, 4750)]


def test_marker_releases_complete_frames_on_their_marker_packet() -> None:
    sim = Sim(MarkerJitterBuffer())
    sim.feed(frames(100, [3, 2, 4, 1, 2]))
    # Frame 0: the origin is not yet known to be a frame start → stock release on frame 1's first packet.
    # Every later frame reaches the decoder on its own marker packet (indices 4, 8, 9, 11).
    assert [(i, ts) for i, ts, _ in sim.decoded] == [(3, 1000), (4, 4750), (8, 8500), (9, 12250), (11, 16000)]
    assert sim.decoded[2][2] == b"<105><106><107><108>"
    assert sim.buf.early_frames == 4 and sim.buf.stock_frames == 1


def test_single_packet_frames_after_a_stock_release_do_not_cascade() -> None:
    """One packet finishing two frames: the second goes out right after the first (chained queue)."""
    sim = Sim(MarkerJitterBuffer())
    sim.feed(frames(0, [1, 1, 1, 1]))
    assert [(i, ts) for i, ts, _ in sim.decoded] == [(1, 1000), (1, 4750), (2, 8500), (3, 12250)]
    # Without the chained queue the buffer still releases one frame per packet, but each single-packet
    # frame then waits for the next one, exactly like stock (no early release at all).
    bare = Sim(MarkerJitterBuffer(), chained=False)
    bare.feed(frames(0, [1, 1, 1, 1]))
    assert [(i, ts) for i, ts, _ in bare.decoded] == [(1, 1000), (2, 4750), (3, 8500)]


def test_marker_before_frame_is_complete_releases_when_the_hole_fills() -> None:
    sim = Sim(MarkerJitterBuffer())
    sim.feed(frames(0, [1, 1]))  # warm-up
    assert sim.feed([pkt(2, 9000), pkt(4, 9000, marker=True)]) == []  # hole at 3: not complete
    assert sim.feed([pkt(3, 9000)]) == [(4, 9000, b"<2><3><4>")]  # reordered packet completes it
    assert sim.feed([pkt(5, 13000, marker=True)]) == [(5, 13000, b"<5>")]
    stock = Sim(JitterBuffer(capacity=512, is_video=True))
    stock.feed([*frames(0, [1, 1]), pkt(2, 9000), pkt(4, 9000, marker=True), pkt(3, 9000)])
    assert (4, 9000) not in [(i, ts) for i, ts, _ in stock.decoded]


def test_incomplete_frame_keeps_stock_behaviour_then_early_release_resumes() -> None:
    sim = Sim(MarkerJitterBuffer())
    sim.feed(frames(0, [1, 1]))
    # Frame ts 9000 lost its first packet (seq 2) for now: 3 and 4 (marker) arrive.
    assert sim.feed([pkt(3, 9000), pkt(4, 9000, marker=True)]) == []
    assert sim.feed([pkt(5, 13000, marker=True)]) == []  # hole at the origin blocks all, as in stock
    # Retransmission fills the hole: the stock cut releases ts 9000 and 13000 is already complete.
    assert sim.feed([pkt(2, 9000)]) == [(5, 9000, b"<2><3><4>"), (5, 13000, b"<5>")]
    assert sim.feed([pkt(6, 17000), pkt(7, 17000, marker=True)]) == [(7, 17000, b"<6><7>")]


def test_frame_with_lost_marker_is_released_by_next_frame_like_stock() -> None:
    sim = Sim(MarkerJitterBuffer())
    stock = Sim(JitterBuffer(capacity=512, is_video=True))
    lossy = [*frames(0, [1, 1]), pkt(2, 9000), pkt(3, 9000), pkt(5, 13000, marker=True), pkt(4, 9000)]
    sim.feed(lossy)
    stock.feed(lossy)
    # The marker packet 4 arrives late (index 5): nothing of ts 9000 leaves before it; then both
    # ts 9000 and the already complete ts 13000 go out at once. Stock still holds ts 13000.
    assert [(i, ts, d) for i, ts, d in sim.decoded if ts >= 9000] == [
        (5, 9000, b"<2><3><4>"),
        (5, 13000, b"<5>"),
    ]
    assert [(ts, d) for _, ts, d in stock.decoded if ts >= 9000] == [(9000, b"<2><3><4>")]


def test_frame_without_marker_bit_is_released_by_next_frame_like_stock() -> None:
    """A frame that never gets a marker bit (no sequence gap) goes out on the next frame's packet, as in stock."""
    sim = Sim(MarkerJitterBuffer())
    stock = Sim(JitterBuffer(capacity=512, is_video=True))
    stream = [
        *frames(0, [1, 1]),
        pkt(2, 9000),
        pkt(3, 9000),
        pkt(4, 13000, marker=True),
        pkt(5, 17000, marker=True),
    ]
    sim.feed(stream)
    stock.feed(stream)
    assert (4, 9000, b"<2><3>") in stock.decoded
    # Ours: the same stock cut at packet 4, then the complete frame 13000 right behind it, and 17000 on its marker.
    assert [(i, ts, d) for i, ts, d in sim.decoded if ts >= 9000] == [
        (4, 9000, b"<2><3>"),
        (4, 13000, b"<4>"),
        (5, 17000, b"<5>"),
    ]


def test_marker_packet_lost_for_good_never_stalls_longer_than_stock() -> None:
    """A frame whose marker packet never arrives: every frame goes out no later than stock, then early release resumes."""
    capacity = 32
    stream = [p for p in frames(0, [2] * 60) if p.sequence_number != 21]  # frame 10's marker packet: lost
    sim = Sim(MarkerJitterBuffer(capacity=capacity))
    stock = Sim(JitterBuffer(capacity=capacity, is_video=True))
    sim.feed(stream)
    stock.feed(stream)
    ours = {ts: i for i, ts, _ in sim.decoded}
    theirs = {ts: i for i, ts, _ in stock.decoded}
    assert set(theirs) <= set(ours)
    assert all(ours[ts] <= i for ts, i in theirs.items())  # never later than stock
    # The stream goes on past the loss (the hole is dropped once the buffer overflows, as in stock)
    # and the last frames are again released on their own marker packet.
    last = sorted(ours)[-5:]
    marker_index = {p.timestamp: n for n, p in enumerate(stream) if p.marker}
    assert [ours[ts] for ts in last] == [marker_index[ts] for ts in last]


def test_late_duplicate_after_early_release_is_dropped() -> None:
    sim = Sim(MarkerJitterBuffer())
    sim.feed(frames(0, [1, 2]))
    assert sim.feed([pkt(2, 4750, marker=True)]) == []  # retransmitted copy of a released packet
    assert sim.feed([pkt(3, 8500, marker=True)]) == [(4, 8500, b"<3>")]


def test_sequence_wraparound() -> None:
    sim = Sim(MarkerJitterBuffer())
    sim.feed(frames(65533, [1, 3, 2]))
    assert [(ts, d) for _, ts, d in sim.decoded] == [
        (1000, b"<65533>"),
        (4750, b"<65534><65535><65536>"),
        (8500, b"<65537><65538>"),
    ]
    assert [i for i, _, _ in sim.decoded] == [1, 3, 5]


async def test_install_on_real_receiver() -> None:
    pc = RTCPeerConnection()
    try:
        video = pc.addTransceiver("video", direction="recvonly")
        audio = pc.addTransceiver("audio", direction="recvonly")
        assert install_early_release(video.receiver)
        buf = getattr(video.receiver, jitter._RECEIVER_ATTR)
        assert isinstance(buf, MarkerJitterBuffer) and buf.chained
        assert isinstance(getattr(video.receiver, jitter._QUEUE_ATTR), DecoderInputQueue)
        assert install_early_release(video.receiver)  # idempotent
        assert not install_early_release(audio.receiver)  # audio keeps its prefetching buffer
        assert type(getattr(audio.receiver, jitter._RECEIVER_ATTR)) is JitterBuffer
    finally:
        await pc.close()


async def test_unverified_version_falls_back_and_logs_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(jitter.aiortc, "__version__", "9.0.0")
    monkeypatch.setattr(jitter, "_warned", False)
    caplog.set_level(logging.INFO, logger="reactor_notebook.sdk.jitter")
    pc = RTCPeerConnection()
    try:
        for _ in range(3):
            rx = pc.addTransceiver("video", direction="recvonly").receiver
            assert install_early_release(rx) is False
            assert type(getattr(rx, jitter._RECEIVER_ATTR)) is JitterBuffer
    finally:
        await pc.close()
    assert sum("not enabled" in rec.getMessage() for rec in caplog.records) == 1

"""Receive fast path (reactor_notebook/sdk/fastrx.py): SRTP from aioice straight to aiortc's handlers.

Real path against the embedded runtime: media packets and RTCP arrive through the fast path, the
frames are pixel-correct, a lost packet is NACKed and recovered, stats and the data channel work.
Fallback: on an unverified aiortc the stock path stays (logged once) and frames still arrive.
Unit: a handler that has to wait is finished by a task, in order, and DTLS records keep the queue.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from aiortc.rtcdtlstransport import State
from sdk_support import next_frames
from testutil import Recorder

from reactor_notebook import framecode
from reactor_notebook.runtime import LocalRuntime
from reactor_notebook.sdk import Reactor, fastrx
from reactor_notebook.sdk.fastrx import DirectMedia


async def frames_until(r: Reactor, pred: Any, limit: int = 240) -> None:
    """Take frames until ``pred()`` holds (at most ``limit`` frames: ~10 s at 24 fps)."""
    for _ in range(limit):
        if pred():
            return
        await next_frames(r, 1)
    assert pred()


async def test_media_takes_the_fast_path_and_frames_are_pixel_correct(runtime: LocalRuntime) -> None:
    r = Reactor("testpattern", local=True, local_url=runtime.url)
    rec = Recorder().attach(r)
    await r.connect()
    try:
        transport = r._transport
        assert transport is not None and len(transport.direct) == 1
        direct = transport.direct[0]
        frames = await next_frames(r, 10)
        indices = [framecode.read_index(f) for f, _ in frames]
        assert len(set(indices)) >= 8 and indices == sorted(indices)
        await frames_until(r, lambda: direct.rtcp > 0)  # the runtime's sender reports
        assert direct.rtp > 10 and direct.errors == 0 and direct.suspended == 0

        # the data channel (its DTLS records keep aiortc's queue) and the model still answer
        reply = await r.send_command_and_wait("set_color", {"r": 250, "g": 10, "b": 20})
        assert reply.confirmed

        def red() -> bool:
            ref = r.frames.latest_ref()
            return ref is not None and ref[0][192, 320, 0] > 200 and ref[0][192, 320, 1] < 60

        await frames_until(r, red)
        assert direct.queued > 0  # data-channel records went the stock way
        stats = await r.collect_stats()  # aiortc's getStats: inbound video counted from the fast path
        assert stats["packets_received"] is not None and stats["packets_received"] >= direct.rtp * 0.9
        assert stats["packets_lost"] == 0 and stats["jitter"] is not None
        assert transport.rx_packets() is not None and transport.rx_packets() >= direct.rtp + direct.rtcp
        assert rec.of("error") == []
    finally:
        await r.disconnect()
    assert "data_received" not in vars(direct._connection)  # the stock method is back


async def test_lost_packet_is_nacked_and_recovered_on_the_fast_path(runtime: LocalRuntime) -> None:
    r = Reactor("testpattern", local=True, local_url=runtime.url)
    await r.connect()
    try:
        transport = r._transport
        assert transport is not None and transport.direct
        await next_frames(r, 3)
        receiver = transport.entries["main_video"].transceiver.receiver
        lost: list[tuple[int, int]] = []  # (ssrc, sequence number) dropped once
        recovered: list[int] = []
        nacked: list[int] = []
        handle, send_nack = receiver._handle_rtp_packet, receiver._send_rtcp_nack

        async def lossy(packet: Any, arrival_time_ms: int) -> None:
            if not lost and len(packet.payload) > 2 and packet.marker == 0:
                lost.append((packet.ssrc, packet.sequence_number))
                return  # lost on the way
            if lost and packet.ssrc != lost[0][0] and int.from_bytes(packet.payload[:2], "big") == lost[0][1]:
                recovered.append(packet.sequence_number)  # RTX: the original sequence number first
            elif lost and (packet.ssrc, packet.sequence_number) == lost[0]:
                recovered.append(packet.sequence_number)
            await handle(packet, arrival_time_ms=arrival_time_ms)

        async def counting_nack(ssrc: int, missing: list[int]) -> None:
            nacked.extend(missing)
            await send_nack(ssrc, missing)

        receiver._send_rtcp_nack = counting_nack
        receiver._handle_rtp_packet = lossy
        rtp_before = transport.direct[0].rtp
        await frames_until(r, lambda: bool(recovered))
        assert lost and lost[0][1] in nacked
        assert transport.direct[0].rtp > rtp_before
        frames = await next_frames(r, 5)  # the stream goes on
        assert len({framecode.read_index(f) for f, _ in frames}) >= 4
    finally:
        await r.disconnect()


async def test_unverified_aiortc_keeps_the_stock_path_and_logs_once(
    runtime: LocalRuntime, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(fastrx, "VERIFIED_VERSIONS", ("9.",))
    monkeypatch.setattr(fastrx, "_warned", set())
    caplog.set_level(logging.INFO, logger="reactor_notebook.sdk.fastrx")
    for _ in range(2):
        r = Reactor("testpattern", local=True, local_url=runtime.url)
        await r.connect()
        try:
            transport = r._transport
            assert transport is not None and transport.direct == []
            frames = await next_frames(r, 5)
            assert len({framecode.read_index(f) for f, _ in frames}) >= 4
            assert (transport.rx_packets() or 0) > 0
        finally:
            await r.disconnect()
    assert sum("fast path off" in rec.getMessage() for rec in caplog.records) == 1


class FakeSrtp:
    def unprotect(self, data: bytes) -> bytes:
        return data

    def unprotect_rtcp(self, data: bytes) -> bytes:
        return data


class FakeDtls:
    """The DTLS transport's surface the fast path uses; the RTP handler waits on every third packet."""

    def __init__(self) -> None:
        self._rx_srtp = FakeSrtp()
        self._state = State.CONNECTED
        self._RTCDtlsTransport__rx_packets = 0
        self._RTCDtlsTransport__rx_bytes = 0
        self.handled: list[int] = []
        self.release = asyncio.Event()

    async def _handle_rtp_data(self, data: bytes, arrival_time_ms: int) -> None:
        if data[1] % 3 == 0:
            await self.release.wait()
        self.handled.append(data[1])

    async def _handle_rtcp_data(self, data: bytes) -> None:
        self.handled.append(-1)


class FakeConnection:
    def __init__(self) -> None:
        self.queue: list[bytes] = []

    def data_received(self, data: bytes, component: int) -> None:
        self.queue.append(data)


async def test_waiting_handler_is_finished_by_a_task_and_dtls_records_keep_the_queue() -> None:
    dtls, conn = FakeDtls(), FakeConnection()
    direct = DirectMedia(dtls, conn)  # type: ignore[arg-type]
    direct.install()
    rtp = [bytes([0x80, n, 0, n]) for n in (1, 2, 3, 4)]
    rtcp = bytes([0x80, 200, 0, 1])  # sender report: payload type 200
    record = bytes([23, 0xFE, 0xFD])  # DTLS application data
    for data in (rtp[0], rtp[1], record, rtp[2], rtcp, rtp[3]):
        conn.data_received(data, 1)
    assert dtls.handled == [1, 2, -1, 4] and conn.queue == [record]
    assert (direct.rtp, direct.rtcp, direct.queued, direct.suspended) == (4, 1, 1, 1)
    assert dtls._RTCDtlsTransport__rx_packets == 5
    dtls.release.set()
    while direct._tasks:
        await asyncio.gather(*direct._tasks)
    assert dtls.handled == [1, 2, -1, 4, 3]
    dtls._rx_srtp = None  # type: ignore[assignment]  # before keys: everything is queued
    conn.data_received(rtp[0], 1)
    assert conn.queue == [record, rtp[0]]
    direct.uninstall()
    assert "data_received" not in vars(conn)

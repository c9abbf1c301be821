"""One encode per output and codec for every connection of a session (runtime/fanout.py).

Real runtime, real aiortc peers on loopback: two connections share one encoder and both decode
correct frames; different codecs get separate encoders; a receiver's PLI reaches the shared
encoder as a key frame; the last connection to leave stops the encode task; a sender whose
aiortc lacks the hooks falls back to encoding per connection. The lag rule is unit-tested.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiortc.mediastreams import MediaStreamError
from testutil import apoll_until

from reactor_notebook.framecode import read_index
from reactor_notebook.runtime import LocalRuntime
from reactor_notebook.runtime import peer as peer_module
from reactor_notebook.runtime.encoding import EncoderSettings, TunedH264Encoder
from reactor_notebook.runtime.fanout import QUEUE_LIMIT, EncodedTrack, EncodedUnit, SharedEncoder
from reactor_notebook.runtime.media import OutputTrack

from .client import RawClient
from .conftest import make_runtime


@pytest.fixture
async def started() -> AsyncIterator[LocalRuntime]:
    """A testpattern runtime with its local session started (clients join it)."""
    with make_runtime() as rt:
        async with aiohttp.ClientSession() as http, http.post(rt.url + "/start_session") as r:
            assert r.status == 200
        yield rt


def _session(rt: LocalRuntime):  # the runtime's one local session
    return rt.server.manager.sessions["local"]


def _indices(client: RawClient) -> list[int]:
    return [read_index(f) for f in client.frames]


async def _connected(rt: LocalRuntime, codec: str) -> RawClient:
    client = RawClient(rt.url, video_codec=codec)
    await client.connect()
    await client.wait_frames(3)
    return client


async def test_two_connections_share_one_encoder_and_both_decode(started: LocalRuntime) -> None:
    first = await _connected(started, "H264")
    try:
        second = await _connected(started, "H264")
        try:
            worker = _session(started).worker
            (shared,) = worker.encoders.encoders.values()
            assert shared.mime == "video/h264" and len(shared.tracks) == 2
            outputs = [p.outputs["main_video"] for p in _session(started).peers]
            assert all(isinstance(t, EncodedTrack) and t.source is shared for t in outputs)
            before = first.frame_count
            rendered, encoded = worker.frames_rendered, shared.frames_encoded
            await first.wait_frames(10)
            await second.wait_frames(10)
            assert first.frame_count > before  # the first decoder kept going through the join's key frame
            # one encode per rendered frame for both connections (plus the odd repeat), not one per connection
            assert shared.frames_encoded - encoded <= worker.frames_rendered - rendered + 3
            for client in (first, second):  # every kept frame decodes to a readable, increasing index
                got = _indices(client)
                assert got == sorted(got) and len(set(got)) >= 4, got
            assert abs(_indices(first)[-1] - _indices(second)[-1]) <= 3
            assert sum(t.frames_sent for t in outputs) >= 20
        finally:
            await second.close()
        await apoll_until(lambda: len(shared.tracks) == 1, 5, "the second connection's track left")
    finally:
        await first.close()
    await apoll_until(lambda: not worker.encoders.encoders, 5, "the pool emptied")
    await apoll_until(lambda: shared._task is None and shared.encoder.codec is None, 5, "encode task ended, codec released")


async def test_different_codecs_get_their_own_encoder(started: LocalRuntime) -> None:
    h264 = await _connected(started, "H264")
    vp8 = await _connected(started, "VP8")
    try:
        encoders = _session(started).worker.encoders.encoders
        assert sorted(mime for _, mime in encoders) == ["video/h264", "video/vp8"]
        assert all(len(e.tracks) == 1 and e.frames_encoded > 0 for e in encoders.values())
        for client in (h264, vp8):
            await client.wait_frames(5)
            assert len(set(_indices(client))) >= 3
    finally:
        await h264.close()
        await vp8.close()


async def test_receiver_pli_makes_the_shared_encoder_send_a_key_frame(started: LocalRuntime) -> None:
    client = await _connected(started, "H264")
    try:
        (shared,) = _session(started).worker.encoders.encoders.values()
        await client.wait_frames(5)
        keys = shared.keyframes
        receiver = client.transceivers["main_video"].receiver
        (ssrc,) = receiver._RTCRtpReceiver__remote_streams  # the runtime's video SSRC, as received
        await receiver._send_rtcp_pli(ssrc)  # what a decoder that lost its reference sends
        await apoll_until(lambda: shared.keyframes > keys, 5, "a key frame after the PLI")
        await client.wait_frames(3)
    finally:
        await client.close()


async def test_sender_without_hooks_falls_back_to_its_own_encoder(
    started: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(peer_module, "install_packer", lambda sender, track: False)
    client = await _connected(started, "H264")
    try:
        (peer,) = _session(started).peers
        assert isinstance(peer.outputs["main_video"], OutputTrack)
        assert isinstance(peer.senders["main_video"]._RTCRtpSender__encoder, TunedH264Encoder)
        assert not _session(started).worker.encoders.encoders
        frames = await client.wait_frames(5)
        assert len({read_index(f) for f in frames}) >= 3
    finally:
        await client.close()


def _unit(key: bool, t: float = 0.0) -> EncodedUnit:
    return EncodedUnit(b"\x00\x00\x00\x01" + (b"\x65" if key else b"\x41"), key, t)


async def test_a_lagging_track_drops_its_backlog_and_rejoins_at_a_key_frame() -> None:
    source = SharedEncoder("main_video", "video/h264", EncoderSettings(), fps=30)
    track = EncodedTrack("main_video", "video/h264")
    track.source = source
    source._want_key = False
    track.offer(_unit(False))  # before its first key frame a track takes nothing
    assert track.units_dropped == 1 and not track._queue
    track.offer(_unit(True))
    for _ in range(QUEUE_LIMIT - 1):
        track.offer(_unit(False))
    assert len(track._queue) == QUEUE_LIMIT and not source._want_key
    track.offer(_unit(False))  # one more than the sender has taken: the chain is given up
    assert not track._queue and source._want_key and track.units_dropped == 2 + QUEUE_LIMIT
    track.offer(_unit(False))
    assert not track._queue
    track.offer(_unit(True, 0.5))
    packet = await asyncio.wait_for(track.recv(), 1)
    assert bytes(packet) == _unit(True).data and packet.pts == 0 and track.frames_sent == 1


async def test_pause_drops_units_and_resume_waits_for_a_key_frame() -> None:
    source = SharedEncoder("main_video", "video/h264", EncoderSettings(), fps=30)
    track = EncodedTrack("main_video", "video/h264")
    track.source = source
    track.offer(_unit(True))
    track.pause()
    track.offer(_unit(False))
    assert not track._queue
    source._want_key = False
    track.resume()
    assert source._want_key  # resuming asks the shared encoder for a key frame
    track.offer(_unit(False))
    track.offer(_unit(True, 1.0))
    assert [u.keyframe for u in track._queue] == [True]
    track.stop()
    with pytest.raises(MediaStreamError):  # stopped: raises even with a unit queued, never hangs
        await asyncio.wait_for(track.recv(), 1)

"""Encoder settings: validation, bitrate governor, codec preference, and the tuned encoders in a real session."""

from __future__ import annotations

import fractions

import aiohttp
import numpy as np
import pytest
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from av import VideoFrame

from reactor_notebook.runtime import EncoderSettings, EncoderSettingsError, LocalRuntime
from reactor_notebook.runtime.encoding import (
    BitrateGovernor,
    TunedH264Encoder,
    TunedVp8Encoder,
    parse_bitrate,
    prefer_codec,
)
from reactor_notebook.runtime.fanout import EncodedTrack, SenderPacker

from .client import RawClient
from .conftest import make_runtime


def test_defaults_are_sharp() -> None:
    s = EncoderSettings()
    assert (s.codec, s.preset, s.tune) == ("auto", "veryfast", "zerolatency")
    assert 2_500_000 <= s.bitrate <= 4_000_000 and 8_000_000 <= s.max_bitrate <= 10_000_000
    assert s.floor == s.bitrate // 2


@pytest.mark.parametrize(
    ("options", "needle"),
    [
        ({"codec": "av1"}, "--codec: 'av1' is not one of: auto, h264, vp8"),
        ({"preset": "turbo"}, "--preset: 'turbo' is not one of"),
        ({"tune": "loud"}, "--tune: 'loud' is not one of"),
        ({"bitrate": 5}, "--bitrate: 5 bit/s is out of range (100000 to 50000000 bit/s)"),
        ({"max_bitrate": "1M"}, "--max-bitrate: 1000000 bit/s is below --bitrate 3000000 bit/s"),
        ({"bitrate": "fast"}, "--bitrate: cannot parse 'fast'"),
        ({"min_bitrate": "4M"}, "--min-bitrate: 4000000 bit/s is above --bitrate"),
        ({"bitrate": True}, "--bitrate: expected bits per second"),
        ({"quality": 3}, "unknown encoder option(s): quality"),
    ],
)
def test_invalid_settings_name_the_flag(options: dict, needle: str) -> None:
    with pytest.raises(EncoderSettingsError) as exc:
        EncoderSettings.from_options(**options)
    assert needle in str(exc.value)


def test_local_runtime_validates_encoder_kwargs() -> None:
    with pytest.raises(EncoderSettingsError, match="--preset"):
        LocalRuntime(model="testpattern", preset="warp")


def test_parse_bitrate() -> None:
    assert parse_bitrate("3M") == 3_000_000
    assert parse_bitrate("2500k") == 2_500_000
    assert parse_bitrate("2.5M") == 2_500_000
    assert parse_bitrate(4_000_000.0) == 4_000_000
    s = EncoderSettings.from_options(codec="H264", preset="fast", bitrate="4M", max_bitrate="10M", tune="none")
    assert (s.codec, s.preset, s.bitrate, s.max_bitrate, s.tune) == ("h264", "fast", 4_000_000, 10_000_000, "none")


def test_governor_clamps_and_holds() -> None:
    now = [0.0]
    g = BitrateGovernor(EncoderSettings(bitrate=3_000_000, max_bitrate=8_000_000), clock=lambda: now[0])
    g.request(100_000)  # far below the floor
    assert g.requested == 1_500_000
    assert g.current() == 3_000_000  # held: too soon after start
    now[0] = 6.0
    assert g.current() == 1_500_000 and g.changes == 1
    g.request(1_700_000)  # small change: ignored (hysteresis)
    now[0] = 20.0
    assert g.current() == 1_500_000
    g.request(50_000_000)
    assert g.current() == 8_000_000 and g.changes == 2
    for t in range(21, 25):  # noisy REMB within the hold time never rebuilds
        now[0] = float(t)
        g.request(3_000_000 if t % 2 else 8_000_000)
        g.current()
    assert g.changes == 2


def _codec(mime: str, pt: int, **params: object) -> RTCRtpCodecParameters:
    return RTCRtpCodecParameters(mimeType=mime, clockRate=90000, payloadType=pt, parameters=dict(params))


def test_prefer_codec_moves_codec_and_its_rtx_first() -> None:
    codecs = [_codec("video/VP8", 96), _codec("video/rtx", 97, apt=96), _codec("video/H264", 102), _codec("video/rtx", 103, apt=102)]
    assert [c.payloadType for c in prefer_codec(codecs, "h264")] == [102, 103, 96, 97]
    assert prefer_codec(codecs, "auto") == codecs
    assert [c.payloadType for c in prefer_codec(codecs, "vp8")] == [96, 97, 102, 103]


def _frames(n: int, w: int = 320, h: int = 192):
    rng = np.random.default_rng(1)
    for i in range(n):
        vf = VideoFrame.from_ndarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8), format="rgb24")
        vf.pts, vf.time_base = i * 3000, fractions.Fraction(1, 90000)
        yield vf


def test_tuned_h264_encoder_uses_preset_and_rate() -> None:
    enc = TunedH264Encoder(EncoderSettings(preset="ultrafast", bitrate=2_000_000, max_bitrate=9_000_000))
    for i, frame in enumerate(_frames(5)):
        payloads, _ = enc.encode(frame, force_keyframe=i == 0)
        assert payloads or i > 0
    assert enc.x264_options["preset"] == "ultrafast"
    assert enc.x264_options["tune"] == "zerolatency"
    assert enc.codec.bit_rate == 2_000_000
    enc.target_bitrate = 2_100_000  # REMB noise: no rebuild
    list(enc.encode(next(_frames(1)))[0])
    assert enc.rebuilds == 1


def test_tuned_vp8_encoder_starts_at_configured_rate() -> None:
    enc = TunedVp8Encoder(EncoderSettings(bitrate=2_000_000))
    for frame in _frames(3):
        enc.encode(frame)
    assert enc.codec.bit_rate == 2_000_000 and enc.rebuilds == 1


@pytest.mark.parametrize(("codec", "cls"), [("h264", TunedH264Encoder), ("vp8", TunedVp8Encoder)])
async def test_real_session_uses_tuned_encoder_for_preferred_codec(codec: str, cls: type, http: aiohttp.ClientSession) -> None:
    with make_runtime(codec=codec, bitrate="2M", preset="superfast") as rt:
        async with http.post(rt.url + "/start_session") as r:
            assert r.status == 200
        client = RawClient(rt.url)
        try:
            await client.connect()
            await client.wait_frames(3)
            (peer,) = rt.server.manager.sessions["local"].peers
            track = peer.outputs["main_video"]
            assert isinstance(track, EncodedTrack) and track.source is not None
            assert isinstance(peer.senders["main_video"]._RTCRtpSender__encoder, SenderPacker)
            enc = track.source.encoder  # the session's one encoder for this output and codec
            assert isinstance(enc, cls)
            assert enc.settings.bitrate == 2_000_000
            if codec == "h264":
                assert enc.x264_options["preset"] == "superfast"
            answer = peer.pc.localDescription.sdp
            video = answer.split("m=video", 1)[1].split("m=", 1)[0]
            first_pt = video.split("\r\n", 1)[0].split()[2]
            assert f"a=rtpmap:{first_pt} {codec.upper()}/90000" in video
        finally:
            await client.close()

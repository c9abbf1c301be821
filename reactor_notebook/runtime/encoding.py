"""Video encoder settings for the runtime's outgoing tracks (codec, x264 preset/tune, bitrate).

aiortc's stock encoders set no x264 preset, start at 1 Mbit/s (H264) / 0.5 Mbit/s (VP8), clamp at
3 / 1.5 Mbit/s and rebuild the encoder on every >10 % REMB change, which gives blurry first seconds
and a keyframe burst every few seconds. :class:`EncoderSettings` fixes the rate window, and
:func:`install_encoder` gives a negotiated sender an encoder that honours it with hysteresis.
"""

from __future__ import annotations

import fractions
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import av
from aiortc import RTCRtpSender
from aiortc.codecs.h264 import H264Encoder
from aiortc.codecs.vpx import Vp8Encoder
from aiortc.rtcrtpparameters import RTCRtpCodecParameters

from .. import protocol

log = logging.getLogger(__name__)

CODECS = protocol.CODECS
X264_PRESETS = (
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
)
X264_TUNES = ("zerolatency", "film", "animation", "grain", "stillimage", "fastdecode", "none")
MIN_ALLOWED_BITRATE = 100_000
MAX_ALLOWED_BITRATE = 50_000_000
DEFAULT_BITRATE = 3_000_000
DEFAULT_MAX_BITRATE = 8_000_000
REBUILD_HYSTERESIS = 0.25  # relative change needed before the encoder is rebuilt
REBUILD_HOLD_S = 5.0  # minimum time between two rate changes


class EncoderSettingsError(ValueError):
    """An encoder option outside its allowed range; the message names the option/flag."""


@dataclass(frozen=True)
class EncoderSettings:
    """Codec preference and rate window for every outgoing video track of a runtime."""

    codec: str = "auto"  # "auto" keeps the offer's order (docs/protocol.md "Signalling"), else preferred codec first
    preset: str = "veryfast"
    tune: str = "zerolatency"
    bitrate: int = DEFAULT_BITRATE
    max_bitrate: int = DEFAULT_MAX_BITRATE
    min_bitrate: int | None = None  # REMB floor; default bitrate / 2

    def __post_init__(self) -> None:
        _check_choice("codec", self.codec, CODECS)
        _check_choice("preset", self.preset, X264_PRESETS)
        _check_choice("tune", self.tune, X264_TUNES)
        for name in ("bitrate", "max_bitrate") + (("min_bitrate",) if self.min_bitrate is not None else ()):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise EncoderSettingsError(
                    f"{_flag(name)}: expected an integer number of bits per second, got {value!r}"
                )
            if not MIN_ALLOWED_BITRATE <= value <= MAX_ALLOWED_BITRATE:
                raise EncoderSettingsError(
                    f"{_flag(name)}: {value} bit/s is out of range "
                    f"({MIN_ALLOWED_BITRATE} to {MAX_ALLOWED_BITRATE} bit/s)"
                )
        if self.max_bitrate < self.bitrate:
            raise EncoderSettingsError(
                f"--max-bitrate: {self.max_bitrate} bit/s is below --bitrate {self.bitrate} bit/s"
            )
        if self.min_bitrate is not None and self.min_bitrate > self.bitrate:
            raise EncoderSettingsError(
                f"--min-bitrate: {self.min_bitrate} bit/s is above --bitrate {self.bitrate} bit/s"
            )

    @property
    def floor(self) -> int:
        """Lowest rate a receiver's REMB may push us to."""
        return self.min_bitrate if self.min_bitrate is not None else max(MIN_ALLOWED_BITRATE, self.bitrate // 2)

    @classmethod
    def from_options(cls, **options: Any) -> EncoderSettings:
        """Build from keyword options (LocalRuntime kwargs / CLI), accepting '3M'/'2500k' strings."""
        unknown = set(options) - {"codec", "preset", "tune", "bitrate", "max_bitrate", "min_bitrate"}
        if unknown:
            raise EncoderSettingsError(f"unknown encoder option(s): {', '.join(sorted(unknown))}")
        clean = {k: v for k, v in options.items() if v is not None}
        for key in ("bitrate", "max_bitrate", "min_bitrate"):
            if key in clean:
                clean[key] = parse_bitrate(clean[key], key)
        for key in ("codec", "preset", "tune"):
            if key in clean and isinstance(clean[key], str):
                clean[key] = clean[key].strip().lower()
        return cls(**clean)


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _check_choice(name: str, value: Any, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise EncoderSettingsError(f"{_flag(name)}: {value!r} is not one of: {', '.join(allowed)}")


def parse_bitrate(value: Any, name: str = "bitrate") -> int:
    """Parse ``3000000``, ``"3M"``, ``"2500k"`` or ``"2.5M"`` into bits per second."""
    if isinstance(value, bool):
        raise EncoderSettingsError(f"{_flag(name)}: expected bits per second, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = str(value).strip().lower().removesuffix("bps").removesuffix("bit/s")
    scale = 1
    if text.endswith("m"):
        scale, text = 1_000_000, text[:-1]
    elif text.endswith("k"):
        scale, text = 1_000, text[:-1]
    try:
        number = float(text)
    except ValueError:
        raise EncoderSettingsError(
            f"{_flag(name)}: cannot parse {value!r} as a bitrate (examples: 3000000, 3M, 2500k)"
        ) from None
    return round(number * scale)


class BitrateGovernor:
    """Turns noisy REMB estimates into rare, clamped rate changes (hysteresis + hold time)."""

    def __init__(self, settings: EncoderSettings, clock: Any = time.monotonic) -> None:
        self.settings = settings
        self.effective = settings.bitrate
        self.requested = settings.bitrate
        self.changes = 0
        self._clock = clock
        self._last_change = clock()

    def request(self, bitrate: int) -> None:
        """A receiver estimate arrived (REMB); clamp it into the window."""
        self.requested = max(self.settings.floor, min(int(bitrate), self.settings.max_bitrate))

    def current(self) -> int:
        """The rate the encoder should use now; changes at most every REBUILD_HOLD_S."""
        if self.requested != self.effective:
            rel = abs(self.requested - self.effective) / self.effective
            now = self._clock()
            if rel > REBUILD_HYSTERESIS and now - self._last_change >= REBUILD_HOLD_S:
                self.effective = self.requested
                self._last_change = now
                self.changes += 1
        return self.effective


def _x264_level(width: int, height: int) -> str:
    pixels = width * height
    if pixels <= 1280 * 720:
        return "31"
    if pixels <= 1920 * 1088:
        return "40"
    return "51"


class TunedH264Encoder(H264Encoder):
    """aiortc's H264 encoder with a preset/tune and a governed bitrate window."""

    def __init__(self, settings: EncoderSettings) -> None:
        super().__init__()
        self.settings = settings
        self.governor = BitrateGovernor(settings)
        self.rebuilds = 0
        self.x264_options: dict[str, str] = {}

    @property
    def target_bitrate(self) -> int:
        """The governed rate aiortc reads before each frame; moves only when the hysteresis allows."""
        return self.governor.current()

    @target_bitrate.setter
    def target_bitrate(self, bitrate: int) -> None:
        """aiortc's REMB estimate: a request to the governor, not an immediate rebuild."""
        self.governor.request(bitrate)

    def encode_unit(self, frame: av.VideoFrame, keyframe: bool = False) -> tuple[bytes, bool]:
        """One frame → its Annex B access unit and whether it is an IDR (empty while x264 buffers)."""
        rate = self.target_bitrate
        if self.codec and (
            frame.width != self.codec.width or frame.height != self.codec.height or rate != self.codec.bit_rate
        ):
            self.buffer_data = b""
            self.buffer_pts = None
            self.codec = None
            keyframe = True  # a new codec starts with an IDR anyway: say so to the fan-out
        frame.pict_type = av.video.frame.PictureType.I if keyframe else av.video.frame.PictureType.NONE
        if self.codec is None:
            self.codec = self._open(frame.width, frame.height, rate)
        packets = list(self.codec.encode(frame))
        return b"".join(bytes(p) for p in packets), any(p.is_keyframe for p in packets)

    def _encode_frame(self, frame: av.VideoFrame, force_keyframe: bool) -> Iterator[bytes]:
        data, _ = self.encode_unit(frame, force_keyframe)
        if data:
            yield from self._split_bitstream(data)

    def _open(self, width: int, height: int, rate: int) -> Any:
        codec = av.CodecContext.create("libx264", "w")
        codec.width = width
        codec.height = height
        codec.bit_rate = rate
        codec.pix_fmt = "yuv420p"
        codec.framerate = fractions.Fraction(30, 1)
        codec.time_base = fractions.Fraction(1, 30)
        options = {
            "level": _x264_level(width, height),
            "preset": self.settings.preset,
            # VBV: cap the rate at max_bitrate with a one-second buffer so frames stay bounded
            "maxrate": str(self.settings.max_bitrate),
            "bufsize": str(self.settings.max_bitrate),
        }
        if self.settings.tune != "none":
            options["tune"] = self.settings.tune
        codec.options = options
        codec.profile = "Baseline"
        self.x264_options = dict(options)  # libav consumes the dict on open; keep what we asked for
        self.rebuilds += 1
        return codec


class TunedVp8Encoder(Vp8Encoder):
    """aiortc's VP8 encoder with a governed bitrate window (its options follow the rate)."""

    def __init__(self, settings: EncoderSettings) -> None:
        super().__init__()
        self.settings = settings
        self.governor = BitrateGovernor(settings)
        self.rebuilds = 0
        self._whole = False  # True while encode_unit runs: _packetize keeps the frame whole

    def encode(self, frame: Any, force_keyframe: bool = False) -> tuple[list[bytes], int]:
        """aiortc's encode, counting how often a rate or size change rebuilt the codec."""
        before = self.codec
        result = super().encode(frame, force_keyframe)
        if self.codec is not before:
            self.rebuilds += 1
        return result

    def encode_unit(self, frame: av.VideoFrame, keyframe: bool = False) -> tuple[bytes, bool]:
        """One frame → its whole VP8 frame (not packetized) and whether it is a key frame."""
        self._whole = True  # aiortc's encode packetizes through _packetize: keep the frame whole
        try:
            payloads, _ = self.encode(frame, keyframe)
        finally:
            self._whole = False
        data = b"".join(payloads)
        return data, bool(data) and not data[0] & 0x01  # VP8 frame tag: bit 0 clear = key frame

    def _packetize(self, buffer: bytes, picture_id: int) -> list[bytes]:  # type: ignore[override]
        """aiortc's VP8 packetizer, or the whole frame while :meth:`encode_unit` runs."""
        if self._whole:
            return [buffer]
        return super()._packetize(buffer, picture_id)

    @property
    def target_bitrate(self) -> int:
        """The governed rate aiortc reads before each frame, mirrored into the parent's private copy."""
        rate = self.governor.current()
        # the parent derives bufsize from its private copy of the rate: keep it in step
        self._Vp8Encoder__target_bitrate = rate
        return rate

    @target_bitrate.setter
    def target_bitrate(self, bitrate: int) -> None:
        """aiortc's REMB estimate: a request to the governor, not an immediate rebuild."""
        self.governor.request(bitrate)


TunedEncoder = TunedH264Encoder | TunedVp8Encoder
TUNED_ENCODERS: dict[str, type[TunedEncoder]] = {
    protocol.MIME_H264: TunedH264Encoder,
    protocol.MIME_VP8: TunedVp8Encoder,
}
"""The video codecs (lower-case mime type) the runtime encodes itself, and with what."""


def make_encoder(codec: RTCRtpCodecParameters, settings: EncoderSettings) -> TunedEncoder | None:
    """A tuned encoder for a negotiated video codec, or None to keep aiortc's default."""
    cls = TUNED_ENCODERS.get(codec.mimeType.lower())
    return cls(settings) if cls is not None else None


def install_encoder(sender: RTCRtpSender, codec: RTCRtpCodecParameters, settings: EncoderSettings) -> bool:
    """Give a negotiated (not yet started) sender a tuned encoder; aiortc creates it lazily otherwise."""
    encoder = make_encoder(codec, settings)
    if encoder is None:
        return False
    attr = "_RTCRtpSender__encoder"
    if not hasattr(sender, attr):  # aiortc internals changed: keep its default encoder
        log.warning("cannot install tuned %s encoder: unsupported aiortc version", codec.mimeType)
        return False
    setattr(sender, attr, encoder)
    return True


def prefer_codec(codecs: list[RTCRtpCodecParameters], preferred: str) -> list[RTCRtpCodecParameters]:
    """Move the preferred codec (and its RTX) to the front; ``auto`` keeps the offer's order."""
    if preferred == "auto":
        return codecs
    mime = f"video/{preferred}"
    first = [c for c in codecs if c.mimeType.lower() == mime]
    if not first:
        return codecs
    pts = {c.payloadType for c in first}
    rtx = [c for c in codecs if c.mimeType.lower() == protocol.MIME_RTX and c.parameters.get("apt") in pts]
    rest = [c for c in codecs if c not in first and c not in rtx]
    return first + rtx + rest

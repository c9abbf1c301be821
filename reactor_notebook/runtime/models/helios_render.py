"""Pictures for the simulated Helios: procedural scenes, captions, reference images, idle card.

Everything here is a pure function of its arguments (seed, prompt text, frame numbers,
decoded image bytes), so the simulation stays bit-reproducible. Per-frame work is a
window copy of a precomputed periodic texture, a few alpha-blended sprites, an optional
integer image blend and a cached caption: a few milliseconds at 640x384 on one core.
"""

from __future__ import annotations

import base64
import binascii
import colorsys
import hashlib
import io
import math
import warnings
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFont

from ...framecode import draw_index

__all__ = [
    "BASE_HEIGHT",
    "BASE_WIDTH",
    "IDLE_INDEX",
    "MAX_IMAGE_SIDE",
    "SR_FACTORS",
    "ImageDecodeError",
    "RefImage",
    "Renderer",
    "decode_image",
    "decode_image_b64",
]

BASE_WIDTH = 640
BASE_HEIGHT = 384
SR_FACTORS: dict[str, int] = {"off": 1, "2x": 2, "4x": 4}
MAX_IMAGE_SIDE = 4096
IMAGE_FORMATS = {"PNG": "PNG", "JPEG": "JPEG", "WEBP": "WebP"}
IDLE_INDEX = 0xFFFF  # frame code on the idle card: all blocks white, never a generated frame below 65535
IMAGE_MAX_WEIGHT = 0.85  # strength 1.0 keeps 15 % of the moving scene visible through the image

Frame = NDArray[np.uint8]


# ---------------------------------------------------------------------------------------------
# Reference images
# ---------------------------------------------------------------------------------------------
class ImageDecodeError(ValueError):
    """Image bytes that are not a usable PNG/JPEG/WebP within the size limit (reason ``invalid_value``)."""


class RefImage:
    """A decoded reference image, centre-cropped to 5:3, resized on demand per output size."""

    __slots__ = ("_cache", "cropped", "format", "height", "sha256", "width")

    def __init__(self, sha256: str, width: int, height: int, fmt: str, cropped: Image.Image) -> None:
        self.sha256 = sha256
        self.width = width
        self.height = height
        self.format = fmt
        self.cropped = cropped
        self._cache: dict[tuple[int, int], Frame] = {}

    def at(self, width: int, height: int) -> Frame:
        """The image resized to ``width`` x ``height`` as (H, W, 3) uint8 (cached, read-only)."""
        key = (width, height)
        arr = self._cache.get(key)
        if arr is None:
            resized = self.cropped.resize((width, height), Image.Resampling.LANCZOS)
            arr = np.asarray(resized, dtype=np.uint8).copy()
            arr.setflags(write=False)
            self._cache[key] = arr
        return arr

    def downscaled(self, width: int, height: int) -> bool:
        """True when the cropped source is larger than the output it is shown at."""
        return self.cropped.width > width or self.cropped.height > height

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RefImage) and other.sha256 == self.sha256

    def __hash__(self) -> int:
        return hash(self.sha256)

    def __repr__(self) -> str:
        return f"RefImage({self.format} {self.width}x{self.height}, sha256={self.sha256[:12]}…)"


def decode_image_b64(text: str) -> bytes:
    """Raw base64 or a ``data:`` URL → bytes; raise ImageDecodeError saying what was wrong."""
    payload = text.strip()
    if payload.startswith("data:"):
        head, sep, rest = payload.partition(",")
        if not sep:
            raise ImageDecodeError("data: URL has no ',' separating the header from the data")
        if ";base64" not in head:
            raise ImageDecodeError(f"data: URL {head[:40]!r} is not base64-encoded (expected ';base64')")
        payload = rest
    payload = "".join(payload.split())
    try:
        data = base64.b64decode(payload + "=" * (-len(payload) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ImageDecodeError(f"not valid base64 ({exc}); send raw base64 or a data: URL") from None
    if not data:
        raise ImageDecodeError("base64 decodes to 0 bytes")
    return data


def decode_image(data: bytes) -> RefImage:
    """Decode PNG/JPEG/WebP bytes (≤ 4096 px per side, checked before decoding pixels)."""
    digest = hashlib.sha256(data).hexdigest()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            fmt = img.format or "unknown"
            if fmt not in IMAGE_FORMATS:
                raise ImageDecodeError(
                    f"image format {fmt} is not supported; allowed formats: PNG, JPEG, WebP"
                )
            w, h = img.size
            if w > MAX_IMAGE_SIDE or h > MAX_IMAGE_SIDE:
                raise ImageDecodeError(f"image is {w}x{h} px; the maximum is {MAX_IMAGE_SIDE} px per side")
            if w < 1 or h < 1:
                raise ImageDecodeError(f"image is {w}x{h} px; it must be at least 1x1")
            img.load()
            rgb = img.convert("RGB")
    except ImageDecodeError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageDecodeError(f"image rejected as a decompression bomb ({exc})") from None
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise ImageDecodeError(
            f"could not decode {len(data)} bytes as a PNG, JPEG or WebP image ({type(exc).__name__}: {exc})"
        ) from None
    return RefImage(digest, w, h, IMAGE_FORMATS[fmt], _crop_5_3(rgb))


def _crop_5_3(img: Image.Image) -> Image.Image:
    """Centre-crop to the 5:3 output aspect; keep at most the 4x output size to bound memory."""
    w, h = img.size
    if w * 3 > h * 5:
        cw, ch = max(1, round(h * 5 / 3)), h
    else:
        cw, ch = w, max(1, round(w * 3 / 5))
    left, top = (w - cw) // 2, (h - ch) // 2
    out = img.crop((left, top, left + cw, top + ch))
    cap_w, cap_h = BASE_WIDTH * 4, BASE_HEIGHT * 4
    if cw > cap_w:
        out = out.resize((cap_w, cap_h), Image.Resampling.LANCZOS)
    return out


# ---------------------------------------------------------------------------------------------
# Procedural scenes
# ---------------------------------------------------------------------------------------------
def _rng_for(*parts: Any) -> np.random.Generator:
    """A generator seeded from the SHA-256 of the parts: stable across runs and machines."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8")).digest()
    return np.random.default_rng(int.from_bytes(digest[:16], "big"))


def _palette(rng: np.random.Generator) -> tuple[NDArray[np.uint8], float]:
    """A 256-entry RGB gradient through 4 colour stops around a random base hue."""
    h0 = float(rng.random())
    spread = float(rng.uniform(0.08, 0.35))
    stops = []
    for i in range(4):
        hue = (h0 + spread * i + float(rng.uniform(-0.03, 0.03))) % 1.0
        sat = float(rng.uniform(0.45, 0.95))
        val = float(rng.uniform(0.25, 0.95)) if i % 2 else float(rng.uniform(0.55, 1.0))
        stops.append(colorsys.hsv_to_rgb(hue, sat, val))
    pos = np.linspace(0.0, 1.0, len(stops))
    xs = np.linspace(0.0, 1.0, 256)
    arr = np.stack([np.interp(xs, pos, [s[c] for s in stops]) for c in range(3)], axis=1)
    return np.clip(arr * 255 + 0.5, 0, 255).astype(np.uint8), h0


_SPRITE_KINDS = ("disc", "ring", "square", "diamond", "cross")


def _sprite_mask(kind: str, r: int) -> NDArray[np.uint16]:
    """An anti-aliased alpha mask (0..256) of side 2r+1 for one sprite shape."""
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1].astype(np.float32)
    if kind == "disc":
        d = np.sqrt(xx * xx + yy * yy) - r
    elif kind == "ring":
        d = np.abs(np.sqrt(xx * xx + yy * yy) - r * 0.75) - r * 0.22
    elif kind == "square":
        d = np.maximum(np.abs(xx), np.abs(yy)) - r * 0.8
    elif kind == "diamond":
        d = (np.abs(xx) + np.abs(yy)) - r
    else:  # cross
        a, b = np.abs(xx), np.abs(yy)
        d = np.minimum(np.maximum(a - r * 0.28, b - r), np.maximum(a - r, b - r * 0.28))
    alpha = np.clip(0.5 - d, 0.0, 1.0)
    return np.round(alpha * 256).astype(np.uint16)


@dataclass(frozen=True)
class _Sprite:
    mask: NDArray[np.uint16]  # (2r+1, 2r+1), 0..256
    colour: NDArray[np.uint16]  # (3,)
    r: int
    ax: float
    ay: float
    wx: float
    wy: float
    px: float
    py: float


class Scene:
    """One prompt's look at one output size: a tiled periodic texture that pans, plus moving sprites."""

    def __init__(self, prompt: str, seed: int, width: int, height: int) -> None:
        s = width / BASE_WIDTH
        rng = _rng_for("scene", seed, prompt)
        lut, h0 = _palette(rng)
        style = int(rng.integers(0, 3))
        rep = max(1, round(s) // 2)  # 4x: texture at 2x, upsampled (the sim's "super-resolution")
        tw, th = width // rep, height // rep
        x = np.arange(tw, dtype=np.float32) * np.float32(2 * math.pi / tw)
        y = np.arange(th, dtype=np.float32) * np.float32(2 * math.pi / th)
        v = np.zeros((th, tw), dtype=np.float32)
        for _ in range(4):
            kx, ky = 0, 0
            while kx == 0 and ky == 0:
                kx, ky = int(rng.integers(-3, 4)), int(rng.integers(-2, 3))
            amp = np.float32(rng.uniform(0.4, 1.0))
            phase = np.float32(rng.uniform(0, 2 * math.pi))
            a, b = kx * x + phase, ky * y
            v += amp * (np.outer(np.cos(b), np.sin(a)) + np.outer(np.sin(b), np.cos(a)))
        v -= v.min()
        v /= max(float(v.max()), 1e-6)
        if style == 1:  # contour stripes
            v = np.abs(((v * float(rng.uniform(2.0, 5.0))) % 1.0) * 2 - 1)
        elif style == 2:  # posterised bands
            levels = int(rng.integers(4, 8))
            v = np.floor(v * levels) / (levels - 1)
        idx = np.clip(v * 255, 0, 255).astype(np.uint8)
        tex = lut[idx]
        if rep > 1:
            tex = tex.repeat(rep, axis=0).repeat(rep, axis=1)
        self.width, self.height = width, height
        self.texture = tex  # periodic: drawn as a wrapped window
        speed = float(rng.uniform(0.8, 2.5)) * s
        angle = float(rng.uniform(0, 2 * math.pi))
        self.vx, self.vy = speed * math.cos(angle), speed * math.sin(angle)
        kind = _SPRITE_KINDS[int(rng.integers(0, len(_SPRITE_KINDS)))]
        comp = (h0 + 0.5) % 1.0
        sprites = []
        for _ in range(int(rng.integers(3, 7))):
            r = max(4, round(float(rng.uniform(18, 52)) * s))
            rgb = colorsys.hsv_to_rgb((comp + float(rng.uniform(-0.08, 0.08))) % 1.0, 0.35, 1.0)
            sprites.append(
                _Sprite(
                    mask=_sprite_mask(kind, r),
                    colour=np.array([round(c * 255) for c in rgb], dtype=np.uint16),
                    r=r,
                    ax=float(rng.uniform(0.15, 0.45)) * width,
                    ay=float(rng.uniform(0.12, 0.38)) * height,
                    wx=float(rng.uniform(0.01, 0.05)),
                    wy=float(rng.uniform(0.01, 0.05)),
                    px=float(rng.uniform(0, 2 * math.pi)),
                    py=float(rng.uniform(0, 2 * math.pi)),
                )
            )
        self.sprites = tuple(sprites)
        self.kind = kind
        self.style = ("smooth", "stripes", "bands")[style]

    def draw(self, out: Frame, g: int) -> None:
        """Fill ``out`` (H, W, 3) with global frame ``g`` of this scene."""
        h, w = self.height, self.width
        ox = math.floor(self.vx * g) % w
        oy = math.floor(self.vy * g) % h
        tex = self.texture
        out[: h - oy, : w - ox] = tex[oy:, ox:]
        if ox:
            out[: h - oy, w - ox :] = tex[oy:, :ox]
        if oy:
            out[h - oy :, : w - ox] = tex[:oy, ox:]
        if ox and oy:
            out[h - oy :, w - ox :] = tex[:oy, :ox]
        for sp in self.sprites:
            cx = round(w / 2 + sp.ax * math.sin(sp.wx * g + sp.px))
            cy = round(h / 2 + sp.ay * math.sin(sp.wy * g + sp.py))
            _blend_sprite(out, sp, cx, cy)


def _blend_sprite(out: Frame, sp: _Sprite, cx: int, cy: int) -> None:
    h, w = out.shape[:2]
    x0, y0 = cx - sp.r, cy - sp.r
    x1, y1 = x0 + sp.mask.shape[1], y0 + sp.mask.shape[0]
    cx0, cy0, cx1, cy1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if cx0 >= cx1 or cy0 >= cy1:
        return
    m = sp.mask[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0, None]
    region = out[cy0:cy1, cx0:cx1]
    mixed = (region.astype(np.uint16) * (256 - m) + sp.colour * m) >> 8
    region[...] = mixed


# ---------------------------------------------------------------------------------------------
# Text
# ---------------------------------------------------------------------------------------------
@lru_cache(maxsize=16)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow without FreeType: fixed bitmap font
        return ImageFont.load_default()


def _text_mask(text: str, size: int, width: int, height: int) -> NDArray[np.uint8]:
    """White-on-black text rendered into an L mask of the given box (clipped, left-aligned)."""
    img = Image.new("L", (width, height), 0)
    ImageDraw.Draw(img).text((0, 0), text, fill=255, font=_font(size))
    return np.asarray(img, dtype=np.uint8)


def _fit(text: str, size: int, width: int) -> str:
    """Shorten ``text`` with an ellipsis so it fits ``width`` pixels in the font of ``size``."""
    font = _font(size)
    one_line = " ".join(text.split())
    if font.getlength(one_line) <= width:
        return one_line
    lo, hi = 0, len(one_line)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if font.getlength(one_line[:mid] + "…") <= width:
            lo = mid
        else:
            hi = mid - 1
    return one_line[:lo] + "…"


_GLYPH_CHARS = "0123456789()/ "


@lru_cache(maxsize=8)
def _glyphs(size: int, height: int) -> dict[str, NDArray[np.uint8]]:
    """Per-character masks for the per-frame counter, so no text is rasterised per frame."""
    font = _font(size)
    out = {}
    for ch in _GLYPH_CHARS:
        adv = max(1, math.ceil(font.getlength(ch)))
        out[ch] = _text_mask(ch, size, adv, height)
    return out


# ---------------------------------------------------------------------------------------------
# The renderer
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Look:
    """What one chunk looks like: its latched conditioning (everything pixels depend on but time)."""

    prompt: str
    seed: int
    chunk: int
    sr_scale: str = "off"
    image: RefImage | None = None
    image_strength: float = 1.0
    transition: str = "cut"
    # For a "blend" chunk: the previous chunk's image and strength, faded out over the chunk.
    from_image: RefImage | None = None
    from_strength: float = 1.0

    @property
    def size(self) -> tuple[int, int]:
        f = SR_FACTORS[self.sr_scale]
        return BASE_WIDTH * f, BASE_HEIGHT * f


class Renderer:
    """Turns (look, frame-in-chunk) into pixels, caching scenes, captions and scaled images."""

    def __init__(self, chunk_frames: int = 33, cache_size: int = 6) -> None:
        self.chunk_frames = chunk_frames
        self._scenes: OrderedDict[tuple[str, int, int, int], Scene] = OrderedDict()
        self._captions: OrderedDict[tuple[Any, ...], tuple[NDArray[np.uint8], int]] = OrderedDict()
        self._idle: dict[tuple[int, int], Frame] = {}
        self._cache_size = cache_size

    def scene(self, prompt: str, seed: int, width: int, height: int) -> Scene:
        """The cached scene of a prompt and seed at an output size."""
        key = (prompt, seed, width, height)
        sc = self._scenes.get(key)
        if sc is None:
            sc = Scene(prompt, seed, width, height)
            self._scenes[key] = sc
            while len(self._scenes) > self._cache_size:
                self._scenes.popitem(last=False)
        else:
            self._scenes.move_to_end(key)
        return sc

    def frame(self, look: Look, frame_in_chunk: int) -> Frame:
        """Pixels of global frame ``look.chunk * chunk_frames + frame_in_chunk`` (a new array)."""
        w, h = look.size
        g = look.chunk * self.chunk_frames + frame_in_chunk
        out = np.empty((h, w, 3), dtype=np.uint8)
        self.scene(look.prompt, look.seed, w, h).draw(out, g)
        self._composite(out, look, frame_in_chunk)
        self._caption(out, look, g, frame_in_chunk)
        draw_index(out, g)
        return out

    def _composite(self, out: Frame, look: Look, f: int) -> None:
        h, w = out.shape[:2]
        wb = round(256 * IMAGE_MAX_WEIGHT * look.image_strength) if look.image is not None else 0
        if look.transition == "blend":
            wa = round(256 * IMAGE_MAX_WEIGHT * look.from_strength) if look.from_image is not None else 0
            n = max(1, self.chunk_frames - 1)
            t = min(f, n)
            wa_t, wb_t = wa * (n - t), wb * t  # weights in units of 1/(256 n)
            if wa_t == 0 and wb_t == 0:
                return
            acc = out.astype(np.uint32) * (256 * n - wa_t - wb_t)
            if wa_t and look.from_image is not None:
                acc += look.from_image.at(w, h).astype(np.uint32) * wa_t
            if wb_t and look.image is not None:
                acc += look.image.at(w, h).astype(np.uint32) * wb_t
            acc //= 256 * n
            out[...] = acc
            return
        if wb == 0 or look.image is None:
            return
        acc16 = out.astype(np.uint16)
        acc16 *= 256 - wb
        acc16 += look.image.at(w, h).astype(np.uint16) * np.uint16(wb)
        acc16 >>= 8
        out[...] = acc16

    def _caption(self, out: Frame, look: Look, g: int, f: int) -> None:
        h, w = out.shape[:2]
        s = w // BASE_WIDTH
        size = 13 * s
        line = 16 * s
        strip_h = 2 * line + 4 * s
        strip, text_end = self._caption_strip(look, w, strip_h, size, line)
        region = out[h - strip_h :, :]
        region >>= 2  # darken the band so the text reads on any scene
        np.maximum(region, strip[:, :, None], out=region)
        glyphs = _glyphs(size, line)
        x = text_end
        y = h - strip_h + 2 * s + line
        for ch in f"{g}  ({f + 1}/{self.chunk_frames})":
            m = glyphs[ch]
            if x + m.shape[1] > w:
                break
            sub = out[y : y + line, x : x + m.shape[1]]
            np.maximum(sub, m[: sub.shape[0], :, None], out=sub)
            x += m.shape[1]

    def _caption_strip(
        self, look: Look, width: int, strip_h: int, size: int, line: int
    ) -> tuple[NDArray[np.uint8], int]:
        """The per-chunk caption (prompt line + chunk/seed line); returns the mask and where the frame number goes."""
        key = (
            look.prompt,
            look.seed,
            look.chunk,
            look.sr_scale,
            look.image is not None,
            look.image_strength,
            look.transition,
            width,
        )
        hit = self._captions.get(key)
        if hit is not None:
            return hit
        s = width // BASE_WIDTH
        pad = 6 * s
        img = Image.new("L", (width, strip_h), 0)
        draw = ImageDraw.Draw(img)
        font = _font(size)
        draw.text((pad, 2 * s), _fit(look.prompt, size, width - 2 * pad), fill=255, font=font)
        parts = [f"chunk {look.chunk}", f"seed {look.seed}", f"sr {look.sr_scale}"]
        if look.image is not None:
            parts.append(
                f"image {look.image_strength:.2f}" + (" blend" if look.transition == "blend" else "")
            )
        elif look.transition == "blend" and look.from_image is not None:
            parts.append("image fading out")
        prefix = "  ·  ".join(parts) + "  ·  frame "
        draw.text((pad, 2 * s + line), prefix, fill=200, font=font)
        text_end = pad + math.ceil(font.getlength(prefix))
        mask = np.asarray(img, dtype=np.uint8).copy()
        self._captions[key] = (mask, text_end)
        while len(self._captions) > 2 * self._cache_size:
            self._captions.popitem(last=False)
        return mask, text_end

    def idle(self, sr_scale: str = "off") -> Frame:
        """The card shown before ``start`` (read-only, cached per size); frame code IDLE_INDEX."""
        f = SR_FACTORS[sr_scale]
        w, h = BASE_WIDTH * f, BASE_HEIGHT * f
        card = self._idle.get((w, h))
        if card is None:
            ramp = np.linspace(18, 46, h, dtype=np.float32)[:, None, None]
            tint = np.array([1.0, 1.05, 1.35], dtype=np.float32)
            card = np.broadcast_to(ramp * tint, (h, w, 3)).astype(np.uint8)
            img = Image.fromarray(card)
            draw = ImageDraw.Draw(img)
            lines = [
                (28 * f, (235, 240, 255), "Helios (simulated)"),
                (16 * f, (190, 200, 225), "waiting for start"),
                (
                    13 * f,
                    (150, 160, 190),
                    "schedule a prompt at chunk 0 (schedule_prompt or set_prompt), then send start",
                ),
            ]
            y = h // 2 - 50 * f
            for size, colour, text in lines:
                font = _font(size)
                tw = font.getlength(text)
                draw.text(((w - tw) / 2, y), text, fill=colour, font=font)
                y += size + 14 * f
            card = np.asarray(img, dtype=np.uint8).copy()
            draw_index(card, IDLE_INDEX)
            card.setflags(write=False)
            self._idle[(w, h)] = card
        return card

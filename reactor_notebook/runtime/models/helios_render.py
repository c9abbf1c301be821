"""Frames of the simulated Helios: a chunk's scene, image blend and caption, and the idle card.

Everything here is a pure function of its arguments (seed, prompt text, frame numbers,
decoded image bytes), so the simulation stays bit-reproducible. Per-frame work is a
window copy of a precomputed periodic texture, a few alpha-blended sprites, an optional
integer image blend and a cached caption: a few milliseconds at 640x384 on one core.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFont

from ...framecode import draw_index
from ...media import Frame
from .helios_images import RefImage
from .helios_scene import Scene
from .helios_spec import BASE_HEIGHT, BASE_WIDTH, SR_FACTORS

__all__ = ["IDLE_INDEX", "Look", "Renderer"]

IDLE_INDEX = 0xFFFF  # frame code on the idle card: all blocks white, never a generated frame below 65535
IMAGE_MAX_WEIGHT = 0.85  # strength 1.0 keeps 15 % of the moving scene visible through the image


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
        """(width, height) of this chunk's frames at its super-resolution setting."""
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

"""Procedural scenes for the simulated Helios: one prompt and seed → a panning texture with sprites.

Everything is a pure function of (prompt, seed, output size, frame number), seeded through
SHA-256, so the same inputs draw the same pixels on every run and machine.
"""

from __future__ import annotations

import colorsys
import hashlib
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ...media import Frame
from .helios_spec import BASE_WIDTH

__all__ = ["Scene"]


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


def _texture(
    rng: np.random.Generator, lut: NDArray[np.uint8], style: int, width: int, height: int, s: float
) -> Frame:
    """A periodic (tiles seamlessly) texture: four plane waves, then smooth, stripes or bands."""
    rep = max(1, round(s) // 2)  # 4x: texture at 2x, upsampled (the sim's "super-resolution")
    tw, th = width // rep, height // rep
    x = np.arange(tw, dtype=np.float32) * np.float32(2 * math.pi / tw)
    y = np.arange(th, dtype=np.float32) * np.float32(2 * math.pi / th)
    v: NDArray[np.floating[Any]] = np.zeros((th, tw), dtype=np.float32)
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
    return tex


class Scene:
    """One prompt's look at one output size: a tiled periodic texture that pans, plus moving sprites."""

    def __init__(self, prompt: str, seed: int, width: int, height: int) -> None:
        s = width / BASE_WIDTH
        rng = _rng_for("scene", seed, prompt)
        lut, h0 = _palette(rng)
        style = int(rng.integers(0, 3))
        tex = _texture(rng, lut, style, width, height, s)
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

"""Encoder quality and cost: aiortc's stock encoders vs the runtime's tuned ones (issue 9).

Encodes the same simulated Helios frames at 640x384@24 and, with 2x super-resolution, at
1280x768@30, decodes them again, and prints bitrate, encode time per frame, PSNR against the
source, and how often the encoder was rebuilt. Prints a table; asserts nothing.

    python bench/runtime_encoding.py [--seconds 3]
"""

from __future__ import annotations

import argparse
import fractions
import time
from collections.abc import Iterator
from typing import Any

import av
import numpy as np
from aiortc.codecs.h264 import H264Encoder
from aiortc.codecs.vpx import Vp8Encoder
from av import VideoFrame

from reactor_notebook.runtime.encoding import EncoderSettings, TunedH264Encoder, TunedVp8Encoder
from reactor_notebook.runtime.models import create_model


def source(sr_scale: str, fps: float, count: int) -> Iterator[np.ndarray]:
    """Frames of the simulated Helios model, generating (so every frame differs)."""
    model = create_model("helios", fps=fps)
    model.handle_command("set_prompt", {"prompt": "A foggy harbour at dawn"}, {})
    if sr_scale != "off":
        model.handle_command("set_sr_scale", {"sr_scale": sr_scale}, {})
    model.handle_command("start", {}, {})
    for _ in range(count):
        yield model.render()["main_video"]


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 99.0 if mse == 0 else 10 * np.log10(255.0**2 / mse)


def run(name: str, encoder: Any, codec: str, sr_scale: str, fps: float, seconds: float) -> dict[str, Any]:
    decoder = av.CodecContext.create(codec, "r")
    count = int(seconds * fps)
    total_bytes = 0
    spent = 0.0
    scores = []
    size = ""
    for i, rgb in enumerate(source(sr_scale, fps, count)):
        size = f"{rgb.shape[1]}x{rgb.shape[0]}@{fps:g}"
        frame = VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
        frame.pts, frame.time_base = int(i * 90000 / fps), fractions.Fraction(1, 90000)
        t0 = time.perf_counter()
        payloads, _ = encoder.encode(frame, i == 0)
        spent += time.perf_counter() - t0
        total_bytes += sum(len(p) for p in payloads)
        for packet in _packets(payloads, codec):
            for out in decoder.decode(packet):
                if i % 4 == 0:
                    scores.append(psnr(out.to_ndarray(format="rgb24"), rgb))
    return {
        "encoder": name,
        "size": size,
        "Mbit/s": total_bytes * 8 / seconds / 1e6,
        "ms/frame": spent / count * 1000,
        "PSNR dB": float(np.mean(scores)) if scores else float("nan"),
        "rebuilds": getattr(encoder, "rebuilds", 1),
    }


def _packets(payloads: list[bytes], codec: str) -> list[av.Packet]:
    """Turn RTP payloads back into decoder packets (depayload, as a receiver would)."""
    if codec == "h264":
        from aiortc.codecs.h264 import h264_depayload

        data = b"".join(h264_depayload(p) for p in payloads)
    else:
        from aiortc.codecs.vpx import vp8_depayload

        data = b"".join(vp8_depayload(p) for p in payloads)
    return [av.Packet(data)] if data else []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    rows = []
    for sr, fps in (("off", 24.0), ("2x", 30.0)):
        settings = EncoderSettings()
        rows.append(run("aiortc H264 (stock)", H264Encoder(), "h264", sr, fps, args.seconds))
        rows.append(run("tuned H264 (default)", TunedH264Encoder(settings), "h264", sr, fps, args.seconds))
        rows.append(run("aiortc VP8 (stock)", Vp8Encoder(), "vp8", sr, fps, args.seconds))
        rows.append(run("tuned VP8 (default)", TunedVp8Encoder(settings), "vp8", sr, fps, args.seconds))
    cols = ["encoder", "size", "Mbit/s", "ms/frame", "PSNR dB", "rebuilds"]
    print(" | ".join(f"{c:>20}" if i == 0 else f"{c:>12}" for i, c in enumerate(cols)))
    for r in rows:
        cells = []
        for i, c in enumerate(cols):
            v = r[c]
            text = f"{v:.2f}" if isinstance(v, float) else str(v)
            cells.append(f"{text:>20}" if i == 0 else f"{text:>12}")
        print(" | ".join(cells))


if __name__ == "__main__":
    main()

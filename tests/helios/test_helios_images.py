"""Reference images (cut, blend, clear, strength), super-resolution sizes and seeds."""

from __future__ import annotations

import io
import itertools

import numpy as np
from helios_support import C, b64, diff, events, image_bytes, run, started, states
from PIL import Image

from reactor_notebook.framecode import read_index
from reactor_notebook.runtime.models.helios_images import decode_image
from reactor_notebook.runtime.models.helios_sim import HeliosSim

RED = (230, 20, 20)
BLUE = (20, 20, 230)


def _striped(width: int, height: int) -> bytes:
    """Blue outside, red in the centred 5:3 box: a correct centre-crop is all red."""
    img = Image.new("RGB", (width, height), BLUE)
    if width * 3 > height * 5:
        cw = round(height * 5 / 3)
        img.paste(RED, ((width - cw) // 2, 0, (width - cw) // 2 + cw, height))
    else:
        ch = round(width * 3 / 5)
        img.paste(RED, (0, (height - ch) // 2, width, (height - ch) // 2 + ch))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def _mean_colour(frame: np.ndarray) -> np.ndarray:
    return frame[20:-40].reshape(-1, 3).mean(axis=0)


def test_centre_crop_to_5_3_and_resize_to_output() -> None:
    for w, h in [(1000, 300), (300, 1000), (500, 300)]:
        ref = decode_image(_striped(w, h))
        assert (ref.width, ref.height) == (w, h)
        arr = ref.at(640, 384)
        assert arr.shape == (384, 640, 3)
        inner = arr[4:-4, 4:-4].reshape(-1, 3).astype(int)
        assert (inner[:, 0] > 200).all() and (inner[:, 2] < 60).all(), (w, h)


def test_image_set_event_reports_source_size_and_downscale(png: str) -> None:
    sim = HeliosSim()
    msgs = sim.apply("set_image", {"image_b64": b64(image_bytes(1800, 1200)), "transition": "blend"})
    assert events(msgs) == [
        {"event": "image_set", "width": 1800, "height": 1200, "transition": "blend", "downscaled": True}
    ]
    assert states(msgs)[0]["image_set"] is True
    msgs = sim.apply("set_image", {"image_b64": png})
    assert events(msgs)[0] == {"event": "image_set", "width": 100, "height": 60, "transition": "cut", "downscaled": False}


def test_upload_bytes_are_accepted_like_base64() -> None:
    sim = HeliosSim()
    msgs = sim.apply("set_image", {"transition": "cut"}, uploads={"image": image_bytes(50, 30, RED)})
    assert events(msgs)[0]["width"] == 50


def test_cut_applies_from_the_first_open_chunk_at_full_weight() -> None:
    plain = started()
    plain_frames, _ = run(plain, 2 * C)
    sim = started()
    run(sim, 3)
    sim.apply("set_image", {"image_b64": b64(image_bytes(100, 60, RED))})
    frames, _ = run(sim, 2 * C - 3)
    assert np.array_equal(frames[C - 4], plain_frames[C - 1])  # chunk 0 untouched
    assert diff(frames[C - 3], plain_frames[C]) > 40  # chunk 1 at once
    red = _mean_colour(frames[C - 3])
    assert red[0] > 150 and red[0] > 2 * red[2]
    assert read_index(frames[C - 3]) == C


def test_blend_crossfades_over_the_33_frames_of_its_chunk() -> None:
    plain = started()
    plain_frames, _ = run(plain, 2 * C + 1)
    sim = started()
    sim.apply("set_image", {"image_b64": b64(image_bytes(100, 60, RED)), "transition": "blend"})
    frames, _ = run(sim, 2 * C + 1)
    assert sim.look(1).transition == "blend" and sim.look(2).transition == "cut"
    d = [diff(frames[C + f], plain_frames[C + f]) for f in range(C)]
    assert d[0] < 1.0  # starts from the previous chunk's look (no image)
    assert all(b > a for a, b in itertools.pairwise(d))  # strictly growing weight
    full = diff(frames[2 * C], plain_frames[2 * C])
    assert abs(d[-1] - full) < 1.0  # ends at the full-weight image
    # a second blend fades from the first image to the next
    sim.apply("set_image", {"image_b64": b64(image_bytes(100, 60, BLUE)), "transition": "blend"})
    frames, _ = run(sim, 2 * C - 1)  # frames[i] is global frame 2C+1+i; chunk 3 blends red -> blue
    start_col, end_col = _mean_colour(frames[C - 2]), _mean_colour(frames[2 * C - 2])
    assert start_col[0] > start_col[2] and end_col[2] > end_col[0]


def test_clear_image_is_idempotent_and_applies_from_the_first_open_chunk() -> None:
    plain = started()
    plain_frames, _ = run(plain, 3 * C)
    sim = started()
    sim.apply("set_image", {"image_b64": b64(image_bytes(100, 60, RED))})
    run(sim, C + 2)
    msgs = sim.apply("clear_image")
    assert events(msgs) == [{"event": "image_cleared"}] and states(msgs)[0]["image_set"] is False
    assert states(sim.apply("clear_image"))[0]["image_set"] is False
    frames, _ = run(sim, 2 * C - 2)
    assert diff(frames[0], plain_frames[C + 2]) > 40  # chunk 1 still has the image
    assert np.array_equal(frames[C - 2], plain_frames[2 * C])  # chunk 2 is the plain scene again


def test_image_strength_weights_the_image_and_is_stored_without_one() -> None:
    sim = HeliosSim()
    assert states(sim.apply("set_image_strength", {"image_strength": 0.3}))[0]["image_strength"] == 0.3
    deltas = []
    for strength in (0.0, 0.5, 1.0):
        plain = started()
        ref = started()
        ref.apply("set_image_strength", {"image_strength": strength})
        ref.apply("set_image", {"image_b64": b64(image_bytes(100, 60, RED))})
        f_plain, _ = run(plain, C + 1)
        f_ref, _ = run(ref, C + 1)
        deltas.append(diff(f_ref[-1], f_plain[-1]))
    assert deltas[0] == 0.0 and 0 < deltas[1] < deltas[2]


def test_sr_scale_changes_the_output_size_at_the_next_chunk() -> None:
    sim = started()
    run(sim, 5)
    msgs = sim.apply("set_sr_scale", {"sr_scale": "2x"})
    assert states(msgs)[0]["sr_scale"] == "2x"
    frames, _ = run(sim, C)
    assert frames[C - 6].shape == (384, 640, 3) and frames[C - 5].shape == (768, 1280, 3)
    assert read_index(frames[C - 5]) == C
    assert states(sim.apply("set_sr_scale", {"sr_scale": "4x"}))[0]["sr_scale"] == "2x"  # clamped by default
    sim.apply("set_sr_scale", {"sr_scale": "off"})
    frames, _ = run(sim, C)
    assert frames[-1].shape == (384, 640, 3)


def test_sr_4x_when_allowed_and_idle_card_follows_the_setting() -> None:
    sim = HeliosSim(max_sr_scale="4x")
    assert states(sim.apply("set_sr_scale", {"sr_scale": "4x"}))[0]["sr_scale"] == "4x"
    assert sim.step()[0].shape == (1536, 2560, 3)
    sim.apply("set_prompt", {"prompt": "big"})
    sim.apply("start")
    frame, _ = sim.step()
    assert frame.shape == (1536, 2560, 3) and read_index(frame) == 0


def test_seed_is_latched_at_start_and_minus_one_draws_one() -> None:
    sim = HeliosSim(entropy=lambda: 123456789)
    msgs = sim.apply("set_seed", {"seed": -1})
    assert events(msgs) == [{"event": "seed_set", "seed": 123456789}] and states(msgs)[0]["seed"] == 123456789
    sim.apply("set_prompt", {"prompt": "p"})
    assert events(sim.apply("start"))[0]["seed"] == 123456789
    sim.apply("set_seed", {"seed": 4})
    run(sim, 2 * C)
    assert sim.look(1).seed == 123456789  # stored for the next start only
    sim.apply("reset")
    sim.apply("set_prompt", {"prompt": "p"})
    assert events(sim.apply("start"))[0]["seed"] == 4
    real = HeliosSim()
    drawn = events(real.apply("set_seed", {"seed": -1}))[0]["seed"]
    assert 0 <= drawn <= 4_294_967_295


def test_set_conditioning_sets_prompt_and_image_on_the_same_chunk(png: str) -> None:
    sim = started()
    run(sim, 4)
    msgs = sim.apply("set_conditioning", {"prompt": "together", "image_b64": png, "transition": "blend"})
    assert [e["event"] for e in events(msgs)] == ["prompt_scheduled", "image_set"]
    assert events(msgs)[0]["chunk"] == 1 and states(msgs)[0]["image_set"]
    run(sim, C)
    look = sim.look(1)
    assert look.prompt == "together" and look.image is not None and look.transition == "blend"

"""Exact per-frame model facts (``FrameMeta.frame/chunk/prompt``) for every frame, not per chunk.

Against our Helios over real WebRTC: every generated frame's metadata equals what its pixels say
(the index code) and what ``HeliosSim`` latches (chunk = frame // 33, the chunk's prompt), across
chunk boundaries and a prompt change, including frames in the middle of a chunk, where the last
``state`` message is stale. Unit checks: a picture without an index code is never misread.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from reactor_notebook.framecode import BLOCK, draw_index, read_index
from reactor_notebook.runtime import LocalRuntime
from reactor_notebook.sdk import Reactor
from reactor_notebook.sdk.frameindex import FrameIndexer, read_code

CHUNK = 33
IDLE = 0xFFFF


@pytest.fixture(scope="module")
def helios_runtime() -> Iterator[LocalRuntime]:
    with LocalRuntime(model="helios", port=0) as rt:
        yield rt


def test_every_frame_carries_its_own_frame_chunk_and_prompt(helios_runtime: LocalRuntime) -> None:
    r = Reactor("helios", local=True, local_url=helios_runtime.url)
    r.connect_sync()
    try:
        r.send_command_sync("schedule_prompt", {"prompt": "A foggy harbour", "chunk": 0})
        r.send_command_sync("schedule_prompt", {"prompt": "Boats leave", "chunk": 2})
        r.send_command_sync("start", {})
        r.frames.wait_state(lambda s: s.get("current_chunk", 0) >= 3, timeout=20)
        frames = r.frames.record(40)  # reaches into chunk 3 and beyond
        items = r.frames.frames()
    finally:
        r.disconnect_sync()
    assert len(frames) == 40
    generated = [(read_index(f), m) for f, m in items if read_index(f) != IDLE]
    assert len(generated) >= 80
    mid_chunk = 0
    for code, meta in generated:
        assert meta.frame == code, (code, meta)
        assert meta.chunk == code // CHUNK, (code, meta)
        assert meta.prompt == ("A foggy harbour" if code < 2 * CHUNK else "Boats leave"), (code, meta)
        assert meta.as_row()["chunk"] == meta.chunk and meta.as_row()["prompt"] == meta.prompt
        mid_chunk += meta.state is not None and meta.state.get("current_frame") != code
    assert mid_chunk > 40  # most frames arrive while the last state names another frame


def test_idle_card_has_no_model_frame(helios_runtime: LocalRuntime) -> None:
    r = Reactor("helios", local=True, local_url=helios_runtime.url)
    r.connect_sync()
    try:
        got = r.frames.wait_next(r.frames.seq, timeout=10)
    finally:
        r.disconnect_sync()
    assert got is not None
    frame, meta = got
    assert read_index(frame) == IDLE and (meta.frame, meta.chunk, meta.prompt) == (None, None, None)


def test_a_picture_without_index_code_is_never_misread() -> None:
    rng = np.random.default_rng(1)
    indexer = FrameIndexer()
    state = {"current_frame": 40, "current_chunk": 1, "current_prompt": "p"}
    indexer.on_state(state)
    for _ in range(30):  # a real model's picture: the corner is not black/white blocks
        facts = indexer.facts(rng.integers(0, 256, (64, 320, 3), dtype=np.uint8), state)
        assert not indexer.locked and (facts.frame, facts.chunk, facts.prompt) == (40, 1, "p")


def test_counter_unwraps_past_65535_and_follows_a_reset() -> None:
    indexer = FrameIndexer()
    indexer.on_state({"current_frame": 65530, "current_chunk": 1985, "current_prompt": "p"})
    frame = np.zeros((32, 320, 3), dtype=np.uint8)
    seen = []
    for g in range(65530, 65545):
        draw_index(frame, g)  # the code carries g % 65536
        seen.append(indexer.facts(frame, None).frame)
    assert seen[-10:] == list(range(65535, 65545))
    indexer.on_state({"current_frame": 0, "current_chunk": 0, "current_prompt": "q"})  # reset
    for g in range(3):
        draw_index(frame, g)
        facts = indexer.facts(frame, None)
    assert (facts.frame, facts.chunk, facts.prompt) == (2, 0, "q")


def test_a_still_black_corner_is_not_a_counter_and_a_matching_code_is_trusted_at_once() -> None:
    state = {"current_frame": 500, "current_chunk": 15, "current_prompt": "p"}
    indexer = FrameIndexer()
    indexer.on_state(state)
    dark = np.zeros((32, 320, 3), dtype=np.uint8)  # reads as code 0 on every frame
    for _ in range(20):
        facts = indexer.facts(dark, state)
        assert not indexer.locked and facts.frame == 500 and not facts.exact
    fresh = FrameIndexer()
    fresh.on_state(state)
    frame = np.zeros((32, 320, 3), dtype=np.uint8)
    draw_index(frame, 502)  # two frames after the state: the very first such frame is exact
    facts = fresh.facts(frame, state)
    assert (facts.frame, facts.chunk, facts.prompt, facts.exact) == (502, 15, "p", True)


def test_read_code_reads_what_read_index_reads_and_refuses_pictures() -> None:
    """The per-frame fast path agrees with framecode.read_index on codes and refuses non-codes."""
    rng = np.random.default_rng(5)
    for index in [0, 1, 1234, 0x8000, IDLE, *rng.integers(0, 1 << 16, 50).tolist()]:
        frame = rng.integers(0, 256, (48, 320, 3), dtype=np.uint8)
        draw_index(frame, index)
        assert read_code(frame) == read_index(frame) == index
        noisy = frame.copy()  # codec noise within the near-black and near-white bands
        band = noisy[:BLOCK]
        jitter = rng.integers(0, 60, band.shape, dtype=np.uint8)
        noisy[:BLOCK] = np.where(band >= 128, 255 - jitter, jitter)
        assert read_code(noisy) == read_index(noisy) == index
        noisy[BLOCK // 2, BLOCK // 2 + BLOCK * int(rng.integers(0, 16)), int(rng.integers(0, 3))] = 128
        assert read_code(noisy) is None  # one sampled byte off the code levels: not a code
    grey = np.full((48, 320, 3), 128, np.uint8)
    assert read_code(grey) is None
    gradient = np.tile(np.arange(320, dtype=np.uint8)[None, :, None], (48, 1, 3))
    assert read_code(gradient) is None
    assert read_code(np.zeros((8, 320, 3), np.uint8)) is None  # too small for a code
    assert read_code(np.zeros((48, 100, 3), np.uint8)) is None

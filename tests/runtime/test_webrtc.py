"""Real WebRTC between a raw aiortc client and the runtime: frames, commands, messages, inputs."""

from __future__ import annotations

import itertools

import numpy as np

from reactor_notebook.framecode import read_index

from .client import RawClient


async def test_frames_have_increasing_indices(local_client: RawClient) -> None:
    frames = await local_client.wait_frames(6)
    indices = [read_index(f) for f in frames[-5:]]
    assert frames[-1].shape == (192, 320, 3)
    assert all(b > a for a, b in itertools.pairwise(indices)), indices


async def test_set_color_changes_pixels_and_emits_message(local_client: RawClient) -> None:
    local_client.command("set_color", {"r": 0, "g": 255, "b": 0})
    msg = await local_client.app_message("color_set")
    assert msg["data"] == {"r": 0, "g": 255, "b": 0}
    start = local_client.frame_count

    def centre_green() -> bool:
        if local_client.frame_count <= start + 2:
            return False
        c = local_client.frames[-1][96, 160].astype(int)
        return c[1] > 200 and c[0] < 60 and c[2] < 60

    from testutil import apoll_until

    await apoll_until(centre_green, 10, "green centre patch")
    assert np.all(local_client.frames[-1][96, 160] > [-1, 200, -1])

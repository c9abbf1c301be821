"""The model's answer reaches the cell that sent the command (real kernel, real runtimes, wire v1).

``%reactor start`` on a fresh Helios prints the model's rejection, ``schedule_prompt`` into a past
chunk prints ``past_chunk`` naming the field, ``%reactor status`` shows the latest rejection apart
from client errors, and a command whose schema declares a reply prints the reply.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from jupyter_client.manager import start_new_kernel
from kernel_support import run, stderr, stdout
from testutil import free_local_url

pytestmark = pytest.mark.timeout(180)

NO_PROMPT = (
    "no prompt scheduled at chunk 0 (scheduled chunks: none); "
    "use set_prompt or schedule_prompt with chunk 0 first [invalid_state]"
)


@pytest.fixture
def kernel() -> Iterator[Any]:
    km, kc = start_new_kernel(kernel_name="python3")
    try:
        run(kc, "%load_ext reactor_notebook")
        yield kc
    finally:
        run(kc, "%unload_ext reactor_notebook")  # disconnects and stops the runtimes it started
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def test_helios_rejections_reach_the_cell_and_the_status(kernel: Any) -> None:
    assert "ready: helios" in stdout(run(kernel, f"%reactor connect --local --model helios --url {free_local_url()}"))
    assert stdout(run(kernel, "%reactor start")) == f"→ start {{}}\n✗ start rejected: {NO_PROMPT}\n"
    status = stdout(run(kernel, "%reactor status"))
    assert f"\nrejected:    start: {NO_PROMPT} (" in status, status
    assert "\nerror:" not in status  # a model rejection is not a client error

    out = stdout(run(kernel, '%reactor schedule_prompt prompt="x" chunk=0\n%reactor start\n%reactor @chunk 2'))
    assert out.startswith(  # our runtime speaks wire v1: every command is answered, Helios with its event
        '→ schedule_prompt {"prompt": "x", "chunk": 0}\n← prompt_scheduled {"prompt": "x", "chunk": 0}\n'
        '→ start {}\n← generation_started {"prompt": "x", "seed": 0}\n… chunk 2, frame '
    ), out
    msgs = run(kernel, '%reactor schedule_prompt prompt="x" chunk=1')
    lines = stdout(msgs).splitlines()
    assert lines[0] == '→ schedule_prompt {"prompt": "x", "chunk": 1}'
    assert lines[1].startswith(
        "✗ schedule_prompt rejected: field 'chunk': chunk 1 is in the past (first open chunk is "
    ) and lines[1].endswith(") [past_chunk]"), lines
    assert len(lines) == 2 and stderr(msgs) == ""
    status = stdout(run(kernel, "%reactor status"))
    assert "\nrejected:    schedule_prompt: field 'chunk': chunk 1 is in the past" in status, status


def test_reply_is_printed_and_the_wait_is_configurable(kernel: Any) -> None:
    url = free_local_url()
    assert "ready: testpattern" in stdout(run(kernel, f"%reactor connect --local --model testpattern --url {url}"))
    out = stdout(run(kernel, "%reactor set_color r=1 g=2 b=3"))
    assert out == '→ set_color {"r": 1, "g": 2, "b": 3}\n← color_set {"r": 1, "g": 2, "b": 3}\n'
    run(kernel, "%config ReactorMagics.reply_wait = 0")  # fire-and-forget
    assert stdout(run(kernel, "%reactor set_color r=4 g=5 b=6")) == '→ set_color {"r": 4, "g": 5, "b": 6}\n'


def test_image_too_big_for_one_message_goes_as_an_upload(kernel: Any, tmp_path: Any) -> None:
    """A ~400 KB PNG (base64 ~530 KB > the 256 KiB message limit): uploaded, sent as a FileRef."""
    import numpy as np
    from PIL import Image

    path = tmp_path / "big.png"
    Image.fromarray(np.random.default_rng(7).integers(0, 256, (380, 380, 3), dtype=np.uint8)).save(path)
    size = path.stat().st_size
    assert size > 300_000
    assert "ready: helios" in stdout(run(kernel, f"%reactor connect --local --model helios --url {free_local_url()}"))
    msgs = run(kernel, f"%reactor image {path}")
    assert stdout(msgs) == (
        f'→ set_image {{"transition": "cut", "image": "<upload image_b64.png, {size} bytes>"}}\n'
        '← image_set {"width": 380, "height": 380, "transition": "cut", "downscaled": false}\n'
    )
    assert stderr(msgs) == ""
    out = stdout(run(kernel, "print(reactor.frames.wait_state(lambda s: s.get('image_set'), timeout=10)['image_set'])"))
    assert out == "True\n"

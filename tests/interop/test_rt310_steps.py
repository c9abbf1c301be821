"""Our SDK stepping the official ``reactor-runtime==3.10.0`` (RT310) hosting its toy ``ReactorApp``.

Real path: RT310 from its own venv (``rt310_env``), our SDK over real aiortc with data-channel
chunking negotiated against RT310's own (native) chunking. The toy's default step loop runs one
``generate()`` per step: one 320x240 frame of the current colour with a running index code.
Checked: three steps return (1, 240, 320, 3) uint8 arrays whose pixels follow each step's
``set_color`` command and whose index codes count up; the frames reach ``reactor.frames`` and the
timeline; a bad state key is refused naming the entry; a streamed session refuses steps (ours
before sending, RT310's own refusal when asked anyway).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from harness import serving, wait_state
from rt310_env import RT310, TOY_MODEL, Rt310Server

from reactor_notebook import framecode
from reactor_notebook.protocol import steps as wire
from reactor_notebook.sdk import Reactor
from reactor_notebook.sdk.steps import NotSteppedError, StepRefusedError

W, H = 320, 240


@pytest.fixture(scope="module")
def rt310() -> Iterator[Rt310Server]:
    with serving(Rt310Server(RT310.python_for_test())) as server:
        yield server


@pytest.fixture
def idle(rt310: Rt310Server) -> Iterator[Rt310Server]:
    wait_state(rt310, "available", "RT310")
    made: list[Reactor] = []
    rt310.made = made  # type: ignore[attr-defined]
    yield rt310
    for reactor in made:
        reactor.disconnect_sync()


def connect(server: Rt310Server, **kwargs: Any) -> Reactor:
    reactor = Reactor(TOY_MODEL, local=True, local_url=server.url, **kwargs)
    server.made.append(reactor)  # type: ignore[attr-defined]
    reactor.connect_sync(timeout=30)
    return reactor


def test_three_steps_return_the_toys_frames_as_numpy(idle: Rt310Server) -> None:
    reactor = connect(idle, generation="stepped")
    assert reactor.wire == "v1" and (reactor.get_session_info() or {}).get("generation") == "stepped"
    colours = [(200, 10, 10), (10, 200, 10), (10, 10, 200)]
    results = [reactor.step_sync(commands=[("set_color", dict(zip("rgb", c, strict=True)))]) for c in colours]
    assert [r.step for r in results] == [1, 2, 3]
    indices = []
    for result, colour in zip(results, colours, strict=True):
        video = result.track("main_video")
        assert video.shape == (1, H, W, 3) and video.dtype == np.uint8
        assert tuple(int(v) for v in video[0, H // 2, W // 2]) == colour  # raw RGB: exact pixels
        assert result.rate == {"main_video": 30.0} and result.elapsed >= 0 and result.latency > 0
        indices.append(framecode.read_index(video[0]))
    assert indices == [indices[0], indices[0] + 1, indices[0] + 2], indices
    stored = reactor.frames.to_array(last=3)
    assert np.array_equal(stored, np.concatenate([r.frames["main_video"] for r in results]))
    steps = [e for e in reactor.frames.timeline_entries() if e.kind == "step"]
    assert [e.data["step"] for e in steps] == [1, 2, 3]


def test_bad_state_key_is_refused_naming_the_entry(idle: Rt310Server) -> None:
    reactor = connect(idle, generation="stepped")
    with pytest.raises(StepRefusedError) as info:
        reactor.step_sync(state={"colour": 3})
    err = info.value
    assert err.failure == "REFUSED" and err.entry == "state.colour" and "set_colour" in err.reason
    assert reactor.step_sync().step == 1  # refused steps take no number; the session goes on


def test_streamed_session_refuses_steps(idle: Rt310Server) -> None:
    reactor = connect(idle, wire="v1")
    with pytest.raises(NotSteppedError, match="generation='stepped'"):
        reactor.step_sync()
    assert reactor.v1 is not None
    reply = reactor._sdk.run_sync(reactor.v1.request_data({"request_step": {}}, 10), 15)
    refused = wire.decode_result(reply["step_result"])
    assert refused.failure == "REFUSED" and refused.step == 0
    assert "not stepped" in (refused.error or "")

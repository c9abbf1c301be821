"""Our SDK stepping our runtime over the real path (aiortc both sides, wire v1, chunked channels).

Checked: Helios steps equal the HeliosSim replay frame for frame and land in ``reactor.frames``
and the timeline; testpattern steps carry media and commands; bad input is answered specifically
(unknown state key and a malformed frame refused by the runtime naming the entry, a wrong media
shape refused before sending, stepping a streamed session, a runtime that started the session
streamed); garbled chunks are dropped and the runtime keeps serving steps.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from reactor_notebook.runtime import LocalRuntime
from reactor_notebook.sdk import Reactor
from reactor_notebook.sdk.steps import NotSteppedError, StepRefusedError

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "runtime"))
from test_stepping import replay

FRAMES = 11  # three steps of 11 frames = one Helios chunk (keeps the test quick)


@pytest.fixture
def made() -> Iterator[list[Reactor]]:
    reactors: list[Reactor] = []
    yield reactors
    for r in reactors:
        r.disconnect_sync()


def stepped(rt: LocalRuntime, made: list[Reactor], model: str) -> Reactor:
    r = Reactor(model, local=True, local_url=rt.url, generation="stepped")
    made.append(r)
    r.connect_sync(timeout=30)
    return r


def test_helios_steps_equal_heliossim_and_fill_frames_and_timeline(made: list[Reactor]) -> None:
    plan: list[tuple[dict[str, object], list[str]]] = [
        ({"prompt": "a red fox", "seed": 7}, ["start"]),
        ({"prompt": "a blue sea"}, []),
        ({}, []),
    ]
    with LocalRuntime(model="helios", port=0, model_options={"step_frames": FRAMES}) as rt:
        r = stepped(rt, made, "helios")
        assert r.wire == "v1" and (r.get_session_info() or {}).get("generation") == "stepped"
        results = [r.step_sync(state=st, commands=cmds) for st, cmds in plan]
        assert [x.step for x in results] == [1, 2, 3]
        for got, want in zip(results, replay(plan, frames=FRAMES), strict=True):
            video = got.track("main_video")
            assert video.shape == (FRAMES, 384, 640, 3) and video.dtype == np.uint8
            assert np.array_equal(video, want)
            assert got.rate == {"main_video": 24.0} and got.latency > 0
        ring = r.frames.to_array(last=3 * FRAMES)
        assert np.array_equal(ring, np.concatenate([x.frames["main_video"] for x in results]))
        steps = [e.data for e in r.frames.timeline_entries() if e.kind == "step"]
        assert [s["step"] for s in steps] == [1, 2, 3]
        assert steps[0]["state"] == {"prompt": "a red fox", "seed": 7} and steps[0]["commands"] == ["start"]
        print(f"\nour SDK step latency (request -> arrays, {FRAMES} frames):",
              [round(x.latency * 1000) for x in results], "ms")


def test_testpattern_step_takes_commands_and_media(made: list[Reactor]) -> None:
    with LocalRuntime(model="testpattern", port=0) as rt:
        r = stepped(rt, made, "testpattern")
        webcam = np.full((3, 48, 64, 3), 7, np.uint8)
        out = r.step_sync(commands=[("set_color", {"r": 1, "g": 2, "b": 3})], media={"webcam": webcam})
        video = out.track("main_video")
        assert video.shape == (4, 384, 640, 3)
        assert tuple(int(v) for v in video[0, 192, 320]) == (1, 2, 3)
        assert rt.model.input_frames == {"webcam": 3}  # type: ignore[attr-defined]


def test_bad_steps_are_answered_specifically_and_the_session_goes_on(made: list[Reactor]) -> None:
    with LocalRuntime(model="testpattern", port=0) as rt:
        r = stepped(rt, made, "testpattern")
        with pytest.raises(StepRefusedError) as info:
            r.step_sync(state={"colour": 1})
        assert info.value.failure == "REFUSED" and info.value.entry == "state.colour"
        assert "no command 'set_colour'" in info.value.reason
        with pytest.raises(ValueError, match=r"media\['webcam'\]\[0\]: a frame is an \(H, W, 3\) uint8 RGB array, got uint8 \[4, 4\]"):
            r.step_sync(media={"webcam": [np.zeros((4, 4), np.uint8)]})
        # A frame whose bytes do not match its shape, sent as-is: the runtime names the entry.
        bad = {"request_step": {"media_input": [{"track": "webcam", "kind": "video", "frames": [
            {"encoding": "raw", "dtype": "uint8", "shape": [2, 2, 3], "data": b"short"}]}]}}
        assert r.v1 is not None
        reply = r._sdk.run_sync(r.v1.request_data(bad, 10), 15)["step_result"]
        assert reply["failure_code"] == "refused" and reply["entry"] == "media_input[0].frames[0]"
        assert "is 12 bytes, got 5" in reply["error"]
        # Garbled chunks on the data channel: dropped by the runtime, which keeps serving steps.
        transport = r._transport
        assert transport is not None
        r._sdk.run_sync(_send_raw(transport.data.inner, [b"\x01half a message", b"\x07garbage"]), 5)
        assert r.step_sync().step == 1  # refused steps took no number
        peer = next(iter(rt._server.manager.sessions["local"].peers))  # type: ignore[union-attr]
        assert peer.channels["data"].errors == 1


async def _send_raw(channel: object, frames: list[bytes]) -> None:
    for frame in frames:
        channel.send(frame)  # type: ignore[attr-defined]


def test_stepping_a_streamed_session_is_refused(made: list[Reactor]) -> None:
    with LocalRuntime(model="testpattern", port=0) as rt:
        streamed = Reactor("testpattern", local=True, local_url=rt.url)
        made.append(streamed)
        streamed.connect_sync(timeout=30)
        with pytest.raises(NotSteppedError, match="generation='stepped'"):
            streamed.step_sync()
        # The runtime already runs this (streamed) session: it cannot start it stepped.
        late = Reactor("testpattern", local=True, local_url=rt.url, generation="stepped")
        made.append(late)
        with pytest.raises(NotSteppedError, match="started a streamed session") as info:
            late.connect_sync(timeout=30)
        assert "does not support stepped generation" in str(info.value)


def test_a_connection_without_chunking_is_refused_cleanly(made: list[Reactor], monkeypatch: pytest.MonkeyPatch) -> None:
    """A client that does not offer a=x-reactor-dc-chunking gets the reference's refusal, never a hang."""
    from reactor_notebook.sdk import transport

    monkeypatch.setattr(transport, "add_to_sdp", lambda sdp: sdp)  # this client's offer omits the line
    with LocalRuntime(model="testpattern", port=0) as rt:
        r = stepped(rt, made, "testpattern")
        with pytest.raises(StepRefusedError) as info:
            r.step_sync(timeout=20)
        assert info.value.failure == "REFUSED"
        assert "negotiated data-channel chunking" in info.value.reason


def test_cloud_like_mode_steps(made: list[Reactor]) -> None:
    """Cloud-like: /tokens, POST /sessions carrying extra_configs.generation (as 1.13 does), polling."""
    with LocalRuntime(model="helios", port=0, model_options={"step_frames": 3}) as rt:
        r = Reactor("helios", api_key="any-key", api_url=rt.url, generation="stepped")
        made.append(r)
        r.connect_sync(timeout=30)
        out = r.step_sync(state={"prompt": "a red fox", "seed": 7}, commands=["start"])
        (want,) = replay([({"prompt": "a red fox", "seed": 7}, ["start"])], frames=3)
        assert out.step == 1 and np.array_equal(out.track("main_video"), want)


def test_an_uploaded_image_as_a_state_value_conditions_the_step(made: list[Reactor]) -> None:
    """state={"image": FileRef}: the upload travels inline, as the reference's state values do."""
    import io

    from PIL import Image

    from reactor_notebook.runtime.models.helios_sim import HeliosSim

    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (250, 20, 20)).save(buf, format="PNG")
    png = buf.getvalue()
    with LocalRuntime(model="helios", port=0, model_options={"step_frames": 2}) as rt:
        r = stepped(rt, made, "helios")
        ref = r.upload_file_sync(png, name="red.png", mime_type="image/png")
        out = r.step_sync(state={"image": ref, "prompt": "a red wall", "seed": 1}, commands=["start"])
        sim = HeliosSim(seed=0)
        sim.apply("set_image", {}, {"image": png})
        sim.apply("set_prompt", {"prompt": "a red wall"})
        sim.apply("set_seed", {"seed": 1})
        sim.apply("start")
        sim.apply("pause")
        want = np.stack([sim.step()[0] for _ in range(2)])
        assert np.array_equal(out.track("main_video"), want)


def test_concurrent_steps_run_in_request_order(made: list[Reactor]) -> None:
    import asyncio

    with LocalRuntime(model="testpattern", port=0, model_options={"step_frames": 1}) as rt:
        r = stepped(rt, made, "testpattern")

        async def both() -> list[object]:
            return list(await asyncio.gather(*(
                r.step(commands=[("set_color", {"r": i, "g": i, "b": i})]) for i in (10, 20, 30)
            )))

        results = asyncio.run(both())
        assert [x.step for x in results] == [1, 2, 3]  # type: ignore[attr-defined]
        assert [int(x.track("main_video")[0, 192, 320, 0]) for x in results] == [10, 20, 30]  # type: ignore[attr-defined]

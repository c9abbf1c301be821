"""Helios over the real path: our runtime, real aiortc WebRTC on loopback, real clients.

A scripted session (seed, prompts at chunks 0 and 2, start, prompt switch at the chunk-2
boundary, pause/resume at a chunk boundary, image cut and blend, clear, reset) driven by the
official reactor-sdk 0.8.0 (PY08, a subprocess in its own venv) and by our SDK. Assertions use
message fields and pixels: every decoded frame is compared, by its index code, with the frame
an offline :class:`HeliosSim` twin renders from the same commands at the same frame counts.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helios_support import C, Replay, b64, image_bytes
from PIL import Image

from reactor_notebook.framecode import read_index
from reactor_notebook.runtime.models.helios_render import IDLE_INDEX
from reactor_notebook.schema import CommandValidationError

INTEROP = Path(__file__).resolve().parents[1] / "interop"
if str(INTEROP) not in sys.path:
    sys.path.insert(0, str(INTEROP))

from harness import CLIENTS, ClientProcess, health, increasing_run  # noqa: E402
from py08_env import ensure_py08_venv  # noqa: E402
from testutil import EventLog, poll_until  # noqa: E402

FPS = 48  # twice real time: same 33-frame chunks, half the wall-clock per chunk
SEED = 42
PROMPT_A = "A foggy harbour at dawn"
PROMPT_B = "Boats leave the harbour"
RED = b64(image_bytes(200, 120, (230, 20, 20)))
BLUE = b64(image_bytes(200, 120, (20, 40, 230)))
# Probe points away from the index code (top rows) and the caption strip (bottom 36 rows).
PROBES = [(x, y) for x in (40, 180, 320, 460, 600) for y in (60, 140, 220, 300)]
WAIT = 20.0


@pytest.fixture(scope="module")
def runtime() -> Iterator[Any]:
    from reactor_notebook.runtime import LocalRuntime

    rt = LocalRuntime(model="helios", host="127.0.0.1", port=0, fps=FPS)
    rt.start()
    yield rt
    rt.stop()


@pytest.fixture
def py08_client(runtime: Any) -> Iterator[ClientProcess]:
    python = ensure_py08_venv()
    poll_until(lambda: health(runtime.url).get("state") == "READY", 15, "runtime free of the previous session")
    probes = [a for x, y in PROBES for a in ("--probe", f"{x},{y}")]
    # PY08's local=True hard-codes http://localhost:8080; --local-url points it at our ephemeral port.
    client = ClientProcess(
        [str(python), str(CLIENTS / "py08_driver.py"), "--mode", "local", "--model", "helios",
         "--local-url", runtime.url, "--no-trace", *probes]
    )
    try:
        client.wait_for("hello", 30)
        yield client
    finally:
        client.close()


# ---------------------------------------------------------------------------------------------
# A tiny adapter so one scripted session drives either client
# ---------------------------------------------------------------------------------------------
class Py08Session:
    """The scripted session's view of PY08: send commands, wait for messages and frames."""

    def __init__(self, client: ClientProcess) -> None:
        self.c = client

    def send(self, command: str, data: dict[str, Any] | None = None) -> int:
        mark = self.c.mark()
        self.c.call("send_command", 10, command=command, data=data or {})
        return mark

    def message(self, pred: Callable[[dict[str, Any]], bool], start: int, what: str) -> tuple[dict[str, Any], int]:
        """The first application message after ``start`` matching ``pred``, and the index after it."""
        def match(e: dict[str, Any]) -> bool:
            if e.get("ev") == "message" and isinstance(e.get("message"), dict) and pred(e["message"]):
                return True
            return False

        ev = self.c.wait_for(match, WAIT, start=start, what=what)
        with self.c._cond:
            pos = next(i for i in range(start, len(self.c.events)) if self.c.events[i] is ev)
        return ev["message"], pos + 1

    def frames_until(self, pred: Callable[[int], bool], start: int, what: str) -> list[tuple[int, Any]]:
        """Wait for a frame whose index satisfies ``pred``; return (index, probe pixels) since ``start``."""
        self.c.wait_for(lambda e: e.get("ev") == "frame" and pred(int(e["index"])), WAIT, start=start, what=what)
        return [(int(e["index"]), e["px"]) for e in self.c.since(start, "frame")]

    def frames(self, count: int, start: int, what: str) -> list[int]:
        """The indices of the next ``count`` frames after ``start``."""
        return [int(e["index"]) for e in self.c.wait_frames(count, WAIT, start=start)]

    def mark(self) -> int:
        return self.c.mark()


def _event(name: str) -> Callable[[dict[str, Any]], bool]:
    return lambda m: m.get("type") == "event" and m["data"].get("event") == name


def _state(pred: Callable[[dict[str, Any]], bool]) -> Callable[[dict[str, Any]], bool]:
    return lambda m: m.get("type") == "state" and pred(m["data"])


def _probe_error(expected: np.ndarray, px: Any) -> float:
    got = np.asarray(px, dtype=np.float64)
    want = np.asarray([expected[y, x] for x, y in PROBES], dtype=np.float64)
    return float(np.abs(got - want).mean())


def run_scripted_session(s: Py08Session) -> dict[str, Any]:
    """Drive the scripted session; return the replay twin, the frames seen and key messages."""
    twin = Replay(seed=0)
    out: dict[str, Any] = {}

    def accepted(mark: int, command: str, data: dict[str, Any], *, event: str | None = None,
                 pred: Callable[[dict[str, Any]], bool] | None = None) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """Wait for the command's acceptance ``state`` (after its event, if it has one); record it."""
        ev_msg = None
        after = mark
        if event is not None:
            ev_msg, after = s.message(_event(event), mark, f"{command}: event {event}")
            st, _ = s.message(_state(lambda d: True), after, f"{command}: state after {event}")
        else:
            st, _ = s.message(_state(pred or (lambda d: True)), mark, f"{command}: state")
        twin.record(st["data"]["current_frame"], command, data)
        return st["data"], (ev_msg or {}).get("data")

    # greeting and the idle card
    greet, _ = s.message(_state(lambda d: True), 0, "greeting state")
    assert greet["data"]["started"] is False and greet["data"]["current_frame"] == 0
    idle = s.frames_until(lambda i: i == IDLE_INDEX, 0, "idle card")
    assert idle[-1][0] == IDLE_INDEX

    # start without a chunk-0 prompt: legacy error event, nothing else
    mark = s.send("start")
    err, _ = s.message(_event("error"), mark, "start error")
    out["start_error"] = err["data"]

    cmds: list[tuple[str, dict[str, Any], str | None]] = [
        ("set_seed", {"seed": SEED}, "seed_set"),
        ("schedule_prompt", {"prompt": PROMPT_A, "chunk": 0}, "prompt_scheduled"),
        ("schedule_prompt", {"prompt": PROMPT_B, "chunk": 2}, "prompt_scheduled"),
    ]
    for command, data, event in cmds:
        st, ev = accepted(s.send(command, data), command, data, event=event)
        out.setdefault("events", []).append(ev)
    out["scheduled_state"] = st

    # a schema rejection (runtime-side validation) and a semantic one (model-side)
    mark = s.send("schedule_prompt", {"prompt": "x", "chunk": -1})
    out["range_error"] = s.message(_event("error"), mark, "range error")[0]["data"]

    mark = s.send("start")
    st, ev = accepted(mark, "start", {}, event="generation_started")
    out["started"] = (st, ev)
    sw, _ = s.message(_event("prompt_switched"), mark, "prompt_switched at chunk 2")
    out["switched"] = sw["data"]
    out["chunk2_state"] = s.message(_state(lambda d: d["current_chunk"] == 2), mark, "chunk-2 state")[0]["data"]
    s.frames_until(lambda i: 2 * C + 4 <= i < IDLE_INDEX, mark, "frames of chunk 2")

    mark = s.send("schedule_prompt", {"prompt": "too late", "chunk": 1})
    out["past_error"] = s.message(_event("error"), mark, "past_chunk error")[0]["data"]

    # pause at the end of the current chunk, then resume
    mark = s.send("pause")
    st, _ = accepted(mark, "pause", {}, pred=lambda d: d["pause_pending"])
    out["pause_pending_state"] = st
    paused, _ = s.message(_event("generation_paused"), mark, "generation_paused")
    out["paused"] = paused["data"]
    out["paused_state"] = s.message(_state(lambda d: d["paused"]), mark, "paused state")[0]["data"]
    last = paused["data"]["frame"] - 1
    s.frames_until(lambda i: i == last, mark, f"the last frame before the pause ({last})")
    out["held"] = s.frames(6, s.mark(), "held frames")
    mark = s.send("resume")
    st, ev = accepted(mark, "resume", {}, event="generation_resumed")
    out["resumed"] = ev

    # images: a cut, then a blend at a later chunk, then clear
    for data in ({"image_b64": RED, "transition": "cut"}, {"image_b64": BLUE, "transition": "blend"}):
        mark = s.send("set_image", data)
        st, ev = accepted(mark, "set_image", data, event="image_set")
        out.setdefault("image_events", []).append(ev)
        first = st["current_chunk"] + 1
        s.frames_until(lambda i, k=first: (k + 1) * C <= i < IDLE_INDEX, mark, f"frames through chunk {first}")
    mark = s.send("clear_image")
    st, ev = accepted(mark, "clear_image", {}, event="image_cleared")
    cleared_chunk = st["current_chunk"] + 1
    s.frames_until(lambda i: cleared_chunk * C + 3 <= i < IDLE_INDEX, mark, "frames after clear")
    out["cleared_chunk"] = cleared_chunk

    # everything decoded so far, compared with the offline twin (before reset restarts the counters)
    out["frames"] = [(i, px) for i, px in s.frames_until(lambda i: True, 0, "frames") if i != IDLE_INDEX]
    out["twin"] = twin

    mark = s.send("reset")
    reset, _ = s.message(_event("generation_reset"), mark, "generation_reset")
    out["reset"] = reset["data"]
    out["reset_state"] = s.message(_state(lambda d: not d["started"]), mark, "reset state")[0]["data"]
    after_reset = s.mark()
    s.frames_until(lambda i: i == IDLE_INDEX, after_reset, "idle card after reset")
    return out


def check_scripted_session(out: dict[str, Any]) -> None:
    """Assertions shared by both clients."""
    assert out["start_error"]["reason"] == "invalid_state" and out["start_error"]["command"] == "start"
    assert out["start_error"]["message"].startswith("start: no prompt scheduled at chunk 0")
    assert out["events"][0] == {"event": "seed_set", "seed": SEED}
    assert out["events"][2] == {"event": "prompt_scheduled", "chunk": 2, "prompt": PROMPT_B}
    assert out["scheduled_state"]["scheduled_prompts"] == {"0": PROMPT_A, "2": PROMPT_B}
    assert out["range_error"] == {
        "event": "error", "command": "schedule_prompt", "field": "chunk", "reason": "out_of_range",
        "message": "schedule_prompt: field 'chunk': value -1 is out of range (0 to 1000000)",
    }
    st, ev = out["started"]
    assert ev == {"event": "generation_started", "prompt": PROMPT_A, "seed": SEED}
    assert st["running"] and st["started"] and st["current_prompt"] == PROMPT_A and st["seed"] == SEED
    assert out["switched"] == {
        "event": "prompt_switched", "frame": 2 * C, "chunk": 2, "new_prompt": PROMPT_B, "previous_prompt": PROMPT_A,
    }
    assert out["chunk2_state"]["current_frame"] == 2 * C and out["chunk2_state"]["current_prompt"] == PROMPT_B
    err = out["past_error"]
    assert (err["reason"], err["field"]) == ("past_chunk", "chunk")
    assert err["message"].startswith("schedule_prompt: field 'chunk': chunk 1 is in the past (first open chunk is ")
    assert out["pause_pending_state"]["pause_pending"] and out["pause_pending_state"]["running"]
    k = out["paused"]["chunk"]
    assert out["paused"] == {"event": "generation_paused", "frame": k * C, "chunk": k}
    assert out["paused_state"]["current_frame"] == k * C and not out["paused_state"]["running"]
    assert set(out["held"]) == {k * C - 1}, out["held"]  # the last frame, held, not counted
    assert out["resumed"] == {"event": "generation_resumed", "frame": k * C, "chunk": k}
    cut, blend = out["image_events"]
    assert cut == {"event": "image_set", "width": 200, "height": 120, "transition": "cut", "downscaled": False}
    assert blend["transition"] == "blend"
    assert out["reset"]["event"] == "generation_reset" and out["reset"]["frame"] > out["cleared_chunk"] * C
    assert out["reset_state"]["scheduled_prompts"] == {} and out["reset_state"]["seed"] == SEED

    # pixels: every decoded frame matches its offline twin far better than any other frame would
    frames = out["frames"]
    indices = [i for i, _ in frames]
    assert increasing_run(indices) and indices[-1] >= out["cleared_chunk"] * C + 3
    twin: Replay = out["twin"]
    errors = {i: _probe_error(twin.frame(i), px) for i, px in frames}
    worst = max(errors.values())
    assert worst < 20, sorted(errors.items(), key=lambda kv: -kv[1])[:5]
    # the prompt change is visible at the chunk-2 boundary: chunk-2 frames are far from chunk-1's look
    alt = Replay(seed=SEED)
    alt.record(0, "schedule_prompt", {"prompt": PROMPT_A, "chunk": 0})
    alt.record(0, "start", {})
    chunk2 = [(i, px) for i, px in frames if 2 * C <= i < 3 * C]
    assert chunk2, indices
    assert all(_probe_error(alt.frame(i), px) > 2 * max(errors[i], 10) for i, px in chunk2)
    # the images show: red dominates the cut chunk, blue the end of the blend chunk
    looks = twin.sim.looks
    cut_chunk = next(c for c, lk in sorted(looks.items()) if lk.image is not None)
    red = [np.asarray(px).mean(axis=0) for i, px in frames if i // C == cut_chunk]
    assert red and all(p[0] > p[2] + 60 for p in red)
    blend_chunk = next(c for c, lk in sorted(looks.items()) if lk.transition == "blend")
    end_blend = [np.asarray(px).mean(axis=0) for i, px in frames if i // C == blend_chunk and i % C >= C - 3]
    assert end_blend and all(p[2] > p[0] + 60 for p in end_blend)
    assert looks[out["cleared_chunk"]].image is None


@pytest.mark.official
def test_py08_scripted_helios_session(py08_client: ClientProcess) -> None:
    client = py08_client
    client.call("connect", WAIT)
    client.wait_for(lambda e: e.get("ev") == "status" and e["status"] == "ready", WAIT, what="READY")
    out = run_scripted_session(Py08Session(client))
    check_scripted_session(out)


@pytest.mark.official
def test_py08_sr_scale_changes_the_decoded_size_at_chunk_boundaries(py08_client: ClientProcess) -> None:
    client = py08_client
    client.call("connect", WAIT)
    client.wait_for(lambda e: e.get("ev") == "status" and e["status"] == "ready", WAIT, what="READY")
    s = Py08Session(client)
    mark = s.send("set_sr_scale", {"sr_scale": "4x"})
    st, _ = s.message(_state(lambda d: d["sr_scale"] != "off"), mark, "sr state")
    assert st["data"]["sr_scale"] == "2x"  # 4x is clamped by the default max_sr_scale
    client.wait_for(lambda e: e.get("ev") == "frame" and e["shape"] == [768, 1280, 3], WAIT, start=mark,
                    what="a 1280x768 idle card")
    mark = s.send("set_prompt", {"prompt": PROMPT_A})
    s.send("start")
    s.message(_event("generation_started"), mark, "generation_started")
    s.frames_until(lambda i: 3 <= i < IDLE_INDEX, mark, "first frames")
    mark = s.send("set_sr_scale", {"sr_scale": "off"})
    st, _ = s.message(_state(lambda d: d["sr_scale"] == "off"), mark, "sr off state")
    switch = (st["data"]["current_chunk"] + 1) * C
    s.frames_until(lambda i: switch + 3 <= i < IDLE_INDEX, mark, "frames after the switch")
    sizes = {int(e["index"]): tuple(e["shape"]) for e in client.of("frame") if int(e["index"]) != IDLE_INDEX}
    assert sizes, client.describe()
    assert all(shape == ((768, 1280, 3) if i < switch else (384, 640, 3)) for i, shape in sizes.items()), sizes
    client.call("send_command", 10, command="reset", data={})


@pytest.mark.official
def test_py08_uploaded_image_and_oversized_upload(runtime: Any, tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    noisy_red = np.clip(np.array([225, 30, 30]) + rng.integers(-25, 26, (720, 1200, 3)), 0, 255).astype(np.uint8)
    reference, oversized = tmp_path / "reference.png", tmp_path / "too-wide.png"
    Image.fromarray(noisy_red).save(reference)  # noise keeps the PNG large: it must go as an upload
    oversized.write_bytes(image_bytes(4100, 60, (10, 10, 10)))
    python = ensure_py08_venv()
    poll_until(lambda: health(runtime.url).get("state") == "READY", 15, "runtime free of the previous session")
    script = Path(__file__).with_name("py08_upload_client.py")
    client = ClientProcess([str(python), str(script), runtime.url, str(reference), str(oversized)])
    try:
        summary = client.wait_for("summary", 60)
    finally:
        client.close()
    assert summary["upload_bytes"] > 190_000  # too big for a data-channel message: it went as an upload
    assert summary["image_set"] == {
        "event": "image_set", "width": 1200, "height": 720, "transition": "cut", "downscaled": True,
    }
    assert summary["state"]["image_set"] is True
    latch = summary["latch"]
    frames = {int(k): v for k, v in summary["frames"].items()}
    before = [v for i, v in frames.items() if i < latch * C]
    after = [v for i, v in frames.items() if i >= latch * C]
    assert before and after, sorted(frames)
    assert all(v[0] > v[2] + 80 for v in after)  # the red reference dominates from its chunk on
    assert summary["error"] == {
        "event": "error", "command": "set_image", "field": "image", "reason": "invalid_value",
        "message": "set_image: field 'image': image is 4100x60 px; the maximum is 4096 px per side",
    }


# ---------------------------------------------------------------------------------------------
# Our SDK, in process: the same scripted session, plus full-frame comparisons and both families
# ---------------------------------------------------------------------------------------------
class SdkClient(EventLog):
    """Our SDK's Reactor recording events in the PY08 driver's JSON shape, for the shared script."""

    def __init__(self, url: str, wire: str = "auto") -> None:
        from reactor_notebook.sdk import Reactor

        super().__init__()
        self.full: dict[int, np.ndarray] = {}
        self.reactor = Reactor("helios", local=True, local_url=url, wire=wire)
        self.reactor.on("message", lambda m: self.add({"ev": "message", "message": m}))
        self.reactor.on("status_changed", lambda st: self.add({"ev": "status", "status": st.value}))
        self.reactor.set_frame_callback(self._on_frame)

    def _on_frame(self, frame: np.ndarray) -> None:
        index = read_index(frame)
        if index != IDLE_INDEX and len(self.full) < 60 and index % 3 == 0:
            self.full[index] = frame.copy()
        px = [frame[y, x].tolist() for x, y in PROBES] if frame.shape[1] == 640 else []
        self.add({"ev": "frame", "index": index, "shape": list(frame.shape), "px": px})

    def call(self, op: str, timeout: float, **fields: Any) -> None:
        assert op == "send_command"
        # validate=False: the runtime's own validation and error reporting are under test here
        self.reactor.send_command_sync(fields["command"], fields.get("data", {}), validate=False, timeout=timeout)


@pytest.fixture(scope="module")
def runtime_both() -> Iterator[Any]:
    from reactor_notebook.runtime import LocalRuntime

    rt = LocalRuntime(model="helios", host="127.0.0.1", port=0, fps=FPS, model_options={"messages": "both"})
    rt.start()
    yield rt
    rt.stop()


def test_sdk_scripted_helios_session_with_both_message_families(runtime_both: Any) -> None:
    # Message families are the v0 surface (a v1 client gets one answer per command: its reply or error).
    client = SdkClient(runtime_both.url, wire="v0")
    try:
        client.reactor.connect_sync()
        with pytest.raises(CommandValidationError) as info:  # the SDK validates before sending
            client.reactor.send_command_sync("schedule_prompt", {"prompt": "x", "chunk": -1})
        assert str(info.value) == "schedule_prompt: field 'chunk': value -1 is out of range (0 to 1000000)"
        assert {c.name for c in client.reactor.commands} >= {"set_conditioning", "set_sr_scale", "set_image"}
        out = run_scripted_session(Py08Session(client))  # type: ignore[arg-type]
        check_scripted_session(out)
        # whole frames, caption and index code included, equal the offline twin's up to codec noise
        twin: Replay = out["twin"]
        compared = sorted(client.full)
        assert len(compared) >= 10, sorted(client.full)
        for i in compared:
            err = float(np.abs(client.full[i].astype(np.int16) - twin.frame(i).astype(np.int16)).mean())
            assert err < 6, (i, err)
        # the typed family arrives next to the legacy one
        typed = {m["message"]["type"]: m["message"]["data"] for m in client.of("message")}
        assert typed["command_error"]["reason"] in ("invalid_state", "out_of_range", "past_chunk")
        assert typed["conditions_ready"] == {"has_image": False}  # last change was clear_image
        assert {"prompt_accepted", "image_accepted", "chunk_complete", "generation_paused"} <= set(typed)
        assert client.reactor.model_state is not None and client.reactor.model_state["started"] is False
    finally:
        client.reactor.disconnect_sync()

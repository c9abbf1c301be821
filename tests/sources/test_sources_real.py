"""Source tracks published through the real path to the testpattern model's ``webcam`` input.

The model reports ``input_stats`` messages with a frame count; a spy on the model instance also reads
the frame code of every frame it receives after the WebRTC encode/decode round trip.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from reactor_notebook.framecode import draw_index, read_index
from reactor_notebook.frames import save_mp4
from reactor_notebook.runtime import LocalRuntime
from reactor_notebook.sdk import Reactor
from reactor_notebook.sources import ArrayTrack, FramesTrack, VideoFileTrack

pytestmark = pytest.mark.timeout(60)


def numbered(i: int) -> np.ndarray:
    f = np.full((96, 320, 3), 100, np.uint8)
    draw_index(f, i)
    return f


class Session:
    """A testpattern runtime, a connected Reactor, and what the model saw on its inputs."""

    def __init__(self, rt: LocalRuntime, reactor: Reactor) -> None:
        self.rt, self.reactor = rt, reactor
        self.seen: list[int] = []
        self.stats: list[int] = []
        self.cond = threading.Condition()
        original = rt.model.on_input_frame

        def spy(track: str, frame: np.ndarray) -> None:
            with self.cond:
                self.seen.append(read_index(frame))
            original(track, frame)

        rt.model.on_input_frame = spy  # type: ignore[method-assign]

        def on_message(msg: Any) -> None:
            if isinstance(msg, dict) and msg.get("type") == "input_stats":
                with self.cond:
                    self.stats.append(int(msg["data"]["frames"]))
                    self.cond.notify_all()

        reactor.on("message", on_message)

    def wait_stats(self, frames: int, timeout: float = 20.0) -> int:
        with self.cond:
            ok = self.cond.wait_for(lambda: self.stats and self.stats[-1] >= frames, timeout)
            assert ok, f"model reported {self.stats[-1:] or 'no'} input frames, wanted {frames}"
            return self.stats[-1]


@pytest.fixture
def session() -> Iterator[Session]:
    with LocalRuntime(model="testpattern", port=0) as rt:
        r = Reactor("testpattern", local=True, local_url=rt.url)
        r.connect_sync()
        try:
            yield Session(rt, r)
        finally:
            r.disconnect_sync()


def test_array_track_from_a_generator_reaches_the_model_in_order(session: Session) -> None:
    track = ArrayTrack((numbered(i) for i in range(10_000)), fps=30)
    session.reactor.publish_track_sync("webcam", track)
    assert session.wait_stats(20) >= 20
    with session.cond:
        seen = list(session.seen)
    assert len(seen) >= 20
    assert all(b > a for a, b in itertools.pairwise(seen)), seen  # stale frames may drop, never reorder
    assert seen[-1] < track.frames_sent
    assert session.rt.model.last_input_shape == (96, 320, 3)
    track.stop()


def test_video_file_track_plays_a_file_into_the_model(session: Session, tmp_path) -> None:
    path = save_mp4(np.stack([numbered(500 + i) for i in range(40)]), tmp_path / "clip.mp4", fps=30)
    session.reactor.publish_track_sync("webcam", VideoFileTrack(path, loop=True))
    session.wait_stats(20)
    with session.cond:
        seen = set(session.seen)
    assert seen and seen <= set(range(500, 540)), sorted(seen)


def test_frames_track_relays_a_sessions_frames(session: Session) -> None:
    # relay the session's own output back into its webcam input: what the model receives must be
    # frames it produced, identified by their frame code
    first = session.reactor.frames.wait_next(-1, 10)
    assert first is not None
    session.reactor.publish_track_sync("webcam", FramesTrack(session.reactor.frames, fps=20))
    session.wait_stats(20)
    produced = session.reactor.frames.seq
    with session.cond:
        seen = list(session.seen)
    newest_output = read_index(session.reactor.frames.latest())
    assert len(seen) >= 20
    assert all(0 <= i <= newest_output for i in seen), (seen, newest_output, produced)  # 0: the model's first frame
    assert seen == sorted(seen)

"""Our SDK's clips against the official reactor-runtime 3.10.0 (toy model with the frame-index code)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from rt310_clips_env import rt310_clips

from reactor_notebook.framecode import read_index
from reactor_notebook.sdk import ClipFailedError, Reactor
from reactor_notebook.sdk.clips import decode_clip


def _connected(url: str) -> Reactor:
    reactor = Reactor("clipstoy", local=True, local_url=url)
    reactor.connect_sync()
    return reactor


def test_clip_from_runtime_310_as_numpy_and_file(tmp_path: Path) -> None:
    with rt310_clips() as (url, recordings):
        reactor = _connected(url)
        try:
            reactor.frames.record(45)  # 1.5 s of stream at 30 fps first
            clip = reactor.request_clip_sync(1.0)
            assert clip.kind == "snap" and clip.seconds == pytest.approx(1.0)
            assert clip.playlist_url.startswith(f"{url}/clips?session_id={clip.session_id}&start=")
            frames = reactor.download_sync(clip)
            saved = reactor.download_sync(clip, tmp_path / "clip.mp4")
            whole = reactor.request_recording_sync()
            assert whole.kind == "recording" and whole.start_marker == 0.0
            longer = reactor.request_clip_sync(250)  # longer than the recording: clamped to its start
            assert longer.start_marker == 0.0 and longer.end_marker >= whole.end_marker
            assert (recordings / clip.session_id / "init.mp4").is_file()
        finally:
            reactor.disconnect_sync()
    assert isinstance(frames, np.ndarray) and frames.dtype == np.uint8 and frames.shape[1:] == (240, 320, 3)
    codes = [read_index(f) for f in frames]
    assert codes == list(range(codes[0], codes[0] + len(codes)))  # the runtime's 30 fps grid: every frame
    assert len(codes) >= 30
    assert [read_index(f) for f in decode_clip(saved)] == codes
    assert math.isclose(float(frames[:, 100:, :].mean()), 96, abs_tol=4)  # the toy's grey, decoded


def test_recording_off_on_runtime_310_raises_recorder_disabled() -> None:
    with rt310_clips(recording=False) as (url, _):
        reactor = _connected(url)
        try:
            with pytest.raises(ClipFailedError) as info:
                reactor.request_clip_sync(2.0)
        finally:
            reactor.disconnect_sync()
    assert info.value.code == "RECORDER_DISABLED" and "recorder disabled" in info.value.reason

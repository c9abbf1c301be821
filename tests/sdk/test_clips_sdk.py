"""Our SDK's clips against our runtime: request_clip → download as NumPy or as a file, refusals."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from testutil import Recorder

from reactor_notebook.framecode import read_index
from reactor_notebook.runtime import LocalRuntime
from reactor_notebook.sdk import Clip, ClipFailedError, Reactor
from reactor_notebook.sdk.clips import decode_clip


def _in_order(frames: np.ndarray) -> list[int]:
    codes = [read_index(f) for f in frames]
    assert codes == list(range(codes[0], codes[0] + len(codes))), codes
    return codes


async def test_clip_downloads_as_frames_and_as_a_file(
    local_reactor: tuple[Reactor, Recorder], tmp_path: Path
) -> None:
    reactor, _ = local_reactor
    await reactor.frames.arecord(24)  # a second of stream first
    clip = await reactor.request_clip(1.0)
    assert isinstance(clip, Clip) and clip.kind == "snap" and clip.seconds == pytest.approx(1.0)
    assert clip.playlist_url.startswith(reactor.base_url + "/clips?session_id=")
    frames = await reactor.download(clip)
    assert isinstance(frames, np.ndarray) and frames.dtype == np.uint8 and frames.shape[1:] == (384, 640, 3)
    codes = _in_order(frames)
    assert len(codes) >= 24  # whole 2 s segments around the 1 s asked for
    saved = await reactor.download(clip, tmp_path / "clip.mp4")
    assert saved == tmp_path / "clip.mp4"
    assert _in_order(decode_clip(saved)) == codes  # the file is playable and holds the same frames
    whole = await reactor.request_recording()
    assert whole.kind == "recording" and whole.start_marker == 0.0 and whole.end_marker >= clip.end_marker
    longer = await reactor.request_clip(250)  # longer than the recording: it starts where the recording does
    assert longer.kind == "snap" and longer.start_marker == 0.0 and longer.end_marker >= whole.end_marker


async def test_bad_seconds_are_refused_before_sending(local_reactor: tuple[Reactor, Recorder]) -> None:
    reactor, _ = local_reactor
    for bad in (-1, 0, math.nan, math.inf, "2", True):
        with pytest.raises(ValueError, match="positive finite number"):
            await reactor.request_clip(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="exceeds the longest clip, 300 s"):
        await reactor.request_clip(1e9)


def test_sync_twins_and_recording_off() -> None:
    with LocalRuntime(model="testpattern", port=0, recording=False) as rt:
        reactor = Reactor("testpattern", local=True, local_url=rt.url)
        reactor.connect_sync()
        try:
            with pytest.raises(ClipFailedError) as info:
                reactor.request_clip_sync(2.0)
            assert info.value.code == "RECORDER_DISABLED" and "recording off" in info.value.reason
            with pytest.raises(ClipFailedError, match="request_recording failed: recorder disabled"):
                reactor.request_recording_sync()
        finally:
            reactor.disconnect_sync()
    with LocalRuntime(model="testpattern", port=0, fps=30) as rt:
        reactor = Reactor("testpattern", local=True, local_url=rt.url)
        reactor.connect_sync()
        try:
            reactor.frames.record(15)
            frames = reactor.download_sync(reactor.request_clip_sync(0.5))
            assert isinstance(frames, np.ndarray)
            _in_order(frames)
        finally:
            reactor.disconnect_sync()

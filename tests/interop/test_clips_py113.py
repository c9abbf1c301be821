"""reactor-sdk 1.13.0 (wire v1) asks our runtime for clips and downloads them with its own ``download()``."""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from harness import CLIENTS
from py113_env import PY113

from reactor_notebook.framecode import read_index
from reactor_notebook.runtime import LocalRuntime
from reactor_notebook.sdk.clips import decode_clip


def _drive(url: str, *durations: str) -> list[dict[str, Any]]:
    """Run the 1.13 clip driver against ``url``; its JSON lines, the last one ``{"done": ...}``."""
    out = tempfile.mkdtemp(prefix="py113-clips-")
    done = subprocess.run(
        [str(PY113.ensure()), str(CLIENTS / "py113_clips.py"), url, "testpattern", out, *durations],
        capture_output=True, text=True, timeout=180,
    )
    lines = [json.loads(x) for x in done.stdout.splitlines() if x.startswith("{")]
    assert lines and lines[-1].get("done"), f"rc={done.returncode}\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return lines


def _codes(path: str) -> list[int]:
    codes = [read_index(f) for f in decode_clip(Path(path))]
    assert codes == list(range(codes[0], codes[0] + len(codes))), codes
    return codes


def test_py113_downloads_a_2s_clip_and_the_recording_with_frames_in_order() -> None:
    with LocalRuntime(model="testpattern", port=0) as rt:
        url = rt.url
        snap, huge, recording, _ = _drive(url, "2.0", "1e9")
    clip = snap["clip"]
    assert clip["kind"] == "snap" and clip["end_marker"] - clip["start_marker"] == 2.0
    assert clip["playlist_url"].startswith(f"{url}/clips?session_id={clip['session_id']}&start=")
    assert len(_codes(snap["path"])) >= 48  # at least the 2 s asked for, at 24 fps
    assert "exceeds the longest clip, 300 s" in huge["message"], huge
    assert recording["clip"]["kind"] == "recording" and recording["clip"]["start_marker"] == 0.0
    assert len(_codes(recording["path"])) >= 60


def test_py113_gets_recorder_disabled_when_recording_is_off() -> None:
    with LocalRuntime(model="testpattern", port=0, recording=False) as rt:
        snap, recording, _ = _drive(rt.url, "2.0")
    for answer in (snap, recording):
        assert answer["error"] == "RecorderDisabledError" and answer["code"] == "RECORDER_DISABLED", answer
        assert "recording off" in answer["message"]

"""The runtime's recorder: settings, one :class:`SessionRecording` per session, answers to clip requests.

Recording is on by default. Each session's files live in ``<root>/<recording id>/<track>/``; the
root is a fresh temporary directory unless ``recordings_dir`` names one. A session's files are
deleted ``linger_s`` seconds after it ends (time for a last download), and every file this
recorder made is deleted when the runtime stops.
"""

from __future__ import annotations

import asyncio
import logging
import math
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...protocol import clips
from .segments import SegmentPolicy
from .session import ClipError, ClipGone, SessionRecording

log = logging.getLogger(__name__)


class RecordingSettingsError(ValueError):
    """A recording option with an invalid value; the message names the option."""


@dataclass(frozen=True)
class RecordingSettings:
    """Whether and where the runtime records, and the per-track bounds."""

    enabled: bool = True
    directory: str | None = None
    window_s: float = 120.0
    max_mb: float = 256.0
    linger_s: float = 10.0
    segment_s: float = 2.0

    def __post_init__(self) -> None:
        for name, low in (("window_s", 1.0), ("max_mb", 1.0), ("linger_s", 0.0), ("segment_s", 0.5)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < low:
                raise RecordingSettingsError(f"{_OPTION[name]}: expected a number >= {low:g}, got {value!r}")

    @property
    def policy(self) -> SegmentPolicy:
        """The per-track segment policy these settings give."""
        return SegmentPolicy(
            segment_s=self.segment_s, window_s=self.window_s, max_bytes=int(self.max_mb * 1024 * 1024)
        )


_OPTION = {
    "window_s": "recording_window",
    "max_mb": "recording_max_mb",
    "linger_s": "recording_linger",
    "segment_s": "recording_segment",
}


class Recorder:
    """Starts, serves and deletes the session recordings of one runtime."""

    def __init__(self, settings: RecordingSettings) -> None:
        self.settings = settings
        self._root: Path | None = None
        self._own_root = False
        self.recordings: dict[str, SessionRecording] = {}
        self._deleting: set[asyncio.Task[None]] = set()

    @property
    def root(self) -> Path:
        """The directory recordings are written under (created on first use)."""
        if self._root is None:
            if self.settings.directory:
                self._root = Path(self.settings.directory).expanduser()
                self._root.mkdir(parents=True, exist_ok=True)
            else:
                self._root = Path(tempfile.mkdtemp(prefix="reactor-recordings-"))
                self._own_root = True
        return self._root

    def descriptor(self) -> dict[str, Any]:
        """The session descriptor's ``recording`` entry (as reactor-runtime 3.10 has it, plus our bounds)."""
        seg = self.settings.segment_s
        return {
            "enabled": self.settings.enabled,
            "chunk_seconds": int(seg) if float(seg).is_integer() else seg,
            "window_seconds": self.settings.window_s,
            "max_mb_per_track": self.settings.max_mb,
        }

    def start(self, tracks: list[str], fps: float) -> SessionRecording | None:
        """A new recording of these output tracks, or None when recording is off or there is no track."""
        if not self.settings.enabled or not tracks:
            return None
        rec = SessionRecording(self.root, tracks, fps, self.settings.policy)
        for rid in rec.ids.values():
            self.recordings[rid] = rec
        log.info("recording %s of %s under %s", rec.id, ", ".join(tracks), rec.directory)
        return rec

    async def end(self, rec: SessionRecording | None) -> None:
        """Close a session's recording now; delete its files after ``linger_s``."""
        if rec is None:
            return
        await asyncio.get_running_loop().run_in_executor(None, rec.stop)
        task = asyncio.get_running_loop().create_task(self._delete_later(rec))
        self._deleting.add(task)
        task.add_done_callback(self._deleting.discard)

    async def _delete_later(self, rec: SessionRecording) -> None:
        try:
            await asyncio.sleep(self.settings.linger_s)
        finally:
            for rid in rec.ids.values():
                self.recordings.pop(rid, None)
            rec.delete()

    async def close(self) -> None:
        """Runtime shutdown: stop every recording and delete every file this recorder wrote."""
        loop = asyncio.get_running_loop()
        live = {id(r): r for r in self.recordings.values()}.values()
        for rec in live:
            await loop.run_in_executor(None, rec.stop)
        for task in list(self._deleting):
            task.cancel()
        await asyncio.gather(*self._deleting, return_exceptions=True)
        for rec in live:
            rec.delete()
        self.recordings.clear()
        if self._own_root and self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)

    def find(self, recording_id: str) -> SessionRecording:
        """The recording a ``/clips`` URL names, or :class:`ClipGone`."""
        rec = self.recordings.get(recording_id)
        if rec is None:
            raise ClipGone(f"recording {recording_id!r} is unknown or was deleted with its session")
        return rec

    def answer(
        self, rec: SessionRecording | None, kind: str, duration: Any = None, track: Any = None
    ) -> tuple[str, dict[str, Any]]:
        """``("clipReady", fields)`` or ``("clipFailed", {code, reason, message})`` for one request."""
        try:
            if rec is None:
                raise ClipError(clips.RECORDER_DISABLED, self._disabled_reason())
            return clips.CLIP_READY, rec.request(kind, duration, track)
        except ClipError as err:
            return clips.CLIP_FAILED, {"code": err.code, "reason": err.reason, "message": err.reason}

    def _disabled_reason(self) -> str:
        if not self.settings.enabled:
            return "recorder disabled: this runtime was started with recording off (--no-recording / recording=False)"
        return "recorder disabled: this session has no recording (its model has no output track)"

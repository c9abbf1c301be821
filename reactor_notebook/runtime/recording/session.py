"""A session's recording: one :class:`TrackRecording` per output track, clips and HLS playlists.

A clip request resolves at once to a marker range on the media timeline (seconds since the
first recorded frame) and a playlist URL the client polls: ``GET /clips`` answers 202 until the
segment holding the clip's end has closed, then 200 with an fMP4 HLS playlist of whole segments.
Each track has its own recording id (the ``session_id`` of its clips); a request names a track
or gets the first output track (wire v1's request has no track field).
"""

from __future__ import annotations

import math
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import numpy as np

from ...protocol import clips
from .segments import INIT_FILENAME, SegmentPolicy, TrackRecording, segment_name


class ClipError(Exception):
    """A clip request the recorder refuses; ``code`` is machine-readable, the text says why."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class ClipGone(Exception):
    """A playlist or segment that is unknown, deleted with its session, or rolled out of the window."""


@dataclass(frozen=True)
class Playlist:
    """``GET /clips`` outcome: a body (200) or, while the end segment is open, a retry hint (202)."""

    body: str | None
    retry_after: int = 1


def check_duration(duration: Any) -> float:
    """A requested clip length in seconds, or :class:`ClipError` naming what is wrong with it."""
    if isinstance(duration, bool) or not isinstance(duration, (int, float)):
        raise ClipError(clips.BAD_REQUEST, f"duration_seconds must be a number, got {duration!r}")
    value = float(duration)
    if not math.isfinite(value) or value <= 0:
        raise ClipError(
            clips.BAD_REQUEST, f"duration_seconds must be a positive finite number, got {duration!r}"
        )
    if value > clips.MAX_CLIP_SECONDS:
        raise ClipError(
            clips.BAD_REQUEST,
            f"duration_seconds {value:g} exceeds the longest clip, {clips.MAX_CLIP_SECONDS:g} s; "
            "use request_recording() for everything the runtime still holds",
        )
    return value


class SessionRecording:
    """The rolling recording of one session's output tracks, addressed by a fresh UUID."""

    def __init__(self, root: Path, tracks: list[str], fps: float, policy: SegmentPolicy) -> None:
        self.ids = {name: str(uuid.uuid4()) for name in tracks}
        self.primary = tracks[0]
        self.id = self.ids[self.primary]
        self.directory = root / self.id
        self._names = {rid: name for name, rid in self.ids.items()}
        self.tracks = {
            name: TrackRecording(name, self.directory / name, fps, policy) for name in tracks
        }
        self.ended_at: float | None = None

    def offer(self, track: str, yuv: np.ndarray) -> None:
        """A rendered frame of ``track`` (I420, from the model worker)."""
        rec = self.tracks.get(track)
        if rec is not None:
            rec.offer(yuv)

    def stop(self) -> None:
        """Close every track's last segment (blocking; run it off the event loop)."""
        for rec in self.tracks.values():
            rec.stop()
        self.ended_at = time.monotonic()

    def delete(self) -> None:
        """Remove every file of this recording."""
        for rec in self.tracks.values():
            rec.delete()
        try:
            self.directory.rmdir()
        except OSError:
            pass

    # --- clip requests --------------------------------------------------------------------
    def request(self, kind: str, duration: Any = None, track: Any = None) -> dict[str, Any]:
        """``clip_ready`` fields for a snap clip of ``duration`` s or (``recording``) all that is held."""
        seconds = check_duration(duration) if kind == clips.KIND_SNAP else None
        name = self.primary if track is None else track
        if name not in self.tracks:
            raise ClipError(
                clips.BAD_REQUEST, f"track {track!r} is not a recorded output track (recorded: {sorted(self.tracks)})"
            )
        rec = self.tracks[name]
        rid = self.ids[name]
        if rec.failed is not None:
            raise ClipError(clips.RECORDER_DISABLED, f"recorder disabled: the encoder failed ({rec.failed})")
        end = rec.media_seconds
        if end <= 0:
            raise ClipError(clips.NO_MEDIA, "no media generated yet: the model has not produced a frame")
        held_from = rec.oldest * rec.segment_seconds
        start = held_from if seconds is None else max(held_from, end - seconds)
        boundary = (math.floor(end / rec.segment_seconds) + 1) * rec.segment_seconds
        query = urlencode({"session_id": rid, "start": f"{start:.3f}", "end": f"{end:.3f}"})
        return {
            "session_id": rid,
            "kind": kind,
            "start_marker": start,
            "end_marker": end,
            "now_marker": end,
            "predicted_ready_at_ms": round((time.time() + boundary - end) * 1000),
            "playlist_url": f"{clips.ROUTE_CLIPS}?{query}",
        }

    # --- HTTP ------------------------------------------------------------------------------
    def playlist(self, recording_id: str, start: float, end: float, track: str | None = None) -> Playlist:
        """The HLS playlist of whole segments covering ``[start, end]``, or 202 until it is closed.

        ``track`` names another output track of the same session (same timeline): how a client on
        wire v1, whose request has no track field, gets that track's clip.
        """
        if track is not None:
            if track not in self.ids:
                raise ClipError(
                    clips.BAD_REQUEST, f"track {track!r} is not a recorded output track (recorded: {sorted(self.ids)})"
                )
            recording_id = self.ids[track]
        rec = self.tracks[self._names[recording_id]]
        seg = rec.segment_seconds
        first = max(math.floor(start / seg), rec.oldest)
        last = max(first, math.ceil(end / seg - 1e-9) - 1)
        if last < rec.oldest:
            raise ClipGone("the clip has rolled out of the runtime's recording window")
        if not rec.closed(last):
            if rec.finished or rec.failed is not None:
                raise ClipGone(f"the recording ended before {end:.3f} s")
            wait = (last + 1) * seg - rec.media_seconds
            return Playlist(None, max(1, math.ceil(wait)))
        durations = [rec.duration(i) for i in range(first, last + 1)]
        base = f"{clips.ROUTE_CLIP_CHUNKS_PREFIX}/{recording_id}"
        lines = [
            "#EXTM3U",
            "#EXT-X-VERSION:7",
            f"#EXT-X-TARGETDURATION:{math.ceil(max(durations))}",
            "#EXT-X-PLAYLIST-TYPE:VOD",
            f"#EXT-X-MEDIA-SEQUENCE:{first}",
            "#EXT-X-INDEPENDENT-SEGMENTS",
            f'#EXT-X-MAP:URI="{base}/{INIT_FILENAME}"',
        ]
        for i, d in zip(range(first, last + 1), durations, strict=True):
            lines += [f"#EXTINF:{d:.3f},", f"{base}/{segment_name(i)}"]
        lines.append("#EXT-X-ENDLIST")
        return Playlist("\n".join(lines) + "\n")

    def chunk(self, recording_id: str, filename: str) -> Path:
        """The file behind ``/clips/chunks/{id}/{filename}``; :class:`ClipGone` if not on disk."""
        rec = self.tracks[self._names[recording_id]]
        if filename != INIT_FILENAME:
            index = _segment_index(filename)
            if index is None:
                raise ClipGone(f"{filename!r} is not a recording file (init.mp4 or chunk_NNNNN.m4s)")
            if not rec.closed(index):
                raise ClipGone(f"segment {filename} is not on disk (not closed yet, or rolled out of the window)")
        path = rec.directory / filename
        if not path.is_file():
            raise ClipGone(f"{filename} is not on disk")
        return path


def _segment_index(filename: str) -> int | None:
    stem, _, ext = filename.partition(".")
    if ext != "m4s" or not stem.startswith("chunk_") or len(stem) != 11 or not stem[6:].isdigit():
        return None
    return int(stem[6:])

"""Rolling fMP4 HLS recordings of a session's output tracks, and the clips served from them."""

from .recorder import Recorder, RecordingSettings, RecordingSettingsError
from .segments import SegmentPolicy, TrackRecording
from .session import ClipError, ClipGone, Playlist, SessionRecording

__all__ = [
    "ClipError",
    "ClipGone",
    "Playlist",
    "Recorder",
    "RecordingSettings",
    "RecordingSettingsError",
    "SegmentPolicy",
    "SessionRecording",
    "TrackRecording",
]

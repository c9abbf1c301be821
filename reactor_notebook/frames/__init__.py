"""Frames for analysis: a bounded ring buffer of received frames with metadata, and a timeline.

The SDK session pushes every decoded frame here (one decode, shared by analysis and the
widget's display pump); readers take copies only when they ask for them. Memory is bounded
by a frame count and a byte budget whatever the stream length. Thread-safe: the SDK pushes
from its event-loop thread while cells, the widget pump and comm handlers read from others.
Needs only numpy; pandas (tables), Pillow (snapshot) and PyAV (video files) are imported on use.

Analysis surface (all on :class:`FrameBuffer`, reachable as ``reactor.frames``):

* ``snapshot()`` → PIL image of the newest frame;
* ``record(n=None, seconds=None)`` / ``await arecord(...)`` → ``(N, H, W, 3)`` uint8 array of the
  *live* frames that arrive from now on (every frame, not latest-wins);
* ``iter()`` / ``async for frame, meta in frames`` → live frames, latest wins (a slow consumer skips);
* ``to_dataframe()`` / ``timeline()`` → pandas tables sharing ``seq`` and ``time`` columns;
* ``save_mp4`` / ``save_gif`` / ``save_npz`` (also module functions taking an array).

Layout: ``meta`` (frame type and metadata), ``ring`` (the bounded ring and its waits),
``recording`` (every-frame recordings), ``timeline`` (events and pandas tables), ``files``
(MP4/GIF/NPZ), ``buffer`` (:class:`FrameBuffer`, all of the above on one object).
"""

from __future__ import annotations

from ..profiles.helios import STATE_COLUMNS
from .buffer import FrameBuffer
from .files import DEFAULT_FPS, load_npz, read_video, save_gif, save_mp4, save_npz
from .meta import MB, Frame, FrameMeta, LiveFrame
from .recording import DEFAULT_RECORD_MB
from .ring import DEFAULT_RING_FRAMES, DEFAULT_RING_MB
from .timeline import MAX_TIMELINE_STRING, TimelineEntry

__all__ = [
    "DEFAULT_FPS",
    "DEFAULT_RECORD_MB",
    "DEFAULT_RING_FRAMES",
    "DEFAULT_RING_MB",
    "MAX_TIMELINE_STRING",
    "MB",
    "STATE_COLUMNS",
    "Frame",
    "FrameBuffer",
    "FrameMeta",
    "LiveFrame",
    "TimelineEntry",
    "load_npz",
    "read_video",
    "save_gif",
    "save_mp4",
    "save_npz",
]

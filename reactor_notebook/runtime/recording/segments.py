"""One output track's rolling recording: YUV frames → H264 → fMP4 HLS segments on disk.

The model worker already converts every rendered frame to I420 once for WebRTC; the recorder
takes that array as it is (no second colour conversion) and encodes it on its own thread with a
cheap x264 setting, a keyframe exactly every ``segment_frames`` frames so that every segment
starts with one. PyAV's ``hls`` muxer writes ``init.mp4`` and ``chunk_NNNNN.m4s``. Closed
segments older than the window, or beyond the byte budget, are deleted as new ones close, so a
track never holds more than ``window_s`` seconds and ``max_bytes`` bytes of closed segments plus
the one segment being written.

The timeline is media time: frame ``n`` sits at ``n / fps`` seconds, whatever the wall clock did.
"""

from __future__ import annotations

import logging
import math
import queue
import shutil
import threading
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

log = logging.getLogger(__name__)

INIT_FILENAME = "init.mp4"
SEGMENT_PATTERN = "chunk_%05d.m4s"
_QUEUE_DEPTH = 8  # frames waiting for the encoder; beyond that the recorder drops (and counts)
_STOP_JOIN_S = 5.0


def segment_name(index: int) -> str:
    """File name of segment ``index``."""
    return SEGMENT_PATTERN % index


@dataclass(frozen=True)
class SegmentPolicy:
    """How a track is cut and bounded: segment length, rolling window, byte budget, encoder."""

    segment_s: float = 2.0
    window_s: float = 120.0
    max_bytes: int = 256 * 1024 * 1024
    preset: str = "ultrafast"
    crf: int = 26
    max_bitrate: int = 4_000_000


class TrackRecording:
    """Rolling fMP4 HLS recording of one output track (frames offered from the event loop)."""

    def __init__(self, name: str, directory: Path, fps: float, policy: SegmentPolicy) -> None:
        self.name = name
        self.directory = directory
        self.policy = policy
        self.rate = Fraction(fps).limit_denominator(1001)
        self.fps = float(self.rate)
        self.segment_frames = max(1, round(self.fps * policy.segment_s))
        self.frames_written = 0
        self.frames_dropped = 0
        self.failed: str | None = None
        self.finished = False
        self.oldest = 0  # lowest segment index still on disk
        self._sizes: dict[int, int] = {}  # closed segment index -> bytes
        self._lock = threading.Lock()
        self._queue: queue.Queue[np.ndarray | None] = queue.Queue(maxsize=_QUEUE_DEPTH)
        self._container: Any = None
        self._stream: Any = None
        self._thread = threading.Thread(target=self._run, name=f"reactor-recorder-{name}", daemon=True)
        directory.mkdir(parents=True, exist_ok=True)
        self._thread.start()

    # --- feeding (event-loop thread) ---------------------------------------------------------
    def offer(self, yuv: np.ndarray) -> None:
        """Queue one I420 frame (``(H*3/2, W)`` uint8); dropped and counted if the encoder lags."""
        if self.finished or self.failed:
            return
        try:
            self._queue.put_nowait(yuv)
        except queue.Full:
            self.frames_dropped += 1

    def stop(self) -> None:
        """Encode what is queued, close the last segment and end the thread (blocking, bounded)."""
        if self._thread.is_alive():
            while True:
                try:
                    self._queue.put(None, timeout=0.5)
                    break
                except queue.Full:
                    if not self._thread.is_alive():
                        break
            self._thread.join(_STOP_JOIN_S)
            if self._thread.is_alive():
                log.warning("recorder of track %r did not stop within %.0f s", self.name, _STOP_JOIN_S)
                return
        self._drain()  # frames a failed encoder left queued: not kept while the recording lingers

    def _drain(self) -> None:
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                return

    def delete(self) -> None:
        """Remove the track's directory and every segment in it."""
        shutil.rmtree(self.directory, ignore_errors=True)

    # --- queries (any thread) -----------------------------------------------------------------
    @property
    def media_seconds(self) -> float:
        """Recorded media time so far."""
        return self.frames_written / self.fps

    @property
    def segment_seconds(self) -> float:
        """Exact media duration of a full segment."""
        return self.segment_frames / self.fps

    def closed(self, index: int) -> bool:
        """Whether segment ``index`` is complete on disk (the next one began, or recording ended)."""
        with self._lock:
            return index in self._sizes

    def available(self) -> tuple[int, int] | None:
        """``(first, last)`` closed segment indices on disk, or None while none has closed."""
        with self._lock:
            if not self._sizes:
                return None
            return min(self._sizes), max(self._sizes)

    def duration(self, index: int) -> float:
        """Media duration of closed segment ``index`` (the final one may be short)."""
        start = index * self.segment_frames
        end = min(start + self.segment_frames, self.frames_written)
        return max(end - start, 0) / self.fps

    def bytes_on_disk(self) -> int:
        """Bytes of every file in the track's directory (closed segments, the open one, init)."""
        return sum(p.stat().st_size for p in self.directory.iterdir() if p.is_file())

    # --- encoder thread ---------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            while True:
                yuv = self._queue.get()
                if yuv is None:
                    break
                if self.failed is None:
                    self._encode(yuv)
            self._finish()
        except Exception as exc:  # never take the session down: the recording just ends
            self.failed = f"{type(exc).__name__}: {exc}"
            log.error("recorder of track %r failed: %s", self.name, self.failed)
            self._close_container()

    def _encode(self, yuv: np.ndarray) -> None:
        if self._container is None:
            self._open(yuv.shape[1], yuv.shape[0] * 2 // 3)
        frame = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
        if (frame.width, frame.height) != (self._stream.width, self._stream.height):
            # the model changed its output size (e.g. Helios super-resolution): keep the first size
            frame = frame.reformat(width=self._stream.width, height=self._stream.height)
        n = self.frames_written
        frame.pts = n
        frame.time_base = 1 / self.rate
        if n % self.segment_frames == 0:
            frame.pict_type = av.video.frame.PictureType.I
        self._container.mux(self._stream.encode(frame))
        self.frames_written = n + 1
        if n and n % self.segment_frames == 0:
            self._segment_closed(n // self.segment_frames - 1)

    def _open(self, width: int, height: int) -> None:
        p = self.policy
        g = self.segment_frames
        self._container = av.open(
            str(self.directory / "index.m3u8"),
            mode="w",
            format="hls",
            options={
                "hls_segment_type": "fmp4",
                # a hair under the real segment length, so the muxer cuts at each forced keyframe
                "hls_time": f"{max(self.segment_seconds - 0.5 / self.fps, 0.001):.4f}",
                "hls_list_size": "3",
                "hls_flags": "independent_segments",
                "hls_fmp4_init_filename": INIT_FILENAME,
                "hls_segment_filename": str(self.directory / SEGMENT_PATTERN),
            },
        )
        stream = self._container.add_stream("libx264", rate=self.rate)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.time_base = 1 / self.rate
        stream.options = {
            "preset": p.preset,
            "tune": "zerolatency",
            "crf": str(p.crf),
            "maxrate": str(p.max_bitrate),
            "bufsize": str(p.max_bitrate),
            "x264-params": f"keyint={g}:min-keyint={g}:scenecut=0:threads=1",
        }
        self._stream = stream

    def _segment_closed(self, index: int) -> None:
        path = self.directory / segment_name(index)
        try:
            size = path.stat().st_size
        except OSError:
            return
        with self._lock:
            self._sizes[index] = size
            self._enforce_bounds()

    def _enforce_bounds(self) -> None:
        """Drop the oldest closed segments beyond the window or the byte budget (keep the newest)."""
        keep = max(1, math.ceil(self.policy.window_s / self.segment_seconds))
        while len(self._sizes) > 1 and (
            len(self._sizes) > keep or sum(self._sizes.values()) > self.policy.max_bytes
        ):
            oldest = min(self._sizes)
            del self._sizes[oldest]
            (self.directory / segment_name(oldest)).unlink(missing_ok=True)
            self.oldest = oldest + 1

    def _finish(self) -> None:
        last = (self.frames_written - 1) // self.segment_frames if self.frames_written else -1
        if self._container is not None:
            self._container.mux(self._stream.encode(None))
        self._close_container()
        if last >= 0:
            self._segment_closed(last)
        self.finished = True
        if self.frames_dropped:
            log.warning("recorder of track %r dropped %d frames: its encoder fell behind", self.name, self.frames_dropped)

    def _close_container(self) -> None:
        """Close the muxer and drop every reference to it and to the encoder.

        A stopped recording stays reachable (``Recorder.recordings``) for ``linger_s`` so its
        clips can still be fetched; only its sizes and counters are needed for that. The stream
        holds the x264 codec context (its lookahead and reference frames, megabytes per track),
        which ``container.close()`` does not free while a Python reference to the stream is
        alive, so the stream is released here too.
        """
        container, self._container = self._container, None
        stream, self._stream = self._stream, None
        if container is not None:
            try:
                container.close()
            except Exception as exc:
                log.warning("recorder of track %r: closing the output failed: %s", self.name, exc)
        del container, stream  # the last references: the codec context and muxer are freed here

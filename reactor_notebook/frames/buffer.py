""":class:`FrameBuffer`: the ring and its recordings plus the copies users ask for (images, arrays, tables, files)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np

from . import files
from .meta import Frame, FrameMeta
from .recording import Recording
from .timeline import frames_table, timeline_table

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from PIL import Image


class FrameBuffer(Recording):
    """Bounded ring of recent frames (by count and bytes; default 120 frames, 256 MB) plus a bounded timeline."""

    def __repr__(self) -> str:
        from ..reprs import buffer_text

        return buffer_text(self)

    def _repr_html_(self) -> str:
        from ..reprs import buffer_html

        return buffer_html(self)

    # --- copies on request -------------------------------------------------------------------
    def snapshot(self, timeout: float | None = 5.0) -> Image.Image:
        """The newest frame as a PIL image (waits up to ``timeout`` s for a first frame)."""
        from PIL import Image

        ref = self.latest_ref() or self.wait_next(-1, timeout)
        if ref is None:
            raise TimeoutError(
                f"no frame arrived within {timeout} s; is the session connected and streaming?"
            )
        return Image.fromarray(np.ascontiguousarray(ref[0]), "RGB")

    def to_array(self, last: int | None = None, track: str | None = None) -> Frame:
        """Stack the held frames (the ``last`` n; one track, default the newest frame's) into a copy."""
        items = self.frames()
        if not items:
            raise ValueError("the frame buffer is empty; nothing to stack")
        track = track or items[-1][1].track
        items = [it for it in items if it[1].track == track]
        if last is not None:
            items = items[-last:] if last > 0 else []
        shape = items[-1][0].shape if items else None
        items = [it for it in items if it[0].shape == shape]
        if not items:
            raise ValueError(f"no frames of track {track!r} held")
        return np.stack([f for f, _ in items])

    # --- tables ----------------------------------------------------------------------------
    def to_dataframe(self, metas: Iterable[FrameMeta] | None = None) -> pd.DataFrame:
        """Frame metadata (held frames, or the given metas e.g. from ``record(return_meta=True)``) as a table.

        Columns: ``seq``, ``time`` (UTC datetimes; ``epoch`` has the seconds), size, ``frame_index``,
        ``chunk``, ``prompt``, ``latency_ms`` and the model profile's state columns.
        """
        return frames_table(self.metas() if metas is None else metas, self.profile.state_columns)

    def timeline(self) -> pd.DataFrame:
        """Commands, messages, events, state and status changes with timestamps.

        Shares ``time`` (UTC pandas datetimes; ``epoch`` has the seconds) and ``seq`` (newest frame at that moment) with
        :meth:`to_dataframe`, so ``pd.merge_asof`` or a ``seq`` join lines them up.
        ``event`` names application events of both Helios message families: the legacy
        ``data.event`` (``prompt_switched``) or the typed message type (``chunk_complete``).
        """
        return timeline_table(self.timeline_entries())

    # --- export ------------------------------------------------------------------------------
    def estimated_fps(self) -> float | None:
        """Frame rate measured from the held frames' arrival times (median interval), or None."""
        metas = self.metas()
        if len(metas) < 3:
            return None
        gaps = np.diff([m.arrival_mono for m in metas])
        gaps = gaps[gaps > 0]
        if not len(gaps):
            return None
        return float(1.0 / np.median(gaps))

    def save_mp4(self, path: str | os.PathLike[str], fps: float | None = None, *, crf: int = 18) -> str:
        """Encode the held frames (oldest first) to H.264 MP4 at ``path``; returns the path.

        ``fps`` defaults to the measured arrival rate, ``crf`` is x264's quality (lower: better,
        larger). Raises ValueError when the buffer is empty, and an OSError naming the path, the
        cause and a fix when the file cannot be written (missing directory, no permission).
        """
        return files.save_mp4(self.to_array(), path, fps=fps or self.estimated_fps() or files.DEFAULT_FPS, crf=crf)

    def save_gif(self, path: str | os.PathLike[str], fps: float | None = None) -> str:
        """Encode the held frames to an animated GIF at ``path``; same ``fps`` and errors as :meth:`save_mp4`."""
        return files.save_gif(self.to_array(), path, fps=fps or self.estimated_fps() or files.DEFAULT_FPS)

    def save_npz(self, path: str | os.PathLike[str], *, compressed: bool = False) -> str:
        """Save held frames, their metadata columns and the timeline (JSON) to one ``.npz``."""
        items = self.frames()
        if not items:
            raise ValueError("the frame buffer is empty; nothing to save")
        track = items[-1][1].track
        shape = items[-1][0].shape
        items = [it for it in items if it[1].track == track and it[0].shape == shape]
        return files.save_npz(
            np.stack([f for f, _ in items]),
            path,
            metas=[m for _, m in items],
            timeline=self.timeline_entries(),
            compressed=compressed,
            state_columns=self.profile.state_columns,
        )

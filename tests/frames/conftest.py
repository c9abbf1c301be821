"""Fixtures for frame-buffer tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from frames_support import Feeder

from reactor_notebook.frames import FrameBuffer


@pytest.fixture
def feeder() -> Iterator[Feeder]:
    buf = FrameBuffer(max_frames=30)
    f = Feeder(buf)
    yield f
    f.stop()

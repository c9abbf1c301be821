"""Fixtures for the Helios tests."""

from __future__ import annotations

import pytest
from helios_support import b64, image_bytes


@pytest.fixture
def png() -> str:
    """A small red PNG as raw base64."""
    return b64(image_bytes(100, 60, (220, 30, 30)))

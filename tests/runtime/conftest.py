"""Fixtures for runtime tests: a real LocalRuntime on an ephemeral port with fast timeouts."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import pytest

from reactor_notebook.runtime import LocalRuntime

from .client import RawClient

FAST = {"keepalive_check": 0.1, "model_options": {"width": 320, "height": 192}, "fps": 30}


def make_runtime(**kwargs: Any) -> LocalRuntime:
    opts = {"model": "testpattern", "port": 0, **FAST, **kwargs}
    return LocalRuntime(**opts)


@pytest.fixture
def runtime() -> Iterator[LocalRuntime]:
    with make_runtime() as rt:
        yield rt


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
async def local_client(runtime: LocalRuntime, http: aiohttp.ClientSession) -> AsyncIterator[RawClient]:
    """A connected client on the local session (channels open, frames flowing)."""
    async with http.post(runtime.url + "/start_session") as r:
        assert r.status == 200
    client = RawClient(runtime.url, tracks=[
        {"name": "main_video", "kind": "video", "direction": "recvonly"},
        {"name": "webcam", "kind": "video", "direction": "sendonly"},
    ])
    await client.connect()
    try:
        yield client
    finally:
        await client.close()

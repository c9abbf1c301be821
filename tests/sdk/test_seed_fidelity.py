"""The seed API as documented, against our real runtime: the context-manager snippet as written,
removing frame callbacks (decorated ones too), a JWT minted elsewhere, and the real session expiry."""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.request
from collections.abc import Iterator

import numpy as np
import pytest

from reactor_notebook.runtime import LocalRuntime
from reactor_notebook.sdk import ApiError, Reactor, ReactorStatus


@pytest.fixture(scope="module")
def helios_runtime() -> Iterator[LocalRuntime]:
    with LocalRuntime(model="helios", port=0) as rt:
        yield rt


def mint(url: str, expires_after: float) -> tuple[str, float]:
    """A token from the runtime's coordinator, as a server-side token proxy would get one."""
    req = urllib.request.Request(
        f"{url}/tokens",
        data=json.dumps({"expires_after": expires_after}).encode(),
        method="POST",
        headers={"Reactor-API-Key": "proxy-key", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        body = json.loads(resp.read())
    return body["jwt"], float(body["expires_at"])


async def test_context_manager_snippet_as_written(helios_runtime: LocalRuntime) -> None:
    statuses: list[ReactorStatus] = []
    async with Reactor(model_name="helios", local=True, local_url=helios_runtime.url) as reactor:
        reactor.on("status_changed", statuses.append)
        await reactor.send_command("start", {})  # connects first: the snippet never calls connect()
        assert reactor.get_status() is ReactorStatus.READY
    assert reactor.get_status() is ReactorStatus.DISCONNECTED  # "automatically disconnects on exit"
    assert statuses[:3] == [ReactorStatus.CONNECTING, ReactorStatus.WAITING, ReactorStatus.READY]
    assert statuses[-1] is ReactorStatus.DISCONNECTED


async def test_context_manager_with_explicit_connect_still_works(helios_runtime: LocalRuntime) -> None:
    async with Reactor("helios", local=True, local_url=helios_runtime.url) as reactor:
        await reactor.connect()  # the complete example of the docs
        await reactor.send_command("schedule_prompt", {"prompt": "A sunset", "chunk": 0})
        await reactor.send_command("start", {})
        assert reactor.get_status() is ReactorStatus.READY


async def test_frame_callbacks_can_all_be_removed(runtime: LocalRuntime) -> None:
    r = Reactor("testpattern", local=True, local_url=runtime.url)
    counts = {"decorated": 0, "set": 0, "other": 0}
    lock = threading.Lock()

    def count(name: str) -> None:
        with lock:
            counts[name] += 1

    @r.on_frame
    def decorated(frame: np.ndarray) -> None:
        count("decorated")

    @r.on_frame
    def other(frame: np.ndarray) -> None:
        count("other")

    r.set_frame_callback(lambda frame: count("set"))
    await r.connect()
    try:
        await _frames(r, 5)
        assert all(v > 0 for v in counts.values()), counts
        assert r.remove_frame_callback(other) is True and r.remove_frame_callback(other) is False
        await _frames(r, 3)  # let callbacks already queued finish
        with lock:
            frozen = counts["other"]
        await _frames(r, 5)
        assert counts["other"] == frozen and counts["decorated"] > 0
        r.set_frame_callback(None)  # every frame callback, the decorated one too
        await _frames(r, 3)
        with lock:
            snapshot = dict(counts)
        await _frames(r, 5)
        assert counts == snapshot
    finally:
        await r.disconnect()


async def _frames(r: Reactor, n: int) -> None:
    """Await ``n`` more frames in the ring (the dispatcher sees each one right after)."""
    seq = r.frames.seq
    for _ in range(n):
        got = await asyncio.to_thread(r.frames.wait_next, seq, 10)
        assert got is not None, "no frame within 10 s"
        seq = r.frames.seq


def test_decorated_status_filter_is_removed_with_off(runtime: LocalRuntime) -> None:
    r = Reactor("testpattern", local=True, local_url=runtime.url)
    seen: list[ReactorStatus] = []

    @r.on_status(ReactorStatus.READY)
    def ready(status: ReactorStatus) -> None:
        seen.append(status)

    r.off("status_changed", ready)
    r.connect_sync()
    r.disconnect_sync()
    assert seen == []


def test_jwt_minted_elsewhere_and_its_expiry(runtime: LocalRuntime) -> None:
    token, expires_at = mint(runtime.url, 600)
    r = Reactor("testpattern", jwt=token, api_url=runtime.url)
    expirations: list[float | None] = []
    r.on("session_expiration_changed", expirations.append)
    assert token not in repr(r) and "Secret('***')" not in repr(r)
    r.connect_sync()
    try:
        assert r.get_status() is ReactorStatus.READY
        assert r.get_session_expiration() == pytest.approx(expires_at, abs=1)
    finally:
        r.disconnect_sync()
    assert expirations == [pytest.approx(expires_at, abs=1), None]


def test_refused_jwt_says_what_to_do(runtime: LocalRuntime) -> None:
    token, _ = mint(runtime.url, 600)
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    r = Reactor("testpattern", jwt=forged, api_url=runtime.url)
    with pytest.raises(ApiError) as info:
        r.connect_sync()
    text = str(info.value)
    assert info.value.code == "UNAUTHORIZED" and "the token given as jwt=... was refused" in text, text
    assert forged not in text
    err = r.get_last_error()
    assert err is not None and forged not in err.message

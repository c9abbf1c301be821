"""SdkLoop: run coroutines on the SDK thread from other loops, plain threads and the loop itself."""

from __future__ import annotations

import asyncio
import threading

import pytest

from reactor_notebook.sdk.loop import SdkLoop, get_sdk_loop


async def _where() -> threading.Thread:
    await asyncio.sleep(0)
    return threading.current_thread()


@pytest.fixture
def sdk_loop() -> SdkLoop:
    lp = SdkLoop("test-sdk-loop")
    yield lp
    lp.stop()


async def test_await_from_another_loop_runs_on_sdk_thread(sdk_loop: SdkLoop) -> None:
    thread = await sdk_loop.run(_where())
    assert thread is sdk_loop.thread and thread is not threading.current_thread()


def test_blocking_from_plain_thread_and_asyncio_run(sdk_loop: SdkLoop) -> None:
    assert sdk_loop.run_sync(_where(), timeout=5) is sdk_loop.thread
    results: list[threading.Thread] = []

    def other() -> None:
        results.append(asyncio.run(sdk_loop.run(_where())))

    t = threading.Thread(target=other)
    t.start()
    t.join(5)
    assert results == [sdk_loop.thread]


def test_direct_when_already_on_the_loop(sdk_loop: SdkLoop) -> None:
    async def nested() -> bool:
        inner = await sdk_loop.run(_where())  # no thread hop: same loop
        return inner is threading.current_thread()

    assert sdk_loop.run_sync(nested(), timeout=5) is True


def test_run_sync_on_loop_thread_refuses(sdk_loop: SdkLoop) -> None:
    async def bad() -> str:
        try:
            sdk_loop.run_sync(_where(), timeout=1)
        except RuntimeError as exc:
            return str(exc)
        return "no error"

    assert "SDK event-loop thread" in sdk_loop.run_sync(bad(), timeout=5)


def test_run_sync_timeout_cancels_the_work(sdk_loop: SdkLoop) -> None:
    cancelled = threading.Event()

    async def slow() -> None:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    with pytest.raises(TimeoutError, match=r"0\.1 s"):
        sdk_loop.run_sync(slow(), timeout=0.1)
    assert cancelled.wait(5)


async def test_caller_cancellation_propagates(sdk_loop: SdkLoop) -> None:
    cancelled = threading.Event()
    started = threading.Event()

    async def slow() -> None:
        started.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    task = asyncio.ensure_future(sdk_loop.run(slow()))
    await asyncio.to_thread(started.wait, 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await asyncio.to_thread(cancelled.wait, 5)


def test_default_loop_is_shared_and_daemon() -> None:
    a, b = get_sdk_loop(), get_sdk_loop()
    assert a is b
    assert a.loop is b.loop
    assert a.thread is not None and a.thread.daemon

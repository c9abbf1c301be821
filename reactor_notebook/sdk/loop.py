"""The SDK's own event-loop thread.

All asyncio work of the SDK (HTTP, aiortc, timers, frame readers) runs on one daemon
thread, so streaming continues while a notebook cell blocks its kernel. Helpers run a
coroutine there from anywhere: awaited from another loop (``asyncio.wrap_future``), blocking
from a plain thread, or directly when already on the SDK loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")


class SdkLoop:
    """A daemon thread running an asyncio loop, started lazily and shared by SDK objects."""

    def __init__(self, name: str = "reactor-sdk-loop") -> None:
        self._name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The running loop, starting the thread on first use."""
        with self._lock:
            if self._loop is None or self._thread is None or not self._thread.is_alive():
                self._start()
            assert self._loop is not None
            return self._loop

    @property
    def thread(self) -> threading.Thread | None:
        """The loop's thread (None before the first use), e.g. to tell whether code runs on it."""
        return self._thread

    def _start(self) -> None:
        loop = asyncio.new_event_loop()
        started = threading.Event()

        def run() -> None:
            """Thread body: run the loop until stopped, then close it."""
            asyncio.set_event_loop(loop)
            loop.call_soon(started.set)
            try:
                loop.run_forever()
            finally:
                loop.close()

        thread = threading.Thread(target=run, name=self._name, daemon=True)
        thread.start()
        started.wait()
        self._loop, self._thread = loop, thread

    def in_loop_thread(self) -> bool:
        """True when called from the SDK loop's own thread."""
        return self._thread is not None and threading.current_thread() is self._thread

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Schedule ``coro`` on the SDK loop from any thread; return a concurrent future."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def call_soon(self, fn: Any, *args: Any) -> None:
        """Run a plain callable on the SDK loop (thread-safe)."""
        self.loop.call_soon_threadsafe(fn, *args)

    async def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await ``coro`` on the SDK loop from whatever loop the caller runs on.

        Cancelling the caller cancels the work on the SDK loop too.
        """
        try:
            current = asyncio.get_running_loop()
        except RuntimeError:  # pragma: no cover - only reachable via odd callers
            current = None
        if current is self.loop:
            return await coro
        return await asyncio.wrap_future(self.submit(coro))

    def run_sync(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Block the calling thread until ``coro`` finishes on the SDK loop.

        Raises RuntimeError when called on the SDK loop thread itself (it would deadlock)
        and TimeoutError after ``timeout`` seconds (the work is cancelled).
        """
        if self.in_loop_thread():
            coro.close()
            raise RuntimeError(
                "blocking *_sync call made on the SDK event-loop thread (e.g. from an event handler); "
                "use the async method instead"
            )
        fut = self.submit(coro)
        try:
            return fut.result(timeout)
        except concurrent.futures.TimeoutError:
            fut.cancel()
            raise TimeoutError(f"operation did not finish within {timeout} s") from None

    def stop(self) -> None:
        """Stop the loop thread (tests only; SDK objects assume it lives for the process)."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is not None and thread is not None and thread.is_alive():
            loop.call_soon_threadsafe(loop.stop)
            thread.join(5)


_default = SdkLoop()


def get_sdk_loop() -> SdkLoop:
    """The process-wide SDK loop shared by every Reactor."""
    return _default

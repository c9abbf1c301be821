"""What every JSON-lines client driver shares: event output, the operation loop, the frame index code, RSS.

Standard library only (plus the repository's framecode.py loaded by path), so drivers running
in the official packages' venvs (py08_driver.py, py113_driver.py) can import it.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[3]


def _load_framecode() -> Any:
    """Import reactor_notebook/framecode.py by path (the package itself is not installed here)."""
    spec = importlib.util.spec_from_file_location("_framecode", REPO / "reactor_notebook" / "framecode.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


framecode = _load_framecode()
_emit_lock = threading.Lock()


def emit(ev: str, **fields: Any) -> None:
    """Write one event line (with CLOCK_MONOTONIC time) to stdout; callable from any thread."""
    fields["ev"] = ev
    fields.setdefault("t", time.monotonic())
    line = json.dumps(fields, default=str) + "\n"
    with _emit_lock:
        sys.stdout.write(line)
        sys.stdout.flush()


def emit_frame(n: int, image: Any, probes: list[tuple[int, int]], now: float) -> None:
    """Report one delivered RGB frame: arrival time, count, index code, shape and the probed pixels."""
    h, w = image.shape[:2]
    px = [image[min(y, h - 1), min(x, w - 1)].tolist() for x, y in probes]
    emit("frame", t=now, n=n, index=framecode.read_index(image), shape=list(image.shape), px=px)


async def report_op(op: dict[str, Any], dispatch: Callable[[str | None, dict[str, Any]], Awaitable[Any]]) -> None:
    """Run one operation and report ``op_done`` with its result or ``op_failed`` with the error's class and code."""
    name = op.get("op")
    try:
        result = await dispatch(name, op)
        emit("op_done", op=name, id=op.get("id"), result=result)
    except Exception as exc:  # reported to the test or bench, which decides
        emit("op_failed", op=name, id=op.get("id"), error=f"{type(exc).__name__}: {exc}",
             cls=type(exc).__name__, code=getattr(exc, "code", None))


def current_rss_kb() -> int:
    """Resident set size now, from /proc (ru_maxrss is only the peak)."""
    try:
        with open(f"/proc/{os.getpid()}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


async def serve_ops(
    run_op: Callable[[dict[str, Any]], Awaitable[None]], close: Callable[[], Awaitable[Any]] | None = None
) -> None:
    """Run each JSON-lines operation read from stdin as its own task until ``exit`` or end of input.

    Operations still running then are cancelled and ``close`` (the disconnect) gets 10 s; its
    failure is reported as an ``exit_error`` event.
    """
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    pending: set[asyncio.Task[None]] = set()
    while True:
        line = await reader.readline()
        if not line:
            break
        op = json.loads(line)
        if op.get("op") == "exit":
            break
        task = asyncio.ensure_future(run_op(op))
        pending.add(task)
        task.add_done_callback(pending.discard)
    for task in list(pending):
        task.cancel()
    if close is not None:
        try:
            await asyncio.wait_for(close(), 10)
        except Exception as exc:
            emit("exit_error", error=str(exc))

"""PY08 (official reactor-sdk 0.8.0) scripted upload session against a helios runtime.

Runs inside the PY08 venv (never the project's interpreter):
``python py08_upload_client.py URL REFERENCE_PNG OVERSIZED_PNG`` (the test writes both images).
Uploads a reference image through ``Reactor.upload_file`` (too large for a data-channel message),
sends ``set_image`` with the returned FileRef, then an oversized one; prints JSON lines
(``message``, ``frame`` and a final ``summary``) for the test to assert on.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[2]
C = 33
sys.path.insert(0, str(REPO / "tests" / "interop" / "clients"))  # driver_io: what every driver shares
from driver_io import emit, framecode  # noqa: E402


async def main(url: str, data: bytes, big: bytes) -> None:
    import reactor_sdk
    import reactor_sdk.reactor

    reactor_sdk.reactor.LOCAL_API_URL = url  # PY08 local mode hard-codes localhost:8080
    r = reactor_sdk.Reactor(model_name="helios", local=True)
    loop = asyncio.get_running_loop()
    messages: list[dict[str, Any]] = []
    frames: dict[int, list[float]] = {}
    changed = asyncio.Event()

    def on_message(m: Any) -> None:
        messages.append(m)
        emit("message", message=m)
        loop.call_soon_threadsafe(changed.set)

    def on_frame(image: np.ndarray) -> None:
        index = framecode.read_index(image)
        frames[index] = image[40:340].reshape(-1, 3).mean(axis=0).tolist()
        loop.call_soon_threadsafe(changed.set)

    def on_status(status: Any) -> None:
        emit("status", status=getattr(status, "value", str(status)))
        loop.call_soon_threadsafe(changed.set)

    r.on("message", on_message)
    r.on("status_changed", on_status)
    r.set_frame_callback(on_frame)

    async def until(pred: Any, what: str, timeout: float = 20.0) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            found = pred()
            if found:
                return found
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"timed out waiting for {what}")
            changed.clear()
            try:
                await asyncio.wait_for(changed.wait(), min(left, 1.0))
            except asyncio.TimeoutError:
                pass

    def event(name: str, after: int) -> Any:
        return lambda: next(
            (i for i, m in enumerate(messages) if i >= after and m.get("type") == "event"
             and m["data"].get("event") == name), None
        )

    await r.connect()
    await until(lambda: r.get_status().value == "ready", "READY")
    ref = await r.upload_file(data, name="reference.png", mime_type="image/png")
    await r.send_command("set_prompt", {"prompt": "A lighthouse in a storm"})
    await r.send_command("start", {})
    mark = len(messages)
    await r.send_command("set_image", {"image": ref, "transition": "cut"})
    at = await until(event("image_set", mark), "image_set event")
    state = await until(
        lambda: next((m["data"] for m in messages[at:] if m.get("type") == "state"), None), "state after image_set"
    )
    latch = state["current_chunk"] + 1
    await until(lambda: any(latch * C + 2 <= i < 0xFFFF for i in frames), f"frames of chunk {latch}")

    big_ref = await r.upload_file(big, name="too-wide.png", mime_type="image/png")
    mark = len(messages)
    await r.send_command("set_image", {"image": big_ref})
    err_at = await until(event("error", mark), "error event")
    await r.disconnect()
    emit(
        "summary",
        upload_bytes=len(data),
        image_set=messages[at]["data"],
        state=state,
        latch=latch,
        frames={str(k): v for k, v in sorted(frames.items()) if k != 0xFFFF},
        error=messages[err_at]["data"],
    )


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], Path(sys.argv[2]).read_bytes(), Path(sys.argv[3]).read_bytes()))

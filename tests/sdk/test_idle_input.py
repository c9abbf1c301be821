"""Unpublished inputs hold an IdleInput (reactor_notebook/sdk/idle_input.py) instead of no track.

aiortc's sender polls every 20 ms while it has no track; with the stand-in its loop calls
``recv`` once and waits. Real path: the testpattern's ``webcam`` input waits without polling
while streaming, a published track's frames reach the runtime, and after unpublish and a
second publish they reach it again. Unit: the stand-in hands over the real track's frame.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiortc import RTCPeerConnection
from sdk_support import NumpyTrack, next_frames
from testutil import Recorder

from reactor_notebook.runtime import LocalRuntime
from reactor_notebook.sdk import Reactor
from reactor_notebook.sdk.idle_input import IdleInput, attach, park


def input_frames(rec: Recorder) -> int:
    stats = [m["data"] for m in rec.of("message") if m.get("type") == "input_stats"]
    return max((s["frames"] for s in stats if s.get("track") == "webcam"), default=0)


async def test_unpublished_input_waits_without_polling_and_publish_cycles_work(runtime: LocalRuntime) -> None:
    r = Reactor("testpattern", local=True, local_url=runtime.url)
    rec = Recorder().attach(r)
    await r.connect()
    try:
        transport = r._transport
        assert transport is not None
        sender = transport.entries["webcam"].transceiver.sender
        idle = sender.track
        assert isinstance(idle, IdleInput) and idle.kind == "video"
        await next_frames(r, 12)  # ~0.5 s of streaming: aiortc's poll would have woken ~25 times
        assert idle.waits == 1  # the sender's loop called recv once and is waiting

        first = NumpyTrack()
        await r.publish_track("webcam", first)
        assert sender.track is first
        await rec.await_(lambda: input_frames(rec) >= 5, timeout=15, what="input frames at the runtime")
        await r.unpublish_track("webcam")
        parked = sender.track
        assert isinstance(parked, IdleInput) and parked is not idle
        sent = first.count
        await next_frames(r, 6)
        assert first.count <= sent + 1  # at most the frame the loop was already waiting for
        await rec.await_(lambda: parked.waits == 1, what="the sender parked again")

        second = NumpyTrack()
        before = input_frames(rec)
        await r.publish_track("webcam", second)
        await rec.await_(
            lambda: second.count >= 5 and input_frames(rec) >= before + 5, timeout=15, what="again"
        )
        assert rec.of("error") == []
    finally:
        await r.disconnect()


async def test_idle_input_hands_over_the_real_track() -> None:
    pc = RTCPeerConnection()
    try:
        sender = pc.addTransceiver("video", direction="sendonly").sender
        idle = park(sender, "video")
        assert sender.track is idle
        waiting: asyncio.Task[Any] = asyncio.ensure_future(idle.recv())
        await asyncio.sleep(0)  # one loop turn, no timing: the task (scheduled first) runs up to its wait
        assert idle.waits == 1 and not waiting.done()
        real = NumpyTrack(32, 16)
        attach(sender, real)
        frame = await asyncio.wait_for(waiting, 5)
        assert (frame.width, frame.height) == (32, 16) and real.count == 1
        assert idle.waits == 1
    finally:
        await pc.close()

"""reactor-sdk 1.13.0 clip driver (runs in the PY113 venv): connect, clip, download, report JSON lines.

    python py113_clips.py URL MODEL OUT_DIR [SECONDS ...]

For each SECONDS (default 2.0): ``request_clip`` then ``download`` to OUT_DIR/clip_N.mp4, printing
``{"clip": {...}, "path": ..., "download_s": ...}`` or ``{"error": type, "code": ..., "message": ...}``.
Then ``request_recording`` the same way, and disconnect.
"""

import asyncio
import dataclasses
import json
import sys
import time

from reactor_sdk import Reactor


def report(**fields: object) -> None:
    print(json.dumps(fields), flush=True)


async def main(url: str, model: str, out: str, durations: list[float]) -> None:
    reactor = Reactor(model, local=True, api_url=url)
    frames = [0]
    loop = asyncio.get_running_loop()
    streamed = asyncio.Event()

    @reactor.track("main_video").on_frame
    def _count(frame: object) -> None:
        frames[0] += 1
        if frames[0] == 60:  # stream for a while first: ~2.5 s at 24 fps
            loop.call_soon_threadsafe(streamed.set)

    await reactor.connect()
    await asyncio.wait_for(streamed.wait(), 30)
    requests = [(f"clip_{i}", lambda d=d: reactor.request_clip(d)) for i, d in enumerate(durations)]
    for name, ask in [*requests, ("recording", reactor.request_recording)]:
        try:
            clip = await ask()
            t0 = time.monotonic()
            path = f"{out}/{name}.mp4"
            await reactor.download(clip, path, ready_timeout=60)
            report(clip=dataclasses.asdict(clip), path=path, download_s=time.monotonic() - t0)
        except Exception as exc:  # reported for the test to judge
            report(error=type(exc).__name__, code=getattr(exc, "code", None), message=str(exc))
    await reactor.disconnect()
    report(done=True, frames=frames[0])


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], [float(x) for x in sys.argv[4:]] or [2.0]))

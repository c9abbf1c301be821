"""Clips over wire v0 against a real runtime: clipReady/clipFailed, /clips playlists, segments, cleanup."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import numpy as np
import pytest
from testutil import apoll_until

from reactor_notebook.framecode import read_index
from reactor_notebook.protocol import clips
from reactor_notebook.runtime import LocalRuntime
from reactor_notebook.runtime.models.base import Frame, TrackSpec
from reactor_notebook.runtime.models.testpattern import TestPattern
from reactor_notebook.sdk import Reactor
from reactor_notebook.sdk.clips import Clip, decode_clip, fetch_clip

from .client import RawClient
from .conftest import make_runtime

TRACKS = [{"name": "main_video", "kind": "video", "direction": "recvonly"}]


async def _connected(rt: LocalRuntime, http: aiohttp.ClientSession) -> RawClient:
    async with http.post(rt.url + "/start_session") as r:
        assert r.status == 200
    client = RawClient(rt.url, tracks=TRACKS)
    await client.connect()
    return client


async def _ask(client: RawClient, request: str, data: dict | None = None) -> dict:
    start = len(client.messages)
    client.send("runtime", request, data or {})

    def answered() -> bool:
        return any(m.get("data", {}).get("type") in ("clipReady", "clipFailed") for m in client.messages[start:])

    await apoll_until(answered, 10.0, f"an answer to {request}")
    return next(m["data"] for m in client.messages[start:] if m["data"]["type"] in ("clipReady", "clipFailed"))


def _recording_dir(rt: LocalRuntime) -> Path:
    recs = list(rt._server.manager.recorder.recordings.values())  # type: ignore[union-attr]
    assert len(recs) == 1
    return recs[0].directory


async def test_clip_is_served_as_fmp4_hls_with_the_streamed_frames_in_order(http: aiohttp.ClientSession) -> None:
    with make_runtime() as rt:
        client = await _connected(rt, http)
        try:
            streamed = await client.wait_frames(45)
            answer = await _ask(client, "requestClip", {"duration_seconds": 1.0})
            assert answer["type"] == "clipReady", answer
            fields = answer["data"]
            assert fields["kind"] == "snap" and fields["end_marker"] == fields["now_marker"] > 0
            assert fields["end_marker"] - fields["start_marker"] == pytest.approx(1.0)
            assert fields["playlist_url"].startswith(f"/clips?session_id={fields['session_id']}&start=")
            url = rt.url + fields["playlist_url"]
            async with http.get(url) as r:  # the segment holding the end is still open
                assert r.status == 202 and int(r.headers["Retry-After"]) >= 1
            clip = Clip(**{**fields, "playlist_url": url})
            data = await fetch_clip(http, clip, {}, timeout=30)
            async with http.get(url) as r:
                body = await r.text()
            assert r.status == 200 and r.content_type == clips.HLS_MEDIA_TYPE
            lines = body.splitlines()
            assert lines[:2] == ["#EXTM3U", "#EXT-X-VERSION:7"] and lines[-1] == "#EXT-X-ENDLIST"
            assert f'#EXT-X-MAP:URI="/clips/chunks/{fields["session_id"]}/init.mp4"' in lines
            assert all(x.startswith(f"/clips/chunks/{fields['session_id']}/chunk_") for x in lines if x[:1] == "/")
            assert next(x for x in lines if x.startswith("#EXTINF")) == "#EXTINF:2.000,"
        finally:
            await client.close()
    frames = decode_clip(data)
    assert frames.dtype == np.uint8 and frames.shape[1:] == (192, 320, 3)
    codes = [read_index(f) for f in frames]
    assert codes == list(range(codes[0], codes[0] + len(codes)))  # every frame, in order
    assert len(codes) >= 30  # whole 2 s segments at 30 fps cover the 1 s asked for
    by_code = {read_index(f): f for f in streamed}
    same = [c for c in codes if c in by_code]
    assert same, "the clip and the stream share no frame"
    for c in same:  # the same model frame, through two independent lossy encoders
        diff = np.abs(by_code[c].astype(np.int16) - frames[codes.index(c)].astype(np.int16)).mean()
        assert diff < 12, (c, diff)


async def test_recording_covers_the_session_so_far(http: aiohttp.ClientSession) -> None:
    with make_runtime() as rt:
        client = await _connected(rt, http)
        assert rt._server.manager.recorder.descriptor() == {  # type: ignore[union-attr]
            "enabled": True, "chunk_seconds": 2, "window_seconds": 120.0, "max_mb_per_track": 256.0
        }
        try:
            await client.wait_frames(10)
            answer = await _ask(client, "requestRecording")
            assert answer["type"] == "clipReady" and answer["data"]["kind"] == "recording"
            assert answer["data"]["start_marker"] == 0.0
        finally:
            await client.close()


async def test_bad_durations_are_refused_specifically_and_long_ones_clamped(http: aiohttp.ClientSession) -> None:
    with make_runtime() as rt:
        client = await _connected(rt, http)
        try:
            early = await _ask(client, "requestClip", {"duration_seconds": 1.0})
            if early["type"] == "clipFailed":  # asked before the first frame was recorded
                assert early["data"]["code"] == "NO_MEDIA" and "no media" in early["data"]["reason"]
            await client.wait_frames(5)
            await apoll_until(lambda: rt._server.manager.recorder.recordings and all(  # type: ignore[union-attr]
                r.tracks["main_video"].frames_written > 0 for r in rt._server.manager.recorder.recordings.values()
            ), 10, "a recorded frame")
            for bad, words in ((-1, "positive finite"), (0, "positive finite"), ("ten", "must be a number"),
                               (None, "must be a number"), (1e9, "exceeds the longest clip, 300 s")):
                answer = await _ask(client, "requestClip", {"duration_seconds": bad})
                assert answer["type"] == "clipFailed", (bad, answer)
                assert answer["data"]["code"] == "BAD_REQUEST" and words in answer["data"]["reason"], answer
            longer = await _ask(client, "requestClip", {"duration_seconds": 250.0})
            assert longer["type"] == "clipReady" and longer["data"]["start_marker"] == 0.0  # clamped to the start
            async with http.get(rt.url + "/clips", params={"session_id": "nope", "start": "0", "end": "1"}) as r:
                assert r.status == 410 and "unknown" in (await r.json())["detail"]
            sid = longer["data"]["session_id"]
            for query, words in (({"session_id": sid, "end": "1"}, "'start' is required"),
                                 ({"session_id": sid, "start": "x", "end": "1"}, "must be a number"),
                                 ({"session_id": sid, "start": "2", "end": "1"}, "must be greater")):
                async with http.get(rt.url + "/clips", params=query) as r:
                    assert r.status == 400 and words in (await r.json())["detail"], query
            async with http.get(f"{rt.url}/clips/chunks/{sid}/..%2Fetc") as r:
                assert r.status == 404
            async with http.get(f"{rt.url}/clips/chunks/{sid}/chunk_09999.m4s") as r:
                assert r.status == 404
        finally:
            await client.close()


async def test_recording_off_answers_clip_failed_with_a_reason(http: aiohttp.ClientSession) -> None:
    with make_runtime(recording=False) as rt:
        client = await _connected(rt, http)
        assert rt._server.manager.recorder.descriptor()["enabled"] is False  # type: ignore[union-attr]
        try:
            for request in ("requestClip", "requestRecording"):
                answer = await _ask(client, request, {"duration_seconds": 2.0})
                assert answer["type"] == "clipFailed"
                assert answer["data"]["code"] == "RECORDER_DISABLED"
                assert answer["data"]["reason"].startswith("recorder disabled: this runtime was started with recording off")
        finally:
            await client.close()
        assert not rt._server.manager.recorder.recordings  # type: ignore[union-attr]


async def test_files_are_deleted_with_the_session_and_the_runtime(http: aiohttp.ClientSession, tmp_path: Path) -> None:
    root = tmp_path / "recs"
    with make_runtime(recordings_dir=str(root), recording_linger=0) as rt:
        client = await _connected(rt, http)
        try:
            await client.wait_frames(5)
            folder = _recording_dir(rt)
            await apoll_until(lambda: (folder / "main_video" / "init.mp4").exists(), 10, "the init segment")
            assert folder.parent == root
        finally:
            await client.close()
        async with http.post(rt.url + "/stop_session") as r:
            assert r.status == 200
        await apoll_until(lambda: not folder.exists(), 10, "the session's recording deleted")
        assert root.exists() and not any(root.iterdir())  # a given directory is kept, emptied
        client = await _connected(rt, http)
        try:
            await client.wait_frames(5)
            second = _recording_dir(rt)
        finally:
            await client.close()
    assert not second.exists()  # runtime shutdown deletes the live session's files too


async def test_default_root_is_a_temporary_directory_removed_at_shutdown(http: aiohttp.ClientSession) -> None:
    with make_runtime() as rt:
        client = await _connected(rt, http)
        try:
            await client.wait_frames(3)
            root = _recording_dir(rt).parent
            assert root.name.startswith("reactor-recordings-")
        finally:
            await client.close()
        await asyncio.sleep(0)
    assert not root.exists()


class TwoTracks(TestPattern):
    """testpattern plus a half-size ``preview`` output, to clip a second track."""

    @property
    def tracks(self) -> list[TrackSpec]:
        return [*super().tracks, TrackSpec("preview", "video", "out")]

    def render(self) -> dict[str, Frame]:
        frames = super().render()
        return {**frames, "preview": frames["main_video"][::2, ::2]}


async def test_every_output_track_is_recorded_and_a_request_can_name_one(http: aiohttp.ClientSession) -> None:
    with LocalRuntime(model=TwoTracks(width=320, height=192, fps=30), port=0, keepalive_check=0.1) as rt:
        client = await _connected(rt, http)
        try:
            await client.wait_frames(20)
            main = await _ask(client, "requestClip", {"duration_seconds": 0.5})
            preview = await _ask(client, "requestClip", {"duration_seconds": 0.5, "track": "preview"})
            unknown = await _ask(client, "requestRecording", {"track": "webcam"})
            assert main["type"] == preview["type"] == "clipReady"
            assert main["data"]["session_id"] != preview["data"]["session_id"]
            assert unknown["type"] == "clipFailed" and unknown["data"]["code"] == "BAD_REQUEST"
            assert "'webcam' is not a recorded output track (recorded: ['main_video', 'preview'])" in unknown["data"]["reason"]
            url = rt.url + main["data"]["playlist_url"]
            async with http.get(url + "&track=nope") as r:
                assert r.status == 400 and "'nope' is not a recorded output track" in (await r.json())["detail"]
            sizes = []
            for answer in (main, preview):
                clip = Clip(**{**answer["data"], "playlist_url": rt.url + answer["data"]["playlist_url"]})
                sizes.append(decode_clip(await fetch_clip(http, clip, {}, timeout=30)).shape[1:])
        finally:
            await client.close()
    assert sizes == [(192, 320, 3), (96, 160, 3)]


def test_our_sdk_clips_another_track() -> None:
    with LocalRuntime(model=TwoTracks(width=320, height=192, fps=30), port=0) as rt:
        reactor = Reactor("testpattern", local=True, local_url=rt.url)
        reactor.connect_sync()
        try:
            reactor.frames.record(20)
            preview = reactor.download_sync(reactor.request_clip_sync(0.5, track="preview"))
            main = reactor.download_sync(reactor.request_clip_sync(0.5))
        finally:
            reactor.disconnect_sync()
    assert isinstance(preview, np.ndarray) and isinstance(main, np.ndarray)
    assert preview.shape[1:] == (96, 160, 3) and main.shape[1:] == (192, 320, 3)


def test_bad_recording_options_name_the_option() -> None:
    with pytest.raises(ValueError, match="recording_window: expected a number >= 1"):
        LocalRuntime(model="testpattern", recording_window=0)
    with pytest.raises(ValueError, match="recording_max_mb"):
        LocalRuntime(model="testpattern", recording_max_mb=float("nan"))

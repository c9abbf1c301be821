"""Session machine over real WebRTC: hooks, model thread, keepalive, orphan timeout, stop/DELETE, reconnect."""

from __future__ import annotations

import asyncio
import threading

import aiohttp
from testutil import apoll_until

from reactor_notebook import protocol
from reactor_notebook.framecode import read_index
from reactor_notebook.runtime import LocalRuntime

from .client import RawClient
from .conftest import make_runtime
from .probe_model import LegacyProbe, ProbeModel

ONE_TRACK = [{"name": "main_video", "kind": "video", "direction": "recvonly"}]


async def health(http: aiohttp.ClientSession, url: str) -> str:
    async with http.get(url + "/health") as r:
        return (await r.json())["state"]


async def start_local(http: aiohttp.ClientSession, url: str) -> None:
    async with http.post(url + "/start_session") as r:
        assert r.status == 200, await r.text()


async def test_hooks_run_once_on_one_model_thread(http: aiohttp.ClientSession) -> None:
    model = ProbeModel()
    before = {t for t in threading.enumerate() if t.name.startswith(("reactor-runtime", "reactor-model"))}
    with LocalRuntime(model=model, port=0, keepalive_check=0.1) as rt:
        assert rt.model is model
        await start_local(http, rt.url)
        client = RawClient(rt.url, tracks=ONE_TRACK)
        try:
            await client.connect()
            hello = await client.app_message("hello")
            assert hello["data"]["calls"] >= 0
            frames = await client.wait_frames(3)
            assert read_index(frames[-1]) > 0
            assert await health(http, rt.url) == "STREAMING"
            client.command("refuse", {})
            client.command("crash", {})
            await client.app_message("command_error")
            await apoll_until(lambda: sum(m["data"].get("type") == "command_error" for m in client.messages) == 2, 5, "2 errors")
            errs = [m["data"]["data"] for m in client.messages if m["data"].get("type") == "command_error"]
            assert errs[0] == {"command": "refuse", "field": "why", "reason": "invalid_state", "message": "refuse: field 'why': refused because no"}
            assert errs[1]["command"] == "crash" and "boom" in errs[1]["message"]
        finally:
            await client.close()
        async with http.post(rt.url + "/stop_session") as r:
            assert r.status == 200
        assert model.calls.count("start") == 1 and model.calls[-1] == "end"
        assert len(model.threads) == 1 and threading.get_ident() not in model.threads
    after = {t for t in threading.enumerate() if t.name.startswith(("reactor-runtime", "reactor-model"))}
    assert after <= before  # the loop thread and the model thread are gone


async def test_legacy_error_style(http: aiohttp.ClientSession) -> None:
    with LocalRuntime(model=LegacyProbe(), port=0) as rt:
        await start_local(http, rt.url)
        client = RawClient(rt.url, tracks=ONE_TRACK)
        try:
            await client.connect()
            client.command("refuse", {"why": 5})
            err = await client.app_message("event")
            assert err["data"] == {
                "event": "error", "command": "refuse", "field": "why", "reason": "wrong_type",
                "message": "refuse: field 'why': expected string, got int 5",
            }
        finally:
            await client.close()


async def test_uploads_reach_the_model_and_oversized_output_is_replaced(http: aiohttp.ClientSession) -> None:
    model = ProbeModel()
    with LocalRuntime(model=model, port=0) as rt:
        await start_local(http, rt.url)
        client = RawClient(rt.url, tracks=ONE_TRACK)
        try:
            await client.connect()
            client.command("load", {}, uploads={"file": {"upload_id": "nope", "name": "a", "mime_type": "x", "size": 1}})
            err = await client.app_message("command_error")
            assert err["data"]["reason"] == "unknown_upload" and err["data"]["field"] == "file"
            async with http.post(rt.url + "/sessions/local/uploads", json={"name": "a.bin", "size": 3, "mime_type": "application/octet-stream"}) as r:
                up = await r.json()
            async with http.put(up["presigned_url"], data=b"abc") as r:
                assert r.status == 200
            ref = {"upload_id": up["presigned_id"], "name": "a.bin", "mime_type": "application/octet-stream", "size": 3}
            client.send("runtime", "fileUploaded", ref)
            client.command("load", {}, uploads={"file": ref})
            loaded = await client.app_message("loaded")
            assert loaded["data"] == {"name": "a.bin", "size": 3}
            assert model.files[0].data == b"abc"
            client.command("shout", {})
            err = await client.runtime_message("error")
            assert err["data"]["code"] == "MESSAGE_TOO_LARGE"
        finally:
            await client.close()


async def test_stop_session_closes_peers_and_transport_then_404s(runtime: LocalRuntime, http: aiohttp.ClientSession) -> None:
    await start_local(http, runtime.url)
    client = RawClient(runtime.url, tracks=ONE_TRACK)
    try:
        await client.connect()
        await client.wait_frames(2)
        async with http.post(runtime.url + "/stop_session") as r:
            assert r.status == 200
        await apoll_until(lambda: client.pc.connectionState in ("closed", "failed") or client.data.readyState == "closed", 10, "client sees the close")
        assert await health(http, runtime.url) == "READY"
        async with http.post(runtime.url + "/sessions/local/transport/webrtc/connections") as r:
            assert r.status == 404
    finally:
        await client.close()


async def test_keepalive_then_orphan_timeout_reclaims_session(http: aiohttp.ClientSession) -> None:
    with make_runtime(keepalive_timeout=1.0, orphan_timeout=0.5) as rt:
        await start_local(http, rt.url)
        client = RawClient(rt.url, tracks=ONE_TRACK)
        try:
            await client.connect()
            pinger_states = []
            # pings keep the peer alive past the keepalive timeout
            loop_end = asyncio.get_running_loop().time() + 1.6
            while asyncio.get_running_loop().time() < loop_end:
                client.send("runtime", "ping", {})
                pinger_states.append(await health(http, rt.url))
                await asyncio.sleep(0.1)  # ten pings per timeout: a wide margin on a busy CPU
            assert set(pinger_states) == {"STREAMING"}
            # silence: the server closes the peer, the session is orphaned, then reclaimed
            await apoll_until(lambda: client.pc.connectionState in ("closed", "failed") or client.data.readyState == "closed", 10, "peer closed by keepalive")
            states = set()

            async def settled() -> bool:
                states.add(await health(http, rt.url))
                return "READY" in states

            end = asyncio.get_running_loop().time() + 10
            while not await settled():
                assert asyncio.get_running_loop().time() < end, states
                await asyncio.sleep(0.05)
            async with http.get(rt.url + "/session") as r:
                assert r.status == 404
        finally:
            await client.close()


async def test_reconnect_keeps_model_state_and_does_not_restart_model(http: aiohttp.ClientSession) -> None:
    model = ProbeModel()
    with LocalRuntime(model=model, port=0, keepalive_check=0.1) as rt:
        await start_local(http, rt.url)
        first = RawClient(rt.url, tracks=ONE_TRACK)
        await first.connect()
        idx1 = read_index((await first.wait_frames(3))[-1])
        await first.close()
        await apoll_until(lambda: rt.server.manager.machine_state() == "ORPHANED", 10, "ORPHANED")
        second = RawClient(rt.url, tracks=ONE_TRACK)
        try:
            await second.connect()
            idx2 = read_index((await second.wait_frames(3))[-1])
            assert idx2 > idx1  # same generator kept running
            assert rt.server.manager.machine_state() == "STREAMING"
            assert model.calls.count("start") == 1 and "end" not in model.calls
        finally:
            await second.close()


async def test_put_reoffer_replaces_the_peer(runtime: LocalRuntime, http: aiohttp.ClientSession) -> None:
    await start_local(http, runtime.url)
    client = RawClient(runtime.url, tracks=ONE_TRACK)
    try:
        await client.connect()
        old_pc = client.pc
        await client.wait_frames(2)
        await client.connect(register=False)  # same connection id: POST on a live peer acts as PUT
        await apoll_until(lambda: old_pc.connectionState in ("closed", "failed"), 10, "old peer closed")
        await old_pc.close()
        await client.wait_frames(3)
        assert len(runtime.server.manager.sessions["local"].peers) == 1
    finally:
        await client.close()


async def test_cloud_session_transport_needs_token_and_delete_closes_peers(
    runtime: LocalRuntime, http: aiohttp.ClientSession
) -> None:
    async with http.post(runtime.url + "/tokens", headers={protocol.HEADER_API_KEY: "k"}) as r:
        jwt = (await r.json())["jwt"]
    auth = {"Authorization": f"Bearer {jwt}"}
    async with http.post(runtime.url + "/sessions", json={"model": {"name": "testpattern"}}, headers=auth) as r:
        sid = (await r.json())["session_id"]
    client = RawClient(runtime.url, session_id=sid, token=jwt, tracks=ONE_TRACK)
    try:
        await client.connect()
        await client.wait_frames(2)
        async with http.get(f"{runtime.url}/sessions/{sid}", headers=auth) as r:
            assert (await r.json())["state"] == "ACTIVE"
        async with http.delete(f"{runtime.url}/sessions/{sid}", headers=auth) as r:
            assert r.status == 200
        await apoll_until(lambda: client.pc.connectionState in ("closed", "failed") or client.data.readyState == "closed", 10, "closed")
        async with http.post(f"{runtime.url}/sessions/{sid}/transport/webrtc/connections", headers=auth) as r:
            assert r.status == 404
    finally:
        await client.close()


async def test_max_session_duration_closes_the_session(http: aiohttp.ClientSession) -> None:
    with make_runtime(max_session_duration=0.3) as rt:
        await start_local(http, rt.url)
        await apoll_until(lambda: rt.server.manager.machine_state() == "READY", 10, "session closed by max duration")
        async with http.get(rt.url + "/session") as r:
            assert r.status == 404


async def test_failing_render_repeats_the_last_frame_until_the_model_recovers(http: aiohttp.ClientSession) -> None:
    from .probe_model import FlakyProbe

    model = FlakyProbe()
    with LocalRuntime(model=model, port=0) as rt:
        await start_local(http, rt.url)
        client = RawClient(rt.url, tracks=ONE_TRACK)
        try:
            await client.connect()
            await client.wait_frames(3)
            for garbage in (False, True):
                start = len(client.messages)
                client.command("toggle", {"garbage": garbage})
                assert (await client.app_message("toggled", start=start))["data"] == {"broken": True}
                # frames rendered before the toggle drain out; then the last good one repeats
                await apoll_until(
                    lambda: len({read_index(f) for f in client.frames[-3:]}) == 1, 10, "a repeated frame"
                )
                held = read_index(client.frames[-1])
                frozen = {read_index(f) for f in (await client.wait_frames(5))[-5:]}
                assert frozen == {held}, frozen
                start = len(client.messages)
                client.command("toggle", {})
                await client.app_message("toggled", start=start)
                await client.wait_frames(3)
                assert read_index(client.frames[-1]) > max(frozen)
        finally:
            await client.close()

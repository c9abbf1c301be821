"""The CLI process and the LocalRuntime handle: listening line, shutdown, ensure(), no leaks."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from testutil import free_port

from reactor_notebook.runtime import LocalRuntime

LINE = re.compile(r"^reactor runtime listening on http://(?P<host>[^:]+):(?P<port>\d+) \(model (?P<model>\w+)\)$")


def _spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "reactor_notebook.runtime", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # own process group; stopped by its PID only
    )


@pytest.fixture
def procs() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for p in started:
        if p.poll() is None:
            p.kill()
        p.wait(10)
        for stream in (p.stdout, p.stderr):
            if stream:
                stream.close()


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.loads(r.read())


def test_cli_prints_real_port_serves_and_stops_on_sigterm(procs: list) -> None:
    p = _spawn("--port", "0", "--model", "testpattern", "--fps", "10", "--model-option", "width=320", "--bitrate", "2M")
    procs.append(p)
    line = p.stdout.readline().strip()
    m = LINE.match(line)
    assert m, line
    assert m["host"] == "127.0.0.1" and m["model"] == "testpattern" and int(m["port"]) > 0
    url = f"http://127.0.0.1:{m['port']}"
    assert _get(url + "/health") == {"status": "healthy", "model": "testpattern", "state": "READY"}
    req = urllib.request.Request(url + "/start_session", data=b"{}", method="POST")
    with urllib.request.urlopen(req, timeout=5) as r:
        assert json.loads(r.read())["capabilities"]["emission_fps"] == 10
    os.kill(p.pid, signal.SIGTERM)
    assert p.wait(15) == 0


def test_cli_rejects_bad_encoder_flags(procs: list) -> None:
    p = _spawn("--port", "0", "--model", "testpattern", "--preset", "warp")
    procs.append(p)
    assert p.wait(30) == 2
    err = p.stderr.read()
    assert "--preset: 'warp' is not one of" in err


def test_cli_warns_when_binding_all_interfaces_without_key(procs: list) -> None:
    p = _spawn("--host", "0.0.0.0", "--port", "0", "--model", "testpattern")
    procs.append(p)
    line = p.stdout.readline()
    assert "listening on http://127.0.0.1:" in line
    os.kill(p.pid, signal.SIGTERM)
    p.wait(15)
    assert "without --api-key" in p.stderr.read()


def _threads() -> set[threading.Thread]:
    """The runtime's threads (event loop and model threads) alive now."""
    return {t for t in threading.enumerate() if t.name.startswith(("reactor-runtime", "reactor-model"))}


def test_handle_start_stop_leaves_nothing_behind() -> None:
    before = _threads()  # other tests' runtimes may be alive in this process
    rt = LocalRuntime(model="testpattern", port=0, api_key="hidden-key", model_options={"width": 256, "height": 64})
    assert "hidden-key" not in repr(rt)
    with rt:
        assert rt.running and rt.port > 0 and rt.url == f"http://127.0.0.1:{rt.port}"
        assert _get(rt.url + "/health")["model"] == "testpattern"
        assert rt.model.width == 256
    assert not rt.running and _threads() <= before
    rt.stop()  # idempotent
    with pytest.raises(OSError):  # the socket is released
        socket.create_connection(("127.0.0.1", rt.port), timeout=1).close()


def test_busy_port_raises_and_ensure_reuses_listener() -> None:
    with LocalRuntime(model="testpattern", port=0) as rt:
        with pytest.raises(OSError):
            LocalRuntime(model="testpattern", port=rt.port).start()
        assert LocalRuntime.ensure(model="testpattern", port=rt.port) is None
    free = free_port()
    handle = LocalRuntime.ensure(model="testpattern", port=free)
    try:
        assert handle is not None and handle.port == free
        assert _get(handle.url + "/health")["status"] == "healthy"
    finally:
        if handle is not None:
            handle.stop()


def test_unknown_model_name() -> None:
    with pytest.raises(ValueError, match="unknown model 'sora'; known models: helios, testpattern"):
        LocalRuntime(model="sora")


def test_unknown_runtime_option_is_refused_with_a_hint() -> None:
    with pytest.raises(TypeError, match=r"'keepalive_timout' \(did you mean 'keepalive_timeout'\?\)"):
        LocalRuntime(model="testpattern", keepalive_timout=3)


def test_cli_reads_api_key_from_environment(procs: list) -> None:
    p = subprocess.Popen(
        [sys.executable, "-m", "reactor_notebook.runtime", "--port", "0", "--model", "testpattern",
         "--api-key-env", "RT_TEST_KEY"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        env={**os.environ, "RT_TEST_KEY": "env-secret"},
    )
    procs.append(p)
    m = LINE.match(p.stdout.readline().strip())
    assert m
    url = f"http://127.0.0.1:{m['port']}/tokens"
    for key, status in (("wrong", 401), ("env-secret", 200)):
        req = urllib.request.Request(url, data=b"", method="POST", headers={"Reactor-API-Key": key})
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                got = r.status
        except urllib.error.HTTPError as exc:
            got = exc.code
        assert got == status, key
    os.kill(p.pid, signal.SIGTERM)
    assert p.wait(15) == 0
    assert "env-secret" not in p.stderr.read()


def test_cli_api_key_env_must_be_set(procs: list) -> None:
    p = _spawn("--port", "0", "--model", "testpattern", "--api-key-env", "RT_TEST_KEY_UNSET_XYZ")
    procs.append(p)
    assert p.wait(30) == 2
    assert "RT_TEST_KEY_UNSET_XYZ is not set" in p.stderr.read()


def test_ensure_without_a_port_follows_reactor_local_url(monkeypatch: pytest.MonkeyPatch) -> None:
    free = free_port()
    monkeypatch.setenv("REACTOR_LOCAL_URL", f"http://localhost:{free}/")
    handle = LocalRuntime.ensure(model="testpattern")
    try:
        assert handle is not None and handle.url == f"http://127.0.0.1:{free}"
        assert LocalRuntime.ensure(model="testpattern") is None  # something listens there now
    finally:
        assert handle is not None
        handle.stop()
    monkeypatch.setenv("REACTOR_LOCAL_URL", "http://gpu-box.example:8080")
    with pytest.raises(ValueError, match=r"REACTOR_LOCAL_URL=http://gpu-box.example:8080 is not on this machine"):
        LocalRuntime.ensure(model="testpattern")

"""Access control (protocol.md §2.1 is the contract, so the official clients keep working).

* The runtime binds 127.0.0.1 unless told otherwise; binding another address without
  ``--api-key`` prints a warning (the veth case is in test_faults_network.py).
* With ``--api-key``: ``POST /tokens`` compares the key in constant time and answers 401 with a
  clear detail otherwise; cloud-like coordinator routes and the transport routes of cloud
  sessions need ``Authorization: Bearer <token>``: missing, malformed, forged, expired, scoped to
  another session, or minted by another runtime → 401.
* The official reactor-sdk 0.8.0 (PY08, through the interop harness) and our SDK stream with the
  right key and fail clearly (401) with a wrong or empty one; a missing key is refused before
  any request.
* Known limit (by contract): the local routes and session ``local`` never check auth, because
  the official local clients send no credentials; so bind loopback for local use.
"""

from __future__ import annotations

import base64
import hmac
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support import REPO, RuntimeProcess, http, record_figure
from testutil import poll_until

from reactor_notebook import protocol
from reactor_notebook.runtime import auth as auth_module
from reactor_notebook.sdk import Reactor, ReactorStatus

KEY = "rk_auth_test_key_7c1e"
INTEROP = REPO / "tests" / "interop"


@pytest.fixture(scope="module")
def rt() -> Iterator[RuntimeProcess]:
    with RuntimeProcess("--api-key", KEY) as proc:
        yield proc


def _token(url: str, key: str | None = KEY, body: Any = None) -> tuple[int, Any]:
    headers = {} if key is None else {protocol.HEADER_API_KEY: key}
    data = None if body is None else json.dumps(body).encode()
    status, parsed, _ = http("POST", url + "/tokens", data, headers)
    return status, parsed


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


def _listen_addresses(port: int) -> set[str]:
    """Local addresses of listening TCP sockets on ``port`` (from /proc/net/tcp and tcp6)."""
    out = set()
    for name in ("tcp", "tcp6"):
        try:
            lines = Path(f"/proc/net/{name}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            addr, p = local.split(":")
            if state == "0A" and int(p, 16) == port:
                out.add(addr)
    return out


def test_default_bind_is_loopback_and_other_binds_without_a_key_warn() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "reactor_notebook.runtime", "--port", "0", "--model", "testpattern"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True, cwd=str(REPO),
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("reactor runtime listening on http://127.0.0.1:"), line
        port = int(line.split(":")[2].split()[0])
        assert _listen_addresses(port) == {"0100007F"}  # 127.0.0.1 only
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=15)
    assert "warning" not in err.lower()
    with RuntimeProcess(host="0.0.0.0") as wide:
        poll_until(lambda: any("without --api-key" in s for s in wide.stderr), 5, "the exposure warning")
    with RuntimeProcess("--api-key", KEY, host="0.0.0.0") as keyed:
        assert keyed.url
        assert not any("without --api-key" in s for s in keyed.stderr), keyed.stderr


def test_tokens_need_the_configured_key_compared_in_constant_time(
    rt: RuntimeProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    status, body = _token(rt.url)
    assert status == 200 and body["jwt"].count(".") == 2
    for key, detail in ((None, "Missing API key"), ("", "Missing API key"), ("wrong", "Invalid API key"),
                        (KEY[:-1], "Invalid API key"), (KEY + "x", "Invalid API key")):
        status, body = _token(rt.url, key)
        assert status == 401 and detail in body["detail"], (key, status, body)
        assert KEY not in json.dumps(body)
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(auth_module.hmac, "compare_digest", spy)
    a = auth_module.Authenticator((KEY,))
    a.check_api_key(KEY)
    with pytest.raises(auth_module.AuthError):
        a.check_api_key("x" * len(KEY))
    assert len(calls) == 2  # every comparison of a configured key goes through compare_digest


def test_cloud_routes_refuse_missing_forged_expired_and_foreign_tokens(rt: RuntimeProcess) -> None:
    _, good = _token(rt.url)
    token = good["jwt"]
    create = json.dumps({"model": {"name": "testpattern"}}).encode()
    status, created, _ = http("POST", rt.url + "/sessions", create, _bearer(token))
    assert status == 201
    sid = created["session_id"]
    transport = f"/sessions/{sid}/transport/webrtc"
    header, payload, sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["exp"] += 10_000
    longer = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    _, scoped = _token(rt.url, body={"session_id": "sess_someone_else"})
    with RuntimeProcess("--api-key", KEY) as other:
        foreign = _token(other.url)[1]["jwt"]
    _, short = _token(rt.url, body={"expires_after": 0.5})
    poll_until(lambda: http("GET", f"{rt.url}/sessions/{sid}", headers=_bearer(short["jwt"]))[0] == 401,
               10, "the short token to expire")
    bad = {
        "missing": {},
        "not bearer": {"Authorization": f"Basic {token}"},
        "empty bearer": {"Authorization": "Bearer "},
        "local bearer": {"Authorization": "Bearer local"},
        "garbage": {"Authorization": "Bearer not-a-token"},
        "forged signature": _bearer(f"{header}.{payload}.{sig[::-1]}"),
        "extended expiry": _bearer(f"{header}.{longer}.{sig}"),
        "expired": _bearer(short["jwt"]),
        "other session": _bearer(scoped["jwt"]),
        "other runtime": _bearer(foreign),
    }
    routes = [("GET", f"/sessions/{sid}"), ("GET", f"/sessions/{sid}/info"), ("POST", "/sessions"),
              ("GET", transport + "/ice_servers"), ("POST", transport + "/connections"),
              ("GET", transport + "/connections/1002/sdp_params"), ("POST", f"/sessions/{sid}/uploads"),
              ("DELETE", f"/sessions/{sid}")]
    refused = 0
    for label, headers in bad.items():
        for method, path in routes:
            if label == "other session" and path == "/sessions":
                continue  # a scoped token only guards its own session's routes
            status, body, _ = http(method, rt.url + path, create if method == "POST" else None, headers)
            assert status == 401 and body["detail"], (label, method, path, status, body)
            refused += 1
    details = {label: http("GET", f"{rt.url}/sessions/{sid}", headers=h)[1]["detail"] for label, h in bad.items()}
    assert "expired" in details["expired"].lower() and "another session" in details["other session"]
    assert "Missing Authorization" in details["missing"]
    # The good token still works; the session is ended with it.
    assert http("GET", f"{rt.url}{transport}/ice_servers", headers=_bearer(token))[0] == 200
    assert http("DELETE", f"{rt.url}/sessions/{sid}", headers=_bearer(token))[0] == 200
    record_figure("auth_refusals", token_kinds=len(bad), routes=len(routes), refused=refused)


def test_our_sdk_streams_with_the_key_and_fails_clearly_without_it(rt: RuntimeProcess) -> None:
    r = Reactor("testpattern", api_key=KEY, api_url=rt.url)
    try:
        r.connect_sync()
        seq = r.frames.seq
        poll_until(lambda: r.frames.seq >= seq + 10, 15, "frames with the right key")
    finally:
        r.disconnect_sync()
    for key in ("wrong-key", KEY + "0"):
        bad = Reactor("testpattern", api_key=key, api_url=rt.url)
        with pytest.raises(Exception) as info:
            bad.connect_sync()
        assert getattr(info.value, "code", None) == "UNAUTHORIZED" and "401" in str(info.value), info.value
        assert "Invalid API key" in str(info.value) and bad.get_status() is ReactorStatus.DISCONNECTED
    with pytest.raises(ValueError, match="api_key is required"):
        Reactor("testpattern", api_url=rt.url)


@pytest.fixture(scope="module")
def py08_python() -> Path:
    sys.path.insert(0, str(INTEROP))
    from py08_env import ensure_py08_venv

    try:
        return ensure_py08_venv()
    except Exception as exc:  # no venv and no registry: say so
        pytest.skip(f"reactor-sdk 0.8.0 venv unavailable: {exc}")


def _py08(python: Path, url: str, key: str | None) -> Any:
    sys.path.insert(0, str(INTEROP))
    from harness import CLIENTS, ClientProcess

    args = [str(python), str(CLIENTS / "py08_driver.py"), "--mode", "cloud", "--api-url", url, "--frame-every", "5"]
    if key is not None:
        args += ["--api-key", key]
    client = ClientProcess(args)
    client.wait_for("hello", 30)
    return client


def test_official_py08_streams_with_the_key_and_gets_401_without_it(rt: RuntimeProcess, py08_python: Path) -> None:
    with _py08(py08_python, rt.url, KEY) as good:
        good.call("connect", 30)
        frames = good.wait_frames(3, 20)
        assert all(f["index"] is not None for f in frames)
        good.call("disconnect", 15)
    outcomes = {}
    for label, key in (("wrong", "wrong-key"), ("empty", ""), ("missing", None)):
        with _py08(py08_python, rt.url, key) as bad:
            done = bad.call("connect", 30, allow_fail=True)  # answers (fails) within the call's deadline
            assert done["ev"] == "op_failed", done
            outcomes[label] = done["error"][:160]
            if key is None:
                assert "No API key provided" in done["error"], done
            else:
                assert "401" in done["error"], done
    record_figure("auth_py08", outcomes=outcomes)

"""Unit tests of the runtime's pure helpers: SDP completion, mapping checks, uploads, config, auth."""

from __future__ import annotations

import time

import pytest

from reactor_notebook.runtime.auth import Authenticator, AuthError
from reactor_notebook.runtime.config import ConfigError, RuntimeConfig, normalize_ice_servers
from reactor_notebook.runtime.models.base import TrackSpec
from reactor_notebook.runtime.sdp import (
    MappingError,
    complete_candidates,
    media_sections,
    validate_track_mapping,
)
from reactor_notebook.runtime.uploads import UploadError, UploadStore

OFFER = "\r\n".join([
    "v=0", "o=- 1 1 IN IP4 0.0.0.0", "s=-", "t=0 0", "a=group:BUNDLE 0 1 2",
    "m=video 9 UDP/TLS/RTP/SAVPF 96", "c=IN IP4 0.0.0.0", "a=mid:0", "a=recvonly", "a=rtcp-mux",
    "a=candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host", "a=end-of-candidates",
    "m=video 9 UDP/TLS/RTP/SAVPF 96", "c=IN IP4 0.0.0.0", "a=mid:1", "a=sendonly",
    "m=application 9 UDP/DTLS/SCTP webrtc-datachannel", "c=IN IP4 0.0.0.0", "a=mid:2",
]) + "\r\n"
TRACKS = [TrackSpec("main_video", "video", "out"), TrackSpec("webcam", "video", "in")]


def test_complete_candidates_copies_first_section_candidates_and_adds_rtcp_mux() -> None:
    out = complete_candidates(OFFER)
    sections = out.split("m=")[1:]
    for sec in sections:
        assert "a=candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host" in sec
        assert "a=end-of-candidates" in sec
    assert sections[1].count("a=rtcp-mux") == 1 and "a=rtcp-mux" not in sections[2]
    assert complete_candidates(out) == out  # idempotent


def test_media_sections() -> None:
    secs = media_sections(OFFER)
    assert [(s.kind, s.mid, s.direction) for s in secs] == [
        ("video", "0", "recvonly"), ("video", "1", "sendonly"), ("application", "2", "sendrecv")
    ]


def test_track_mapping_validation() -> None:
    ok = [{"mid": "0", "name": "main_video", "kind": "video", "direction": "recvonly"},
          {"mid": "1", "name": "webcam", "kind": "video", "direction": "sendonly"}]
    assert {m: t.name for m, t in validate_track_mapping(ok, OFFER, TRACKS).items()} == {"0": "main_video", "1": "webcam"}
    assert validate_track_mapping(None, OFFER, TRACKS) == {}
    bad_cases = [
        ("nope", "must be a list"),
        ([1], "track_mapping[0]: expected an object"),
        ([{"mid": 0, "name": "main_video"}], "'mid' and 'name' must be strings"),
        ([ok[0], {**ok[0]}], "duplicate"),
        ([{**ok[1], "mid": "2", "kind": "video"}], "offer section is 'application'"),
    ]
    for mapping, needle in bad_cases:
        with pytest.raises(MappingError) as exc:
            validate_track_mapping(mapping, OFFER, TRACKS)
        assert needle in str(exc.value), (mapping, str(exc.value))


def test_upload_store_lifecycle_and_expiry() -> None:
    now = [0.0]
    store = UploadStore(max_bytes=10, ttl=900.0, clock=lambda: now[0])
    rec = store.declare("s1", {"name": "a", "size": 3, "mime_type": "x/y"})
    assert store.completed(rec.upload_id, "s1") is None  # not uploaded yet
    store.put(rec.upload_id, b"abc")
    assert store.completed(rec.upload_id, "s1") is rec
    assert store.completed(rec.upload_id, "s2") is None  # other session
    assert store.announce(rec.upload_id, "s1") and rec.announced
    with pytest.raises(UploadError) as exc:
        store.declare("s1", {"name": "a", "size": 11, "mime_type": "x"})
    assert exc.value.status == 413
    now[0] = 901.0  # 15 minutes later: expired
    assert store.completed(rec.upload_id, "s1") is None
    with pytest.raises(UploadError) as exc:
        store.put(rec.upload_id, b"abc")
    assert exc.value.status == 404


def test_config_errors_name_the_option() -> None:
    with pytest.raises(ConfigError, match="orphan_timeout"):
        RuntimeConfig(orphan_timeout=0)
    with pytest.raises(ConfigError, match="port"):
        RuntimeConfig(port=70000)
    with pytest.raises(ConfigError, match="api_key"):
        RuntimeConfig(api_key="")
    with pytest.raises(ConfigError, match="ice_servers"):
        normalize_ice_servers([42])
    assert normalize_ice_servers([{"urls": "turn:t.example", "username": "u", "credential": "p"}]) == (
        {"uris": ["turn:t.example"], "credentials": {"username": "u", "password": "p"}},
    )
    assert "secret" not in repr(RuntimeConfig(api_key="secret"))


def test_tokens() -> None:
    auth = Authenticator(("k1", "k2"))
    auth.check_api_key("k2")
    for key in (None, "", "k3"):
        with pytest.raises(AuthError):
            auth.check_api_key(key)
    tok, exp = auth.mint()
    assert exp > time.time() + 3500
    assert auth.check_bearer(f"Bearer {tok}").session_id is None
    other = Authenticator()
    with pytest.raises(AuthError, match="Invalid token"):
        other.verify(tok)  # signed by another runtime
    scoped, _ = auth.mint(session_id="s1")
    auth.check_bearer(f"bearer {scoped}", "s1")
    with pytest.raises(AuthError, match="another session"):
        auth.check_bearer(f"Bearer {scoped}", "s2")

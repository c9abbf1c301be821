"""Bounded fuzz of every input surface while a client streams: HTTP routes and headers, data-channel
envelopes and commands, control-channel requests. Hypothesis generates the inputs (bounded
examples, no deadline); every input is counted and checked:

* HTTP: each malformed request gets a 4xx/5xx with a ``{"detail": "..."}`` body naming the
  problem. JSON-type confusion runs on every route that reads a body: the body itself, and each
  field the route reads, of every wrong JSON type; the bodies real clients send to ``/tokens``
  (none, ``null``, 1.x's scoped ``authorization_details`` request) are accepted. Inputs are
  counted by route and answer (figure ``fuzz_http_by_route``). (Exception, documented: a header line over aiohttp's 8190-byte limit is refused by
  aiohttp's HTTP parser before any handler runs, with a 400 and a plain-text reason.)
* data channel, malformed envelopes (invalid JSON, wrong envelope, unknown scope, deep
  nesting): protocol.md §4.1 says they are logged and dropped, so the assertion is that nothing
  comes back and the runtime keeps answering (a ``requestCapabilities`` barrier after each one).
* data channel, invalid commands: exactly one error message naming the command (and the field
  when one is at fault) with a protocol reason, before the barrier.
* control channel: an error response with a code.

Meanwhile the client's frames keep arriving and ``/health`` stays 200; figures give the counts.
"""

from __future__ import annotations

import base64
import io
import json
import math
import re
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from support import RuntimeProcess, http, record_figure
from testutil import poll_until

from reactor_notebook import protocol
from reactor_notebook.schema import CommandSpec, ParamSpec
from reactor_notebook.sdk import Reactor, ReactorStatus
from reactor_notebook.sdk.errors import ControlRequestError

COUNTS: Counter[str] = Counter()
BY_ROUTE: Counter[tuple[str, int]] = Counter()  # (route template, status) of every HTTP input
REASONS = {"unknown_command", "missing_field", "unexpected_field", "wrong_type", "out_of_range",
           "not_in_enum", "invalid_value", "unknown_upload", "past_chunk", "invalid_state"}
FUZZ = settings(deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])


class Stream:
    """A streaming SDK client whose application/runtime messages are collected for correlation."""

    def __init__(self, url: str) -> None:
        # These fuzz the v0 JSON wire (envelopes, JSON control requests); v1 bad input has its own tests.
        self.reactor = Reactor("helios", local=True, local_url=url, link_timeout=None, wire="v0")
        self.messages: list[dict[str, Any]] = []
        self.caps_replies = 0
        self.cond = threading.Condition()
        self.reactor.on("message", self._on_message)
        self.reactor.on("runtime_message", self._on_runtime)

    def _on_message(self, m: Any) -> None:
        with self.cond:
            self.messages.append(m)
            self.cond.notify_all()

    def _on_runtime(self, m: Any) -> None:
        if isinstance(m, dict) and m.get("type") == "modelCapabilities":
            with self.cond:
                self.caps_replies += 1
                self.cond.notify_all()

    def send_text(self, text: str) -> None:
        transport = self.reactor._transport
        assert transport is not None and self.reactor.get_status() is ReactorStatus.READY
        loop = self.reactor._sdk.loop
        done = threading.Event()

        def send() -> None:
            assert transport.data is not None
            transport.data.send(text)
            done.set()

        loop.call_soon_threadsafe(send)
        assert done.wait(5)

    def exchange(self, text: str, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Send one raw message, then a requestCapabilities barrier; return the errors that came first."""
        with self.cond:
            start, barrier = len(self.messages), self.caps_replies
        self.send_text(text)
        self.send_text(protocol.encode_envelope("runtime", "requestCapabilities", {}))
        with self.cond:
            assert self.cond.wait_for(lambda: self.caps_replies > barrier, timeout), "runtime stopped answering"
            got = self.messages[start:]
        return [e for e in map(_error_of, got) if e is not None]

    def wait_error(self, start: int, timeout: float = 10.0) -> dict[str, Any]:
        with self.cond:
            assert self.cond.wait_for(lambda: any(_error_of(m) for m in self.messages[start:]), timeout), (
                "no error message"
            )
            return next(_error_of(m) for m in self.messages[start:] if _error_of(m))  # type: ignore[misc]


def _error_of(m: Any) -> dict[str, Any] | None:
    """The error fields of a legacy (event: error) or typed (command_error) model message."""
    if not isinstance(m, dict) or not isinstance(m.get("data"), dict):
        return None
    d = m["data"]
    if m.get("type") == "command_error" or (m.get("type") == "event" and d.get("event") == "error"):
        return d
    return None


@pytest.fixture(scope="module")
def rt() -> Iterator[RuntimeProcess]:
    with RuntimeProcess(model_args=["--model", "helios", "--fps", "12"]) as proc:
        yield proc


@pytest.fixture(scope="module")
def stream(rt: RuntimeProcess) -> Iterator[Stream]:
    s = Stream(rt.url)
    s.reactor.connect_sync()
    assert s.reactor.wire == "v0", s.reactor.wire
    poll_until(lambda: s.reactor.frames.seq >= 5, 15, "frames before the fuzz")
    try:
        yield s
    finally:
        s.reactor.disconnect_sync()
        record_figure("fuzz", inputs=sum(COUNTS.values()), **dict(sorted(COUNTS.items())))
        by_route: dict[str, dict[str, int]] = {}
        for (route, status), n in sorted(BY_ROUTE.items()):
            by_route.setdefault(route, {})[str(status)] = n
        record_figure("fuzz_http_by_route", inputs=sum(BY_ROUTE.values()), routes=by_route)


def _frames_advance(s: Stream, seq: int) -> None:
    poll_until(lambda: s.reactor.frames.seq > seq, 5, "frames to keep arriving during the fuzz")


# ---------------------------------------------------------------------------------------------
# HTTP
# ---------------------------------------------------------------------------------------------
JSON_ROUTES = [
    ("POST", "/start_session"), ("POST", "/tokens"), ("POST", "/sessions"),
    ("POST", "/sessions/local/uploads"),
    ("POST", "/sessions/local/transport/webrtc/connections/1999/sdp_params"),
    ("PUT", "/sessions/local/transport/webrtc/connections/1999/sdp_params"),
    ("POST", "/sessions/local/transport/webrtc/sdp_params"),
]
ALL_ROUTES = [
    *JSON_ROUTES, ("GET", "/session"), ("GET", "/schema"), ("GET", "/health"), ("POST", "/stop_session"),
    ("GET", "/sessions/sess_x"), ("PUT", "/sessions/sess_x"), ("DELETE", "/sessions/sess_x"),
    ("GET", "/sessions/sess_x/info"), ("PUT", "/uploads/00000000-0000-0000-0000-000000000000"),
    ("GET", "/sessions/local/transport/webrtc/ice_servers"),
    ("POST", "/sessions/local/transport/webrtc/connections"),
    ("GET", "/sessions/local/transport/webrtc/connections/1999/sdp_params"),
    ("POST", "/sessions/local/transport/webrtc/connections/1999/ice_candidates"),
]
BAD_JSON = st.one_of(
    st.binary(min_size=1, max_size=200).filter(lambda b: not _is_json(b)),
    st.sampled_from([b"{", b"[" * 50_000, b'{"a": NaN}', b"Infinity", b"\xff\xfe\x00", b'{"a":1}}']),
)
WRONG_TYPES = st.one_of(st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=20),
                        st.booleans(), st.lists(st.integers(), max_size=3), st.none())


def route_label(method: str, path: str) -> str:
    """The route template a request path hits (ids replaced), for counting inputs per route."""
    path = re.sub(r"^/sessions/(?!local\b)[^/]+", "/sessions/{sid}", path)
    path = re.sub(r"/connections/[^/]+/", "/connections/{cid}/", path)
    path = re.sub(r"^/uploads/[^/]+$", "/uploads/{uid}", path)
    known = {p for _, p in ALL_ROUTES} | {"/sessions/{sid}", "/sessions/{sid}/info"}
    tail = path.split("/transport/webrtc")[-1]
    if path not in known and not path.startswith("/sessions/") and not path.startswith("/uploads/"):
        return f"{method} (unknown route)"
    return f"{method} {path if len(path) < 80 else tail}"


# Every route that reads a JSON body: (method, path, auth kind, JSON types it accepts, refusal status,
# field -> the JSON types that field accepts). Confusion sends any other type, at the top or in a field.
CLOUD_SID: list[str] = []
ANY = ("object", "array", "string", "number", "boolean", "null")
BODY_ROUTES: list[tuple[str, str, str, tuple[str, ...], int, dict[str, tuple[str, ...]]]] = [
    ("POST", "/start_session", "", ("object", "null"), 400, {"extra_configs": ("object", "null"),
                                                              "extra_args": ("object", "null")}),
    ("POST", "/stop_session", "", ("object", "null"), 400, {}),
    ("POST", "/tokens", "key", ("object", "null"), 400, {
        "expires_after": ("null",), "session_id": ("string", "null"), "authorization_details": ("array", "null")}),
    ("POST", "/sessions", "bearer", ("object",), 422, {"model": ("object", "string"),
                                                       "extra_configs": ("object", "null")}),
    ("PUT", "/sessions/{cloud}", "bearer", ("object", "null"), 400, {}),
    ("POST", "/sessions/local/uploads", "", ("object",), 400, {"name": ("string",), "size": ("number",),
                                                               "mime_type": ("string",)}),
    ("POST", "/sessions/local/transport/webrtc/connections", "", ("object", "null"), 400, {}),
    ("POST", "/sessions/local/transport/webrtc/connections/1999/sdp_params", "", ("object",), 400,
     {"sdp_offer": ("string",), "track_mapping": ("array", "null")}),
    ("PUT", "/sessions/local/transport/webrtc/connections/1999/sdp_params", "", ("object",), 400,
     {"sdp_offer": ("string",), "track_mapping": ("array", "null")}),
    ("POST", "/sessions/local/transport/webrtc/sdp_params", "", ("object",), 400,
     {"sdp_offer": ("string",), "track_mapping": ("array", "null")}),
    ("POST", "/sessions/local/transport/webrtc/connections/1999/ice_candidates", "", ("object",), 400,
     {"candidates": ("array",)}),
]
JSON_OF_TYPE: dict[str, st.SearchStrategy[Any]] = {
    "object": st.dictionaries(st.text(alphabet="abcxyz_", min_size=1, max_size=6), st.integers(), max_size=2),
    "array": st.lists(st.one_of(st.integers(), st.text(max_size=4), st.none()), max_size=3),
    "string": st.text(max_size=12),
    "number": st.one_of(st.integers(min_value=-(2**40), max_value=2**40), st.floats(allow_nan=False, allow_infinity=False)),
    "boolean": st.booleans(),
    "null": st.none(),
}


@st.composite
def confused_bodies(draw: st.DrawFn) -> tuple[str, str, bytes | None, dict[str, str], set[int]]:
    """A body route given a body, or one of the fields it reads, of a JSON type it does not accept."""
    method, path, auth, accepts, status, fields = draw(st.sampled_from(BODY_ROUTES))
    path = path.replace("{cloud}", CLOUD_SID[0])
    headers = {"key": {protocol.HEADER_API_KEY: "fuzz-key"}, "bearer": {"Authorization": "Bearer " + TOKEN[0]},
               "": {}}[auth]
    at_top = not fields or draw(st.booleans())
    if at_top:
        wrong = draw(st.sampled_from([t for t in ANY if t not in accepts]))
        body = draw(JSON_OF_TYPE[wrong])
    else:
        name = draw(st.sampled_from(sorted(fields)))
        wrong = draw(st.sampled_from([t for t in ANY if t not in fields[name]]))
        body = {name: draw(JSON_OF_TYPE[wrong])}
        if path.endswith("/sessions") and name != "model":
            body["model"] = {"name": "helios"}
    allowed = {status, 413} if "uploads" in path else {status}
    return method, path, json.dumps(body).encode(), headers, allowed


def _is_json(raw: bytes) -> bool:
    try:
        json.loads(raw)
        return True
    except (ValueError, RecursionError):
        return False


@st.composite
def bad_requests(draw: st.DrawFn) -> tuple[str, str, bytes | None, dict[str, str], set[int]]:
    """(method, path, body, headers, acceptable statuses) for a request that must be refused."""
    kind = draw(st.sampled_from(["json", "types", "jsontype", "jsontype", "version", "auth", "route", "ids", "sdp"]))
    if kind == "jsontype":
        return draw(confused_bodies())
    key = {protocol.HEADER_API_KEY: "fuzz-key"}
    if kind == "json":
        method, path = draw(st.sampled_from(JSON_ROUTES))
        auth = {"Authorization": "Bearer " + TOKEN[0]} if path == "/sessions" else key if path == "/tokens" else {}
        return method, path, draw(BAD_JSON), auth, {400, 422}
    if kind == "types":
        route = draw(st.sampled_from(["sessions", "uploads", "offer", "tokens"]))
        if route == "sessions":
            body = draw(st.one_of(
                st.fixed_dictionaries({"model": WRONG_TYPES.filter(lambda v: not isinstance(v, str) or not v)}),
                st.fixed_dictionaries({"model": st.just({"name": "helios"}),
                                       "supported_transports": st.sampled_from([5, "webrtc", [{"protocol": "quic"}]])}),
                WRONG_TYPES.filter(lambda v: not isinstance(v, dict)),
            ))
            return "POST", "/sessions", json.dumps(body).encode(), {"Authorization": "Bearer " + TOKEN[0]}, {422}
        if route == "uploads":
            body = draw(st.fixed_dictionaries({
                "name": st.just("a.png"), "mime_type": st.just("image/png"),
                "size": st.one_of(st.integers(max_value=0), st.integers(min_value=32 * 2**20 + 1),
                                  st.text(max_size=5), st.booleans(), st.floats(allow_nan=False)),
            }))
            return "POST", "/sessions/local/uploads", json.dumps(body).encode(), {}, {400, 413}
        if route == "tokens":
            body = {"expires_after": draw(st.one_of(st.integers(max_value=0), st.text(max_size=5), st.booleans(),
                                                    st.floats(min_value=1e9, allow_infinity=True, allow_nan=False)))}
            return "POST", "/tokens", json.dumps(body).encode(), key, {400}
        body = draw(st.one_of(
            WRONG_TYPES.filter(lambda v: not isinstance(v, dict)),
            st.fixed_dictionaries({"sdp_offer": WRONG_TYPES}),
            st.fixed_dictionaries({"sdp_offer": st.just(OFFER[0]),
                                   "track_mapping": st.one_of(
                                       st.integers(), st.text(max_size=5),
                                       st.lists(st.fixed_dictionaries({
                                           "mid": st.one_of(st.just("77"), st.integers()),
                                           "name": st.one_of(st.just("nope"), st.integers()),
                                           "kind": st.sampled_from(["video", "audio", 3]),
                                           "direction": st.sampled_from(["sendonly", "sideways"]),
                                       }), min_size=1, max_size=2))}),
        ))
        return "POST", "/sessions/local/transport/webrtc/connections/1999/sdp_params", json.dumps(body).encode(), {}, {400}
    if kind == "version":
        method, path = draw(st.sampled_from(ALL_ROUTES))
        header = draw(st.sampled_from([protocol.HEADER_API_VERSION, protocol.HEADER_WEBRTC_VERSION]))
        value = draw(st.one_of(st.sampled_from(["0", "2", "99", "-1", "abc", "v1", "", " "]),
                               st.text(alphabet="abcxyz!@#", min_size=1, max_size=12)))
        ok_values = {"1", "1.0", "1.1", "1.9"} | ({"", " "} if True else set())
        if value.strip() in ok_values or value.strip() == "":
            value = "0"
        return method, path, None, {header: value}, {400, 426, 501}
    if kind == "auth":
        method, path = draw(st.sampled_from([("POST", "/sessions"), ("GET", "/sessions/sess_x"),
                                             ("DELETE", "/sessions/sess_x"), ("GET", "/sessions/sess_x/info"),
                                             ("GET", "/sessions/sess_x/transport/webrtc/ice_servers")]))
        value = draw(st.one_of(st.just(None), st.sampled_from(["", "Bearer", "Basic abc", "Bearer a.b.c", "Bearer " + "x" * 500]),
                               st.text(alphabet="abcdef.", min_size=1, max_size=40).map(lambda t: "Bearer " + t)))
        return method, path, b"{}", ({} if value is None else {"Authorization": value}), {401}
    if kind == "route":
        path = "/" + draw(st.text(alphabet="abcdefghijklmnopqrstuvwxyz/_-%.", min_size=1, max_size=40))
        method = draw(st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"]))
        known = {p for _, p in ALL_ROUTES}
        if path in known or path.rstrip("/") in known or path.startswith(("/sessions", "/uploads")):
            path = "/zz" + path
        return method, path, None, {}, {404, 405}
    if kind == "ids":
        cid = draw(st.one_of(st.text(alphabet="abc-_", min_size=1, max_size=8), st.integers(min_value=10_000),
                             st.integers(max_value=1000)))
        sub = draw(st.sampled_from(["sdp_params", "ice_candidates"]))
        method = "GET" if sub == "sdp_params" else "POST"
        body = b"{}" if sub == "sdp_params" else b'{"candidates": []}'  # a valid body: the id is at fault
        return method, f"/sessions/local/transport/webrtc/connections/{cid}/{sub}", body, {}, {404}
    sid = draw(st.text(alphabet="abcdef0123456789_", min_size=1, max_size=20).filter(lambda s: s != "local"))
    method, sub = draw(st.sampled_from([("GET", "ice_servers"), ("POST", "connections")]))
    return method, f"/sessions/{sid}/transport/webrtc/{sub}", None, {}, {401}


TOKEN: list[str] = []
OFFER: list[str] = []


@pytest.fixture(scope="module")
def http_env(rt: RuntimeProcess, stream: Stream) -> None:
    status, body, _ = http("POST", rt.url + "/tokens", headers={protocol.HEADER_API_KEY: "fuzz-key"})
    assert status == 200
    TOKEN[:] = [body["jwt"]]
    status, body, _ = http("POST", rt.url + "/sessions", json.dumps({"model": {"name": "helios"}}).encode(),
                           {"Authorization": "Bearer " + TOKEN[0]})
    assert status == 201, body
    CLOUD_SID[:] = [body["session_id"]]
    OFFER[:] = ["v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\n"]


# The streaming client's aiortc thread draws from the global `random` module while Hypothesis generates
# examples; Hypothesis sees the state change and blames the strategy. Nothing here uses `random`.
@pytest.mark.filterwarnings("ignore:Do not use the `random` module inside strategies")
@given(req=bad_requests())
@settings(FUZZ, max_examples=800)
def test_http_fuzz_every_route_answers_with_a_specific_error(
    rt: RuntimeProcess, stream: Stream, http_env: None, req: tuple[str, str, bytes | None, dict[str, str], set[int]]
) -> None:
    method, path, body, headers, allowed = req
    status, parsed, _ = http(method, rt.url + path, body, headers)
    COUNTS["http"] += 1
    BY_ROUTE[(route_label(method, path), status)] += 1
    assert status in allowed, (method, path, body[:80] if body else body, headers, status, parsed)
    assert isinstance(parsed, dict) and isinstance(parsed.get("detail"), str) and parsed["detail"], parsed


SCOPED_TOKEN_REQUEST = {  # the body reactor-sdk 1.x sends for a scoped token (one model, one session)
    "authorization_details": [{"type": "session", "resources": {"models": {"match": ["helios"]}},
                               "constraints": {"max_sessions": 1, "max_session_duration_seconds": 600}}],
    "expires_after": 3600,
}


@pytest.mark.parametrize("body", [None, b"", b"null", b"{}", b'{"expires_after": 60}',
                                  json.dumps(SCOPED_TOKEN_REQUEST).encode(),
                                  json.dumps({"authorization_details": [{"type": "session", "resources": {
                                      "models": {"all": True}, "sessions": {"bind": ["sess_x"]}}}]}).encode()],
                         ids=["no body", "empty", "null", "empty object", "expires_after", "scoped 1.x", "bind"])
def test_tokens_accepts_the_bodies_clients_send(rt: RuntimeProcess, stream: Stream, body: bytes | None) -> None:
    status, parsed, _ = http("POST", rt.url + "/tokens", body, {protocol.HEADER_API_KEY: "fuzz-key"})
    COUNTS["http_accepted"] += 1
    BY_ROUTE[("POST /tokens", status)] += 1
    assert status == 200 and isinstance(parsed.get("jwt"), str) and parsed["jwt"].count(".") == 2, parsed


@pytest.mark.parametrize(("body", "names"), [
    (b"[]", "the body must be a JSON object, null or empty, got array"),
    (b"5", "got number 5"),
    (b'"scope"', "got string 'scope'"),
    (b"true", "got boolean True"),
    (b'{"authorization_details": {"type": "session"}}', "'authorization_details' must be an array"),
    (b'{"authorization_details": ["session"]}', "'authorization_details[0]' must be an object"),
    (b'{"authorization_details": [{"resources": {}}]}', "'authorization_details[0].type' must be a string"),
    (b'{"authorization_details": [{"type": "session", "resources": []}]}', ".resources' must be an object"),
    (b'{"session_id": 7}', "'session_id' must be a string"),
])
def test_tokens_refuses_other_bodies_naming_the_problem(
    rt: RuntimeProcess, stream: Stream, body: bytes, names: str
) -> None:
    status, parsed, _ = http("POST", rt.url + "/tokens", body, {protocol.HEADER_API_KEY: "fuzz-key"})
    COUNTS["http"] += 1
    BY_ROUTE[("POST /tokens", status)] += 1
    assert status == 400 and "POST /tokens" in parsed["detail"] and names in parsed["detail"], parsed


def test_http_oversized_inputs(rt: RuntimeProcess, stream: Stream) -> None:
    seq = stream.reactor.frames.seq
    cases = [
        ("POST", "/sessions/local/uploads", b"x" * (33 * 2**20 + 10), {}, {413}),  # over client_max_size
        ("POST", "/start_session", json.dumps({"extra_configs": {"x": "y" * 2_000_000}}).encode() + b"}", {}, {400}),
        ("POST", "/start_session", b'{"extra_configs": ' + b'{"a":' * 20000 + b"1" + b"}" * 20001, {}, {400}),
    ]
    for method, path, body, headers, allowed in cases:
        status, parsed, _ = http(method, rt.url + path, body, headers, timeout=60)
        COUNTS["http_oversized"] += 1
        assert status in allowed and isinstance(parsed, dict) and parsed.get("detail"), (status, str(parsed)[:200])
    status, parsed, _ = http("GET", rt.url + "/health", headers={"X-Big": "a" * 20000})
    COUNTS["http_oversized"] += 1
    assert status == 400 and "8190" in str(parsed)  # aiohttp's parser limit: plain-text reason, no JSON
    _frames_advance(stream, seq)


# ---------------------------------------------------------------------------------------------
# Data channel: envelopes and commands
# ---------------------------------------------------------------------------------------------
@st.composite
def bad_envelopes(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["text", "json", "scope", "data", "type", "deep", "huge", "uploads"]))
    if kind == "text":
        return draw(st.text(max_size=200).filter(lambda t: not _is_json(t.encode())))
    if kind == "json":
        return json.dumps(draw(st.one_of(st.integers(), st.lists(st.integers(), max_size=3), st.none(), st.booleans(),
                                         st.fixed_dictionaries({"scope": st.none()}))))
    if kind == "scope":
        scope = draw(st.one_of(st.text(max_size=20).filter(lambda s: s not in ("application", "runtime")),
                               st.integers(), st.lists(st.text(max_size=3), max_size=2)))
        return json.dumps({"scope": scope, "data": {"type": "start", "data": {}}})
    if kind == "data":
        return json.dumps({"scope": "application", "data": draw(WRONG_TYPES.filter(lambda v: not isinstance(v, dict)))})
    if kind == "type":
        return json.dumps({"scope": draw(st.sampled_from(["application", "runtime"])),
                           "data": {"type": draw(st.one_of(st.just(""), st.integers(), st.none(), st.lists(st.integers())))}})
    if kind == "deep":
        depth = draw(st.integers(min_value=2000, max_value=60_000))
        return '{"scope":"application","data":{"type":"start","data":' + "[" * depth + "]" * depth + "}}"
    if kind == "huge":
        return json.dumps({"scope": "nope", "data": {"type": "x" * draw(st.integers(100_000, 200_000))}})
    return json.dumps({"scope": "application", "data": {"type": "start", "data": {}, "uploads": draw(
        st.one_of(st.integers(), st.text(max_size=5), st.lists(st.integers(), max_size=2)))}})


@pytest.mark.filterwarnings("ignore:Do not use the `random` module inside strategies")  # as above: aiortc's thread
@given(text=bad_envelopes())
@settings(FUZZ, max_examples=150)
def test_malformed_envelopes_are_dropped_and_the_runtime_keeps_answering(stream: Stream, text: str) -> None:
    errors = stream.exchange(text)
    COUNTS["envelope"] += 1
    assert errors == [], errors  # logged and dropped (protocol.md §4.1): no reply, runtime still answers


def _valid_value(p: ParamSpec) -> Any:
    if p.enum:
        return p.enum[0]
    if p.type == "integer":
        return int(p.minimum if p.minimum is not None else 0) if (p.minimum or 0) >= 0 else 0
    if p.type == "number":
        return float(p.minimum if p.minimum is not None else 0.0)
    if p.type == "boolean":
        return True
    return "x" * max(1, p.min_length or 1)


def _base(cmd: CommandSpec) -> dict[str, Any]:
    data = {p.name: _valid_value(p) for p in cmd.params if p.required and not p.is_upload}
    for group in cmd.one_of:  # exactly one alternative: the first non-upload one
        first = next((n for n in group if not (cmd.param(n) and cmd.param(n).is_upload)), None)  # type: ignore[union-attr]
        for n in group:
            data.pop(n, None)
        if first is not None:
            data[first] = _valid_value(cmd.param(first))  # type: ignore[arg-type]
    return data


def _wrong_type(p: ParamSpec) -> st.SearchStrategy[Any]:
    base = [st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2)]
    if p.type in ("integer", "number"):
        base += [st.text(max_size=10), st.booleans()]
        if p.type == "integer":
            base.append(st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: not f.is_integer()))
    elif p.type == "string":
        base += [st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.booleans()]
    elif p.type == "boolean":
        base += [st.integers(), st.text(max_size=5)]
    return st.one_of(base)


def _out_of_range(p: ParamSpec) -> st.SearchStrategy[Any] | None:
    if p.enum:
        return st.text(max_size=10).filter(lambda v: v not in p.enum)
    if p.type in ("integer", "number"):
        parts = []
        if p.minimum is not None:
            parts.append(st.integers(max_value=math.ceil(p.minimum) - 1))
        if p.maximum is not None:
            parts.append(st.integers(min_value=math.floor(p.maximum) + 1))
        return st.one_of(parts) if parts else None
    if p.type == "string" and p.max_length:
        return st.integers(p.max_length + 1, p.max_length + 150_000).map(lambda n: "y" * n)
    return None


@st.composite
def bad_commands(draw: st.DrawFn) -> tuple[str, Any, str | None, set[str]]:
    """(command, data, field expected in the error or None, acceptable reasons)."""
    commands: list[CommandSpec] = COMMANDS
    names = {c.name for c in commands}
    kind = draw(st.sampled_from(["unknown", "type", "range", "extra", "missing", "nan", "notobj"]))
    if kind == "unknown":
        name = draw(st.text(min_size=1, max_size=30).filter(lambda n: n not in names))
        return name, {}, None, {"unknown_command"}
    cmd = draw(st.sampled_from(commands))
    data = _base(cmd)
    plain = [p for p in cmd.params if not p.is_upload]
    if kind == "extra":
        extra = draw(st.text(min_size=1, max_size=15).filter(lambda n: cmd.param(n) is None))
        data[extra] = draw(WRONG_TYPES)
        return cmd.name, data, extra, {"unexpected_field"}
    if kind == "notobj":
        return cmd.name, draw(st.one_of(st.integers(), st.lists(st.integers(), min_size=1, max_size=2),
                                        st.booleans())), None, {"wrong_type", "invalid_value"}
    if kind == "missing":
        required = [p for p in plain if p.required and p.name in data]
        if not required:
            return cmd.name, {**data, "zz_unexpected": 1}, "zz_unexpected", {"unexpected_field"}
        p = draw(st.sampled_from(required))
        del data[p.name]
        return cmd.name, data, p.name, {"missing_field", "invalid_value"}
    if not plain:
        return cmd.name, {"zz_unexpected": draw(WRONG_TYPES)}, "zz_unexpected", {"unexpected_field"}
    p = draw(st.sampled_from(plain))
    if kind == "nan" and p.type in ("integer", "number"):
        data[p.name] = draw(st.sampled_from([math.nan, math.inf, -math.inf]))
        return cmd.name, data, p.name, {"wrong_type", "out_of_range", "invalid_value"}
    if kind == "range":
        strat = _out_of_range(p)
        if strat is not None:
            data[p.name] = draw(strat)
            return cmd.name, data, p.name, {"out_of_range", "not_in_enum", "invalid_value"}
    data[p.name] = draw(_wrong_type(p))
    return cmd.name, data, p.name, {"wrong_type", "invalid_value", "not_in_enum"}


COMMANDS: list[CommandSpec] = []


@pytest.fixture(scope="module")
def commands(stream: Stream) -> list[CommandSpec]:
    COMMANDS[:] = stream.reactor.commands
    assert {"set_prompt", "schedule_prompt", "set_image", "set_seed"} <= {c.name for c in COMMANDS}
    return COMMANDS


@given(case=bad_commands())
@settings(FUZZ, max_examples=450)
def test_invalid_commands_get_one_specific_error(
    stream: Stream, commands: list[CommandSpec], case: tuple[str, Any, str | None, set[str]]
) -> None:
    name, data, field, reasons = case
    text = json.dumps({"scope": "application", "data": {"type": name, "data": data}})  # NaN/Infinity kept
    if len(text.encode()) > protocol.MAX_MESSAGE_SIZE:
        text = text[: protocol.MAX_MESSAGE_SIZE - 10]  # still too big for a command: invalid JSON → dropped
        assert stream.exchange(text) == []
        COUNTS["command_oversized"] += 1
        return
    errors = stream.exchange(text)
    COUNTS["command"] += 1
    assert len(errors) == 1, (name, str(data)[:200], errors)
    err = errors[0]
    assert err.get("command") == name, (name, err)
    assert err.get("reason") in reasons, (name, str(data)[:200], err)
    if field is not None:
        assert err.get("field") == field, (name, field, err)
    assert name in err.get("message", ""), err


def _png(w: int, h: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), (9, 9, 9)).save(buf, "PNG")
    return buf.getvalue()


def test_bad_images_are_refused_with_the_field_named(stream: Stream, commands: list[CommandSpec]) -> None:
    seq = stream.reactor.frames.seq
    b64 = base64.b64encode
    images = {
        "not base64": "!!!not base64***",
        "base64 of text": b64(b"hello, not an image at all").decode(),
        "truncated png": b64(_png(64, 64)[:40]).decode(),
        "giant png (5000 px)": b64(_png(5000, 8)).decode(),
        "bad data URL": "data:image/png;base64,@@@@",
        "gif": b64(b"GIF89a" + b"\x00" * 40).decode(),
    }
    for label, value in images.items():
        for command in ("set_image", "set_conditioning"):
            data: dict[str, Any] = {"image_b64": value}
            if command == "set_conditioning":
                data["prompt"] = "a harbour"
            with stream.cond:
                start = len(stream.messages)
            stream.send_text(protocol.encode_envelope("application", command, data))
            err = stream.wait_error(start)
            COUNTS["image"] += 1
            assert err["command"] == command and err["field"] == "image_b64", (label, err)
            assert err["reason"] == "invalid_value", (label, err)
    _frames_advance(stream, seq)


def test_control_channel_garbage_gets_error_codes(stream: Stream) -> None:
    r = stream.reactor
    transport = r._transport
    assert transport is not None
    seq = r.frames.seq
    cases = [("bogus_method", {"name": "x"}, "UNKNOWN_METHOD"), ("publish_track", {"name": "nope"}, "UNKNOWN_TRACK"),
             ("publish_track", {"name": 5}, "UNKNOWN_TRACK"), ("pause_track", {"name": ["x"]}, "UNKNOWN_TRACK"),
             ("resume_track", {}, "UNKNOWN_TRACK"), ("", {"name": "main_video"}, "UNKNOWN_METHOD")]
    for method, data, code in cases * 5:
        with pytest.raises(ControlRequestError) as info:
            r._sdk.run_sync(transport.control_request(method, data, timeout=5.0), 10)
        COUNTS["control"] += 1
        assert info.value.code == code, info.value
    for raw in ["{", "[" * 100_000, "null", '{"type": "notification", "event": 5}', "x" * 100_000]:
        r._sdk.call_soon(transport.control.send, raw)  # type: ignore[union-attr]
        COUNTS["control"] += 1
    with pytest.raises(ControlRequestError):
        r._sdk.run_sync(transport.control_request("bogus", {}, timeout=5.0), 10)  # still answering
    _frames_advance(stream, seq)


def test_zz_runtime_and_stream_survived_the_fuzz(rt: RuntimeProcess, stream: Stream) -> None:
    seq = stream.reactor.frames.seq
    poll_until(lambda: stream.reactor.frames.seq >= seq + 12, 10, "a second of frames after the fuzz")
    assert stream.reactor.get_status() is ReactorStatus.READY
    status, body, _ = http("GET", rt.url + "/health")
    assert status == 200 and body["state"] == "STREAMING", body
    assert rt.alive()

"""The wire vocabulary lives in ``reactor_notebook.protocol``: names, routes, control frames, SDP sections."""

from __future__ import annotations

import json
import pathlib
import re

from reactor_notebook import protocol as P
from reactor_notebook.protocol.sdp import split_sections
from reactor_notebook.runtime.sdp import complete_candidates, media_sections
from reactor_notebook.sdk.sdp import patch_answer

ROOT = pathlib.Path(__file__).resolve().parents[2] / "reactor_notebook"


def test_session_states_are_complete_and_ordered() -> None:
    assert P.SESSION_STATES == (
        "CREATED", "PENDING", "SUSPENDED", "WAITING", "ACTIVE", "INACTIVE", "CLOSING", "CLOSED"
    )
    assert set(P.TRANSIENT_STATES) == {"CREATED", "CLOSING"} and set(P.ENDED_STATES) == {"CLOSED", "INACTIVE"}


def test_routes_fill_and_quote_their_parts() -> None:
    assert P.route(P.ROUTE_SESSION, sid="a b/c") == "/sessions/a%20b%2Fc"
    assert P.route(P.ROUTE_CONNECTION_SDP, sid="local", cid=1002) == (
        "/sessions/local/transport/webrtc/connections/1002/sdp_params"
    )
    assert P.route(P.ROUTE_FLAT_SDP, sid="local") == "/sessions/local/transport/webrtc/sdp_params"
    assert P.bearer("tok") == "Bearer tok" and P.HEADER_AUTHORIZATION == "Authorization"
    assert P.RUNTIME_REPLIES == {"requestCapabilities": "modelCapabilities", "requestSchema": "modelSchema"}


def test_control_frames_decode_to_kind_method_and_error() -> None:
    req = P.decode_control(P.control_request(P.METHOD_PUBLISH_TRACK, "ctrl_1", {"name": "webcam"}))
    assert req is not None and (req.kind, req.method, req.request_id, req.name) == (
        "request", "publish_track", "ctrl_1", "webcam"
    )
    refused = P.decode_control(
        P.control_response("publish_track", "ctrl_1", error={"code": "PUBLISHER_SLOT_TAKEN", "message": "taken"})
    )
    assert refused is not None and refused.error == ("PUBLISHER_SLOT_TAKEN", "taken") and refused.data == {}
    note = P.decode_control(P.control_notification(P.METHOD_PAUSE_TRACK, "main_video"))
    assert note is not None and (note.kind, note.method, note.name) == ("notification", "pause_track", "main_video")
    assert P.decode_control("not json") is None and P.decode_control("[1, 2]") is None


def test_encode_message_is_the_envelope_of_a_built_message() -> None:
    text = P.encode_message(P.SCOPE_RUNTIME, {"type": "error", "data": {"code": "X", "message": "m"}})
    assert text == P.encode_envelope("runtime", "error", {"code": "X", "message": "m"})
    assert json.loads(text) == {"scope": "runtime", "data": {"type": "error", "data": {"code": "X", "message": "m"}}}


SDP = "v=0\r\ns=-\r\nm=video 9 UDP 96\r\na=mid:0\r\na=candidate:1 1 udp 1 1.2.3.4 5 typ host\r\nm=application 9 x\r\na=mid:1\r\n"


def test_one_section_splitter_serves_both_halves() -> None:
    head, sections = split_sections(SDP.rstrip("\r\n").split("\r\n"))
    assert head == ["v=0", "s=-"] and [s[0] for s in sections] == ["m=video 9 UDP 96", "m=application 9 x"]
    assert [(m.kind, m.mid) for m in media_sections(SDP)] == [("video", "0"), ("application", "1")]
    # both completions copy the first section's candidate into the bundled data section
    assert patch_answer(SDP).count("a=candidate:1") == 2
    assert complete_candidates(SDP).count("a=candidate:1") == 2


WIRE_LITERALS = re.compile(
    r"\"/(sessions|start_session|stop_session|tokens|uploads)\b|transport/webrtc\"|\"Authorization\""
    r"|\"(requestCapabilities|modelCapabilities|requestSchema|modelSchema|fileUploaded|command_error)\""
    r"|\"(pause_track|resume_track|unpublish_track|publish_track)\"|\"video/(h264|vp8|rtx)\""
)


def test_no_wire_literal_is_spelled_outside_the_protocol_package() -> None:
    places = [*ROOT.glob("sdk/*.py"), *ROOT.glob("runtime/*.py"), ROOT / "chunked_channel.py"]
    found = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for path in places
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if WIRE_LITERALS.search(line)
    ]
    assert found == []

"""Data-channel chunk framing: encode, reassemble, SDP negotiation, and garbled frames refused specifically."""

from __future__ import annotations

import re

import pytest

from reactor_notebook.protocol import chunking
from reactor_notebook.protocol.chunking import LAST, MORE, ChunkingError, Reassembler, frames

# A 1.13.0 offer's session-level line, as captured on loopback.
OFFICIAL_LINE = "a=x-reactor-dc-chunking:1 max-message-size=67108864"


def test_small_message_is_one_last_frame_and_big_ones_are_64k_frames() -> None:
    assert frames(b"abc") == [b"\x00abc"]
    assert frames(b"") == [b"\x00"]
    message = bytes(range(256)) * 1000  # 256,000 bytes
    out = frames(message)
    assert [len(f) for f in out] == [65536, 65536, 65536, 256000 - 3 * 65535 + 1]
    assert [f[0] for f in out] == [MORE, MORE, MORE, LAST]
    r = Reassembler()
    assert [r.feed(f) for f in out[:-1]] == [None, None, None]
    assert r.feed(out[-1]) == message and r.pending == 0


def test_reassembles_a_message_of_exactly_one_frame_payload() -> None:
    message = b"x" * 65535
    out = frames(message)
    assert len(out) == 1 and out[0][0] == LAST
    assert Reassembler().feed(out[0]) == message


@pytest.mark.parametrize(
    ("frame", "text"),
    [
        (b"", "an empty frame"),
        (b"\x07abc", "frame flag 0x07 is neither 0x01 (more follows) nor 0x00 (last)"),
        ("text", "a text frame (4 characters) on a chunked channel"),
    ],
)
def test_garbled_frames_raise_a_specific_error_and_the_next_message_still_arrives(frame: object, text: str) -> None:
    r = Reassembler()
    assert r.feed(b"\x01partial ") is None
    with pytest.raises(ChunkingError, match=re.escape(text)) as info:
        r.feed(frame)  # type: ignore[arg-type]
    assert "dropped 8 bytes of a partial message" in str(info.value)
    assert r.errors == 1 and r.pending == 0
    assert r.feed(b"\x01hello ") is None and r.feed(b"\x00world") == b"hello world"


def test_a_message_over_the_limit_is_refused_naming_sizes() -> None:
    r = Reassembler(max_message_size=100)
    assert r.feed(b"\x01" + b"a" * 60) is None
    with pytest.raises(ChunkingError, match="reached 120 bytes, over the 100-byte limit"):
        r.feed(b"\x01" + b"a" * 60)
    assert r.feed(b"\x00ok") == b"ok"


def test_sdp_negotiation_reads_and_adds_the_session_level_line() -> None:
    offer = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n" + OFFICIAL_LINE + "\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
    assert chunking.declared_limit(offer) == 67108864
    plain = offer.replace(OFFICIAL_LINE + "\r\n", "")
    assert chunking.declared_limit(plain) is None
    answered = chunking.add_to_sdp(plain, 1 << 20)
    lines = answered.split("\r\n")
    assert lines[4] == "a=x-reactor-dc-chunking:1 max-message-size=1048576" and lines[5].startswith("m=")
    assert chunking.add_to_sdp(answered) == answered  # once
    assert chunking.declared_limit(offer.replace(":1 ", ":2 ")) is None  # another version is not ours

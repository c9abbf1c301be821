"""SDP answer patching (``docs/protocol.md`` "Signalling"): bundled candidates and ``a=rtcp-mux`` in every m-section."""

from __future__ import annotations

from ..protocol.sdp import split_sections


def _split_sections(sdp: str) -> tuple[str, list[list[str]], str]:
    sep = "\r\n" if "\r\n" in sdp else "\n"
    lines = sdp.split(sep)
    trailing = ""
    if lines and lines[-1] == "":
        lines.pop()
        trailing = sep
    session, sections = split_sections(lines)
    return sep, [session, *sections], trailing


def patch_answer(sdp: str) -> str:
    """Copy the first m-section's candidates into m-sections without any; add ``a=rtcp-mux`` where missing.

    aiortc collects remote candidates per ICE transport; with max-bundle every section shares
    one transport, so a later section without candidates can leave it with none.
    """
    sep, parts, trailing = _split_sections(sdp)
    session, sections = parts[0], parts[1:]
    if not sections:
        return sdp
    first_candidates = [ln for ln in sections[0] if ln.startswith("a=candidate:")]
    end_of_candidates = any(ln == "a=end-of-candidates" for ln in sections[0])
    out = list(session)
    for i, sec in enumerate(sections):
        sec = list(sec)
        if not any(ln == "a=rtcp-mux" for ln in sec):
            sec.insert(1, "a=rtcp-mux")
        if i > 0 and first_candidates and not any(ln.startswith("a=candidate:") for ln in sec):
            sec.extend(first_candidates)
            if end_of_candidates and "a=end-of-candidates" not in sec:
                sec.append("a=end-of-candidates")
        out.extend(sec)
    return sep.join(out) + trailing

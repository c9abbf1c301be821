"""SDP structure shared by the SDK and the runtime: the session part and the m-sections of an SDP."""

from __future__ import annotations


def split_sections(lines: list[str]) -> tuple[list[str], list[list[str]]]:
    """Group SDP lines into the session part and one list per m-section (each starting ``m=``)."""
    session: list[str] = []
    sections: list[list[str]] = []
    for line in lines:
        if line.startswith("m="):
            sections.append([line])
        elif sections:
            sections[-1].append(line)
        else:
            session.append(line)
    return session, sections

"""SDP helpers: m-section parsing, bundle candidate completion, and ``track_mapping`` checks.

See ``docs/protocol.md`` "Signalling".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..protocol.sdp import split_sections
from .models.base import TrackSpec


class MappingError(ValueError):
    """A ``track_mapping`` that does not fit the offer or the model; the message names the entry."""


@dataclass(frozen=True)
class MediaSection:
    """One m-section of an SDP: its kind, mid, direction and port."""

    index: int
    kind: str
    mid: str | None
    direction: str
    port: int


def _split(sdp: str) -> tuple[list[str], list[list[str]]]:
    return split_sections([ln for ln in sdp.replace("\r\n", "\n").split("\n") if ln])


def _join(head: list[str], sections: list[list[str]]) -> str:
    return "\r\n".join(head + [ln for s in sections for ln in s]) + "\r\n"


def media_sections(sdp: str) -> list[MediaSection]:
    """The m-sections of an SDP in order."""
    _, sections = _split(sdp)
    out = []
    for i, sec in enumerate(sections):
        parts = sec[0][2:].split()
        kind = parts[0] if parts else ""
        try:
            port = int(parts[1]) if len(parts) > 1 else 0
        except ValueError:
            port = 0
        mid = next((ln[6:].strip() for ln in sec if ln.startswith("a=mid:")), None)
        direction = next(
            (ln[2:] for ln in sec if ln in ("a=sendrecv", "a=sendonly", "a=recvonly", "a=inactive")), "sendrecv"
        )
        out.append(MediaSection(i, kind, mid, direction, port))
    return out


def complete_candidates(sdp: str) -> str:
    """Copy first-section candidates into bundled sections without any; add ``a=rtcp-mux`` to media."""
    head, sections = _split(sdp)
    if not sections:
        return sdp
    first = sections[0]
    cands = [ln for ln in first if ln.startswith("a=candidate:")]
    eoc = ["a=end-of-candidates"] if "a=end-of-candidates" in first else []
    for sec in sections:
        kind = sec[0][2:].split(" ", 1)[0]
        rejected = sec[0].split()[1:2] == ["0"] and "a=bundle-only" not in sec
        if sec is not first and cands and not rejected and not any(ln.startswith("a=candidate:") for ln in sec):
            sec.extend(cands + eoc)
        if kind in ("audio", "video") and "a=rtcp-mux" not in sec:
            sec.append("a=rtcp-mux")
    return _join(head, sections)


def validate_track_mapping(
    mapping: Any, offer_sdp: str, tracks: list[TrackSpec]
) -> dict[str, TrackSpec]:
    """Check ``track_mapping`` against the offer and the model; return mid → model track.

    Tracks the client left out are tolerated; every listed entry must name a model track with the
    right kind and the client-view direction (``recvonly`` = model output, ``sendonly`` = input).
    """
    if mapping is None:
        return {}
    if not isinstance(mapping, list):
        raise MappingError(f"track_mapping must be a list, got {type(mapping).__name__}")
    by_mid = {s.mid: s for s in media_sections(offer_sdp) if s.mid is not None}
    by_name = {t.name: t for t in tracks}
    out: dict[str, TrackSpec] = {}
    seen_names: set[str] = set()
    for i, entry in enumerate(mapping):
        where = f"track_mapping[{i}]"
        if not isinstance(entry, dict):
            raise MappingError(f"{where}: expected an object, got {type(entry).__name__}")
        mid, name, kind, direction = (entry.get(k) for k in ("mid", "name", "kind", "direction"))
        if not isinstance(mid, str) or not isinstance(name, str):
            raise MappingError(f"{where}: 'mid' and 'name' must be strings, got {entry!r}")
        where = f"track_mapping[{i}] (mid {mid!r}, name {name!r})"
        section = by_mid.get(mid)
        if section is None:
            raise MappingError(f"{where}: mid {mid!r} is not in the offer (offer mids: {sorted(by_mid)})")
        track = by_name.get(name)
        if track is None:
            raise MappingError(f"{where}: {name!r} is not a model track (tracks: {sorted(by_name)})")
        if kind != track.kind or section.kind != track.kind:
            raise MappingError(
                f"{where}: kind {kind!r} does not match the model track kind {track.kind!r}"
                f" (offer section is {section.kind!r})"
            )
        expected = track.capability()["direction"]
        if direction != expected:
            raise MappingError(f"{where}: direction {direction!r} does not match {expected!r} for this track")
        if mid in out or name in seen_names:
            raise MappingError(f"{where}: duplicate mid or name")
        out[mid] = track
        seen_names.add(name)
    return out

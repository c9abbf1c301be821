"""Trickle ICE: candidates a client posts to ``…/ice_candidates``, applied to its peer.

Today's official client trickles: its offer carries no candidates and its first candidates can
arrive *before* the offer itself. Candidates (and the end-of-candidates mark, ``is_final`` or
an empty list with ``is_final: true``) are kept per connection until its peer has applied the
offer, then applied in arrival order.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from aiortc import RTCIceCandidate
from aiortc.sdp import candidate_from_sdp

log = logging.getLogger(__name__)


class CandidateError(ValueError):
    """An ``ice_candidates`` body that is not ``{"candidates": [...], "is_final"?: bool}``."""


@dataclass
class Trickle:
    """Candidates of one connection waiting for its peer, and whether the client said it is done."""

    pending: list[RTCIceCandidate] = field(default_factory=list)
    final: bool = False

    def add(self, body: Any) -> None:
        """Queue the candidates of one POST body (raises CandidateError naming the bad entry)."""
        if not isinstance(body, dict) or not isinstance(body.get("candidates", []), list):
            raise CandidateError("body must be {\"candidates\": [...], \"is_final\"?: bool}")
        for i, c in enumerate(body.get("candidates") or []):
            cand = parse_candidate(c, i)
            if cand is not None:
                self.pending.append(cand)
        if body.get("is_final") is True:
            self.final = True

    async def apply(self, pc: Any) -> None:
        """Hand every queued candidate (then end-of-candidates, once final) to a peer whose offer is set."""
        pending, self.pending = self.pending, []
        for cand in pending:
            try:
                await pc.addIceCandidate(cand)
            except Exception as exc:  # a candidate for a section the peer does not have
                log.debug("ignoring trickled candidate %s: %s", cand, exc)
        if self.final:
            await pc.addIceCandidate(None)


def parse_candidate(entry: Any, index: int) -> RTCIceCandidate | None:
    """One ``{"candidate", "sdp_mid", "sdp_mline_index"}`` entry; None for an empty candidate line."""
    if not isinstance(entry, dict) or not isinstance(entry.get("candidate"), str):
        raise CandidateError(f"candidates[{index}] must be an object with a 'candidate' string")
    text = entry["candidate"].strip().removeprefix("a=").removeprefix("candidate:")
    if not text:
        return None  # an end-of-candidates line in some stacks
    try:
        cand = candidate_from_sdp(text)
    except (ValueError, IndexError) as exc:
        raise CandidateError(f"candidates[{index}]: not an ICE candidate line ({exc}): {entry['candidate']!r}") from None
    cand.sdpMid = entry.get("sdp_mid")
    mline = entry.get("sdp_mline_index")
    cand.sdpMLineIndex = mline if isinstance(mline, int) else None
    if cand.sdpMid is None and cand.sdpMLineIndex is None:
        cand.sdpMLineIndex = 0
    return cand

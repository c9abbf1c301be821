"""ICE servers for one connection: offer at once on host candidates, find reflexive ones after.

aiortc gathers every candidate inside ``setLocalDescription`` and waits up to 5 s for each STUN
server; a runtime that advertises a public STUN server (reactor-runtime 3.x does by default)
therefore costs an offline notebook 5 s per connect. So STUN servers never enter the peer
connection's configuration: the offer carries host (and TURN relay) candidates at once, and
server-reflexive candidates are asked for afterwards on the same sockets, bounded, and trickled
through ``…/connections/{cid}/ice_candidates`` where the runtime has that route. A runtime on
this machine (a loopback URL) needs no reflexive address, so STUN is skipped there.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from aiortc import RTCIceServer, RTCPeerConnection

from ..media.ice_checks import ice_connections

logger = logging.getLogger(__name__)

_STUN_HOSTPORT = re.compile(r"^(?:\[(?P<v6>[^\]]+)\]|(?P<host>[^:\[\]]+))(?::(?P<port>\d+))?$")
STUN_TIMEOUT_S = 3.0  # bound on the background reflexive-candidate queries

Trickle = Callable[[list[dict[str, Any]], bool], Awaitable[None]]


def to_ice_servers(servers: list[dict[str, Any]]) -> list[RTCIceServer]:
    """``{"uris", "credentials"?}`` entries → RTCIceServer (``uris``→``urls``, password→credential)."""
    out: list[RTCIceServer] = []
    for entry in servers:
        uris = entry.get("uris") or entry.get("urls")
        if not uris:
            continue
        creds = entry.get("credentials") or {}
        if creds:
            out.append(
                RTCIceServer(urls=uris, username=creds.get("username"), credential=creds.get("password"))
            )
        else:
            out.append(RTCIceServer(urls=uris))
    return out


def _urls(server: RTCIceServer) -> list[str]:
    return [server.urls] if isinstance(server.urls, str) else list(server.urls)


def split_servers(servers: list[dict[str, Any]]) -> tuple[list[RTCIceServer], list[tuple[str, int]]]:
    """Split into (TURN servers for the peer configuration, STUN ``(host, port)`` for later queries)."""
    turn: list[RTCIceServer] = []
    stun: list[tuple[str, int]] = []
    for server in to_ice_servers(servers):
        stun_urls = [u for u in _urls(server) if u.lower().startswith("stun:")]
        others = [u for u in _urls(server) if u not in stun_urls]
        for url in stun_urls:
            match = _STUN_HOSTPORT.match(url.split(":", 1)[1].split("?", 1)[0])
            if match is None:
                logger.info("ignoring malformed STUN URL %r", url)
                continue
            stun.append((match.group("v6") or match.group("host"), int(match.group("port") or 3478)))
        if others:
            turn.append(RTCIceServer(urls=others, username=server.username, credential=server.credential))
    return turn, stun


def is_loopback_url(url: str) -> bool:
    """True when the runtime at ``url`` runs on this machine (no reflexive address is useful)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def strip_end_of_candidates(sdp: str) -> str:
    """Drop ``a=end-of-candidates`` from an offer whose candidates will be trickled after it."""
    return "".join(line for line in sdp.splitlines(keepends=True) if not line.startswith("a=end-of-candidates"))


def first_mid(sdp: str) -> str:
    """The mid of the first media section (the bundle's transport), "0" if none is named."""
    return next((line[6:].strip() for line in sdp.splitlines() if line.startswith("a=mid:")), "0")


def add_candidates(sdp: str, candidates: list[str]) -> str:
    """Put extra ``candidate:…`` lines into the first media section, before its end-of-candidates."""
    if not candidates:
        return sdp
    lines = sdp.splitlines(keepends=True)
    at = next((i for i, line in enumerate(lines) if line.startswith("a=end-of-candidates")), None)
    if at is None:
        at = next((i for i, line in enumerate(lines) if line.startswith("a=candidate:")), len(lines))
    return "".join(lines[:at] + [f"a={c}\r\n" for c in candidates] + lines[at:])


def _host_protocols(pc: RTCPeerConnection) -> list[Any]:
    """The aioice host-candidate sockets of the peer's ICE connection(s)."""
    protocols: list[Any] = []
    for connection in ice_connections(pc):
        for protocol in getattr(connection, "_protocols", []):
            candidate = getattr(protocol, "local_candidate", None)
            if candidate is not None and candidate.type == "host":
                protocols.append(protocol)
    return protocols


async def reflexive_candidates(
    pc: RTCPeerConnection, stun: list[tuple[str, int]], timeout: float = STUN_TIMEOUT_S
) -> list[str]:
    """Ask each STUN server from each IPv4 host socket (bounded); ``candidate:…`` lines found."""
    from aioice.ice import server_reflexive_candidate

    protocols = [p for p in _host_protocols(pc) if ipaddress.ip_address(p.local_candidate.host).version == 4]
    tasks = [
        asyncio.ensure_future(server_reflexive_candidate(protocol, server))
        for protocol in protocols
        for server in stun
    ]
    if not tasks:
        return []
    done, pending = await asyncio.wait(tasks, timeout=timeout)
    for task in pending:
        task.cancel()
    found: list[str] = []
    for task in done:
        if task.cancelled() or task.exception() is not None:
            continue
        candidate = task.result()[0]
        line = f"candidate:{candidate.to_sdp()}"
        if line not in found:
            found.append(line)
    if pending and not found:
        logger.info("no STUN server answered within %.1f s; connecting on host candidates", timeout)
    return found


async def trickle_reflexive(
    pc: RTCPeerConnection, stun: list[tuple[str, int]], mid: str, send: Trickle, timeout: float = STUN_TIMEOUT_S
) -> None:
    """Background part of a connect: find reflexive candidates and trickle them, then ``is_final``."""
    try:
        found = await reflexive_candidates(pc, stun, timeout)
        entries = [{"candidate": c, "sdp_mid": mid, "sdp_mline_index": 0} for c in found]
        await send(entries, True)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # trickling is best effort: host candidates already connect
        logger.debug("trickling reflexive candidates failed: %s", exc)

"""Clips over the wire: answers to clip/recording requests, ``GET /clips`` and ``/clips/chunks/...``.

The recording id in these URLs is a random UUID handed only to the session's clients, so the
routes need no other credential (like the reference runtime's local routes).
"""

from __future__ import annotations

import math
from typing import Any

from aiohttp import web

from ..protocol import clips
from .recording import ClipError, ClipGone
from .session import Session, SessionManager

_SNAP_REQUESTS = (clips.REQUEST_CLIP, clips.V1_REQUEST_CLIP)


def clip_answer(manager: SessionManager, s: Session, request: str, data: Any) -> tuple[str, dict[str, Any]]:
    """``(clipReady|clipFailed, fields)`` for a clip (``requestClip``/``request_clip``) or recording request."""
    fields = data if isinstance(data, dict) else {}
    if request in _SNAP_REQUESTS:
        duration = fields.get("duration_seconds")
        return manager.recorder.answer(s.recording, clips.KIND_SNAP, duration, fields.get("track"))
    return manager.recorder.answer(s.recording, clips.KIND_RECORDING, track=fields.get("track"))


def clip_answer_v1(manager: SessionManager, s: Session, field: str, data: Any) -> dict[str, Any]:
    """The payload of the v1 ``ControlServerMessage`` answering ``request_clip``/``request_recording``."""
    answer, fields = clip_answer(manager, s, field, data)
    if answer == clips.CLIP_READY:
        return {clips.V1_CLIP_READY: fields}
    return {clips.V1_CLIP_FAILED: {"reason": fields["reason"]}}


def _detail(status: int, detail: str) -> web.Response:
    return web.json_response({"detail": detail}, status=status)


def _marker(request: web.Request, name: str) -> float:
    raw = request.query.get(name)
    if raw is None:
        raise web.HTTPBadRequest(reason=f"query parameter {name!r} is required (seconds on the recording timeline)")
    try:
        value = float(raw)
    except ValueError:
        raise web.HTTPBadRequest(reason=f"query parameter {name!r} must be a number of seconds, got {raw!r}") from None
    if not math.isfinite(value) or value < 0:
        raise web.HTTPBadRequest(reason=f"query parameter {name!r} must be a finite number >= 0, got {raw!r}")
    return value


async def get_clip_playlist(manager: SessionManager, request: web.Request) -> web.Response:
    """``GET /clips?session_id&start&end``: 200 playlist, 202 + Retry-After while the end is open, 410 gone."""
    sid = request.query.get("session_id", "")
    start, end = _marker(request, "start"), _marker(request, "end")
    if end <= start:
        raise web.HTTPBadRequest(reason=f"'end' ({end:g}) must be greater than 'start' ({start:g})")
    try:
        playlist = manager.recorder.find(sid).playlist(sid, start, end, request.query.get("track"))
    except ClipGone as exc:
        return _detail(410, str(exc))
    except ClipError as exc:
        return _detail(400, exc.reason)
    if playlist.body is None:
        return web.Response(status=202, headers={"Retry-After": str(playlist.retry_after)})
    return web.Response(text=playlist.body, content_type=clips.HLS_MEDIA_TYPE)


async def get_clip_chunk(manager: SessionManager, request: web.Request) -> web.StreamResponse:
    """``GET /clips/chunks/{session_id}/{filename}``: the init or a media segment; 410 unknown recording."""
    sid = request.match_info["session_id"]
    try:
        rec = manager.recorder.find(sid)
    except ClipGone as exc:
        return _detail(410, str(exc))
    filename = request.match_info["filename"]
    try:
        path = rec.chunk(sid, filename)
    except ClipGone as exc:
        return _detail(404, str(exc))
    media_type = "video/mp4" if filename.endswith(".mp4") else "video/iso.segment"
    return web.FileResponse(path, headers={"Content-Type": media_type})


def add_clip_routes(router: web.UrlDispatcher, manager: SessionManager) -> None:
    """Register the two clip routes, bound to the runtime's session manager."""

    async def playlist(request: web.Request) -> web.Response:
        """``GET /clips``: the clip's playlist once ready (202 while it is being cut)."""
        return await get_clip_playlist(manager, request)

    async def chunk(request: web.Request) -> web.StreamResponse:
        """``GET /clips/chunks/{session_id}/{filename}``: one media segment of a clip."""
        return await get_clip_chunk(manager, request)

    router.add_get(clips.ROUTE_CLIPS, playlist)
    router.add_get(clips.ROUTE_CLIP_CHUNKS, chunk)

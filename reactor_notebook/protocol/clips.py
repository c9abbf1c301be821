"""Clips and recordings on the wire: routes, v0 message names, kinds, limits and refusal codes.

``request_clip{duration_seconds}`` / ``request_recording`` (v0: runtime messages ``requestClip`` /
``requestRecording`` on the ``data`` channel) are answered ``clip_ready`` / ``clip_failed{reason}``
(v0: ``clipReady`` / ``clipFailed``); the clip is then fetched as fMP4 HLS from the two routes.
"""

from __future__ import annotations

ROUTE_CLIPS = "/clips"  # ?session_id=<recording id>&start=<s>&end=<s>: 202 until ready, then a playlist
ROUTE_CLIP_CHUNKS_PREFIX = "/clips/chunks"
ROUTE_CLIP_CHUNKS = ROUTE_CLIP_CHUNKS_PREFIX + "/{session_id}/{filename}"
HLS_MEDIA_TYPE = "application/vnd.apple.mpegurl"

REQUEST_CLIP = "requestClip"
REQUEST_RECORDING = "requestRecording"
CLIP_READY = "clipReady"
CLIP_FAILED = "clipFailed"
V1_REQUEST_CLIP = "request_clip"  # the v1 ControlClientMessage / ControlServerMessage payload fields
V1_REQUEST_RECORDING = "request_recording"
V1_CLIP_READY = "clip_ready"
V1_CLIP_FAILED = "clip_failed"

KIND_SNAP = "snap"
KIND_RECORDING = "recording"
MAX_CLIP_SECONDS = 300.0  # the reference runtime's cap on a snap clip

RECORDER_DISABLED = "RECORDER_DISABLED"  # its reasons start "recorder disabled" (what reactor-sdk 1.13 matches)
NO_MEDIA = "NO_MEDIA"
BAD_REQUEST = "BAD_REQUEST"

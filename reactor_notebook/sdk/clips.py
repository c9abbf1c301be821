"""Clips and recordings: ask the runtime for one, download its fMP4 HLS segments, decode to NumPy.

``request_clip(seconds)`` / ``request_recording()`` return a :class:`Clip` at once (the runtime
answers with a marker range and a playlist URL); :meth:`ClipsMixin.download` polls the playlist
(202 until the segment holding the clip's end has closed), fetches the init segment and the
media segments, and either saves them as one playable ``.mp4`` or decodes them with PyAV into an
``(N, H, W, 3)`` uint8 array. Works against this package's runtime and reactor-runtime 3.x, on
wire v0 (runtime messages ``requestClip`` → ``clipReady``/``clipFailed``) and on wire v1 (the
``control`` channel's ``request_clip`` → ``clip_ready``/``clip_failed``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urljoin, urlsplit

import aiohttp
import av
import numpy as np

from .. import protocol as P
from ..protocol import clips as PC
from .errors import (
    ClipFailedError,
    NotReadyError,
    ReactorException,
)
from .sync import sync_twin

if TYPE_CHECKING:
    from .loop import SdkLoop

CLIP_REQUEST_TIMEOUT_S = 10.0
DOWNLOAD_TIMEOUT_S = 60.0
_RETRY_MIN_S, _RETRY_MAX_S = 0.2, 2.0


@dataclass(frozen=True)
class Clip:
    """A clip the runtime promised (fields as in reactor-sdk 1.13's ``Clip``); ``playlist_url`` is absolute."""

    session_id: str
    kind: str
    start_marker: float
    end_marker: float
    now_marker: float
    predicted_ready_at_ms: float
    playlist_url: str

    @property
    def seconds(self) -> float:
        """Length of the requested range (the playlist holds whole segments around it)."""
        return self.end_marker - self.start_marker



def check_seconds(seconds: Any) -> float:
    """A clip length the runtime will accept, or ValueError saying what is wrong."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not math.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"request_clip: seconds must be a positive finite number, got {seconds!r}")
    if seconds > PC.MAX_CLIP_SECONDS:
        raise ValueError(
            f"request_clip: seconds={seconds:g} exceeds the longest clip, {PC.MAX_CLIP_SECONDS:g} s; "
            "use request_recording() for everything the runtime holds"
        )
    return float(seconds)


def _with_track(data: dict[str, Any], track: str | None) -> dict[str, Any]:
    if track is None:
        return data
    if not isinstance(track, str) or not track:
        raise ValueError(f"track must be an output track's name, got {track!r}")
    return {**data, "track": track}


def parse_playlist(text: str, url: str) -> list[str]:
    """Absolute URLs of an fMP4 HLS playlist, init segment first; ValueError if it names none."""
    init: str | None = None
    segments: list[str] = []
    for line in (raw.strip() for raw in text.splitlines()):
        if line.startswith("#EXT-X-MAP"):
            _, _, rest = line.partition('URI="')
            init = rest.split('"', 1)[0] or None
        elif line and not line.startswith("#"):
            segments.append(line)
    if not segments:
        raise ValueError(f"the clip playlist at {url} names no segments")
    return [urljoin(url, s) for s in ([init] if init else []) + segments]


def decode_clip(data: bytes | str | Path) -> np.ndarray:
    """Every video frame of an fMP4 clip (bytes or a file) as an ``(N, H, W, 3)`` uint8 array."""
    source = io.BytesIO(data) if isinstance(data, bytes) else str(data)
    with av.open(source) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]  # type: ignore[union-attr]
    if not frames:
        raise ValueError("the clip holds no video frames")
    return np.stack(frames)


def frames_or_file(data: bytes, path: str | Path | None) -> np.ndarray | Path:
    """Decoded frames of a downloaded clip, or (``path`` given) the clip saved there."""
    if path is None:
        return decode_clip(data)
    target = Path(path).expanduser()
    target.write_bytes(data)
    return target


async def fetch_clip(
    http: aiohttp.ClientSession, clip: Clip, headers: dict[str, str], timeout: float | None = DOWNLOAD_TIMEOUT_S
) -> bytes:
    """Wait for the clip's playlist (202 → retry), then its segments; one playable fMP4 as bytes."""
    ahead = max(clip.predicted_ready_at_ms / 1000 - time.time(), 0.0) if clip.predicted_ready_at_ms else 0.0
    deadline = None if timeout is None else time.monotonic() + ahead + timeout
    origin = urlsplit(clip.playlist_url).netloc
    while True:
        async with http.get(clip.playlist_url, headers=headers) as resp:
            if resp.status == 200:
                text = await resp.text()
                break
            if resp.status != 202:
                raise ReactorException(
                    "CLIP_UNAVAILABLE", f"GET {clip.playlist_url} answered {resp.status}: {(await resp.text())[:200]}"
                )
            retry = resp.headers.get("Retry-After")
        if deadline is not None and time.monotonic() >= deadline:
            raise ReactorException("TIMEOUT", f"clip playlist still not ready after {timeout:g} s: {clip.playlist_url}")
        try:
            delay = float(retry) if retry else _RETRY_MAX_S
        except ValueError:
            delay = _RETRY_MAX_S
        await asyncio.sleep(min(max(delay, _RETRY_MIN_S), _RETRY_MAX_S))
    parts: list[bytes] = []
    for url in parse_playlist(text, clip.playlist_url):
        same = urlsplit(url).netloc == origin
        async with http.get(url, headers=headers if same else {}) as resp:
            if resp.status != 200:
                raise ReactorException("CLIP_UNAVAILABLE", f"GET {url} answered {resp.status}")
            parts.append(await resp.read())
    return b"".join(parts)


class ClipsMixin:
    """``request_clip`` / ``request_recording`` / ``download`` (and ``*_sync`` twins) for :class:`Reactor`."""

    if TYPE_CHECKING:
        _sdk: SdkLoop
        _transport: Any
        _api: Any
        _runtime_waiters: dict[str, list[asyncio.Future[Any]]]
        base_url: str
        status: Any

    async def request_clip(
        self, seconds: float, timeout: float = CLIP_REQUEST_TIMEOUT_S, *, track: str | None = None
    ) -> Clip:
        """Ask for the last ``seconds`` of the stream; raises :class:`ClipFailedError` if refused.

        ``track`` picks another output track than the first (this package's runtime; reactor-runtime 3.x
        records one track and ignores it).
        """
        data = _with_track({"duration_seconds": check_seconds(seconds)}, track)
        return await self._sdk.run(self._request_clip(PC.REQUEST_CLIP, data, timeout))

    async def request_recording(self, timeout: float = CLIP_REQUEST_TIMEOUT_S, *, track: str | None = None) -> Clip:
        """Ask for everything the runtime has recorded of this session (ours: its rolling window)."""
        return await self._sdk.run(self._request_clip(PC.REQUEST_RECORDING, _with_track({}, track), timeout))

    async def download(
        self, clip: Clip, path: str | Path | None = None, *, timeout: float | None = DOWNLOAD_TIMEOUT_S
    ) -> np.ndarray | Path:
        """The clip's frames as ``(N, H, W, 3)`` uint8, or (``path`` given) saved there as one ``.mp4``."""
        data = await self._sdk.run(self._fetch(clip, timeout))
        return await asyncio.get_running_loop().run_in_executor(None, frames_or_file, data, path)

    request_clip_sync = sync_twin(request_clip)
    request_recording_sync = sync_twin(request_recording)
    download_sync = sync_twin(download)

    # --- on the SDK loop ------------------------------------------------------------------
    async def _request_clip(self, request: str, data: dict[str, Any], timeout: float) -> Clip:
        what = "request_clip" if request == PC.REQUEST_CLIP else "request_recording"
        if self._transport is None or str(getattr(self.status, "value", self.status)) != "ready":
            raise NotReadyError(what, self.status)
        lock = self.__dict__.setdefault("_clip_lock", asyncio.Lock())  # v0 answers carry no request id
        async with lock:
            return await self._request_clip_locked(request, what, data, timeout)

    async def _request_clip_locked(self, request: str, what: str, data: dict[str, Any], timeout: float) -> Clip:
        v1 = getattr(self, "v1", None)
        if v1 is not None:  # wire v1: a control-channel request correlated by request_id (no track field)
            field = PC.V1_REQUEST_CLIP if request == PC.REQUEST_CLIP else PC.V1_REQUEST_RECORDING
            body = {k: v for k, v in data.items() if k != "track"}
            reply = await v1.request_control({field: body}, timeout=timeout)
            answer, fields = (PC.CLIP_READY, reply[PC.V1_CLIP_READY]) if PC.V1_CLIP_READY in reply else (
                PC.CLIP_FAILED, reply.get(PC.V1_CLIP_FAILED) or {}
            )
        else:
            answer, fields = await self._v0_clip_request(request, data, timeout)
        if answer == PC.CLIP_FAILED:
            raise ClipFailedError(what, str(fields.get("reason") or fields.get("message") or "no reason given"),
                                  fields.get("code"))
        clip = self._clip_of(fields)
        if "track" in data:  # the playlist of another track on the same timeline (this package's runtime)
            clip = dataclasses.replace(clip, playlist_url=f"{clip.playlist_url}&{urlencode({'track': data['track']})}")
        return clip

    async def _v0_clip_request(self, request: str, data: dict[str, Any], timeout: float) -> tuple[str, dict[str, Any]]:
        """Send ``requestClip``/``requestRecording``; the first ``clipReady``/``clipFailed`` answers it."""
        loop = asyncio.get_running_loop()
        futs = {name: loop.create_future() for name in (PC.CLIP_READY, PC.CLIP_FAILED)}
        for name, fut in futs.items():
            self._runtime_waiters.setdefault(name, []).append(fut)
        try:
            self._transport.send_raw(P.encode_envelope(P.SCOPE_RUNTIME, request, data))
            done, _ = await asyncio.wait(futs.values(), timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            if not done:
                raise ReactorException("TIMEOUT", f"no clipReady/clipFailed reply to {request} within {timeout:g} s")
            name = next(n for n, f in futs.items() if f in done)
            result = futs[name].result()
            return name, result if isinstance(result, dict) else {}
        finally:
            for name, fut in futs.items():
                waiters = self._runtime_waiters.get(name, [])
                if fut in waiters:
                    waiters.remove(fut)
                fut.cancel()

    def _clip_of(self, fields: dict[str, Any]) -> Clip:
        url = str(fields.get("playlist_url") or "")
        if not url:
            raise ReactorException("CLIP_FAILED", f"the runtime's clip answer has no playlist_url: {fields!r}")
        return Clip(
            session_id=str(fields.get("session_id", "")),
            kind=str(fields.get("kind", "")),
            start_marker=float(fields.get("start_marker", 0.0)),
            end_marker=float(fields.get("end_marker", 0.0)),
            now_marker=float(fields.get("now_marker", 0.0)),
            predicted_ready_at_ms=float(fields.get("predicted_ready_at_ms", 0)),
            playlist_url=urljoin(self.base_url + "/", url),
        )

    async def _fetch(self, clip: Clip, timeout: float | None) -> bytes:
        api = self._api
        if api is not None and not api.http.closed:
            return await fetch_clip(api.http, clip, api._coordinator_headers(), timeout)
        async with aiohttp.ClientSession() as http:  # after disconnect: the files linger a little
            return await fetch_clip(http, clip, {}, timeout)

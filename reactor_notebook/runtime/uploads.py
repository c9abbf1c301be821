"""Presigned uploads (``docs/protocol.md`` "Uploads"): declare, PUT the bytes once, reference in commands."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from .config import MAX_UPLOAD_BYTES, UPLOAD_TTL_S
from .errors import RequestRefused
from .models.base import Upload

UploadError = RequestRefused  # the runtime's one refusal, under the name this module exports


@dataclass
class UploadRecord:
    """One declared upload; ``data`` is set once the bytes arrived."""

    upload_id: str
    session_id: str
    name: str
    size: int
    mime_type: str
    created: float
    data: bytes | None = None
    announced: bool = False

    def as_upload(self) -> Upload:
        """The model's view of this upload (id, name, MIME type and bytes)."""
        return Upload(self.upload_id, self.name, self.mime_type, self.data or b"")


class UploadStore:
    """All uploads of a runtime, keyed by id, expiring after 15 minutes or with their session."""

    def __init__(
        self, max_bytes: int = MAX_UPLOAD_BYTES, ttl: float = UPLOAD_TTL_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_bytes = max_bytes
        self.ttl = ttl
        self._clock = clock
        self._records: dict[str, UploadRecord] = {}

    def declare(self, session_id: str, body: object) -> UploadRecord:
        """Validate ``{"name","size","mime_type"}`` and reserve an id."""
        if not isinstance(body, dict):
            raise UploadError(400, "Upload request body must be an object with 'name', 'size' and 'mime_type'")
        name, size, mime = body.get("name"), body.get("size"), body.get("mime_type")
        if not isinstance(name, str) or not name:
            raise UploadError(400, "Upload 'name' must be a non-empty string")
        if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
            raise UploadError(400, f"Upload 'size' must be a positive integer number of bytes, got {size!r}")
        if size > self.max_bytes:
            raise UploadError(413, f"Upload of {size} bytes exceeds the limit of {self.max_bytes} bytes")
        if not isinstance(mime, str) or not mime:
            raise UploadError(400, "Upload 'mime_type' must be a non-empty string")
        self.expire()
        rec = UploadRecord(str(uuid.uuid4()), session_id, name, size, mime, self._clock())
        self._records[rec.upload_id] = rec
        return rec

    def put(self, upload_id: str, data: bytes) -> UploadRecord:
        """Store the bytes of a declared upload (exactly once, exactly ``size`` bytes)."""
        self.expire()
        rec = self._records.get(upload_id)
        if rec is None:
            raise UploadError(404, f"Upload {upload_id!r} not found (unknown, expired, or its session closed)")
        if rec.data is not None:
            raise UploadError(409, f"Upload {upload_id!r} is already completed")
        if len(data) != rec.size:
            raise UploadError(400, f"Upload body has {len(data)} bytes but {rec.size} were declared")
        rec.data = data
        return rec

    def completed(self, upload_id: object, session_id: str) -> UploadRecord | None:
        """A completed upload of this session, or None."""
        rec = self._records.get(upload_id) if isinstance(upload_id, str) else None
        if rec is None or rec.data is None or rec.session_id != session_id:
            return None
        if self._clock() - rec.created > self.ttl:
            return None
        return rec

    def announce(self, upload_id: object, session_id: str) -> bool:
        """Mark an upload announced by ``fileUploaded``; False if unknown."""
        rec = self._records.get(upload_id) if isinstance(upload_id, str) else None
        if rec is None or rec.session_id != session_id:
            return False
        rec.announced = True
        return True

    def drop_session(self, session_id: str) -> None:
        """Forget every upload of a closed session, so its bytes do not outlive it."""
        for uid in [u for u, r in self._records.items() if r.session_id == session_id]:
            del self._records[uid]

    def expire(self) -> None:
        """Forget uploads older than the time-to-live, so unclaimed bytes do not pile up."""
        now = self._clock()
        for uid in [u for u, r in self._records.items() if now - r.created > self.ttl]:
            del self._records[uid]

"""The runtime's one refusal: a request turned down with an HTTP status and a clear detail.

Sessions, connections and uploads all raise it (as ``SessionError`` and ``UploadError``, the
same class under the names their modules export); the app turns it into ``{"detail": ...}``.
"""

from __future__ import annotations


class RequestRefused(Exception):
    """A request refused with an HTTP status and a clear detail."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail

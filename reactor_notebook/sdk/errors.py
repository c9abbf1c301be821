"""SDK exceptions and error codes (``docs/protocol.md`` "HTTP API" and "Client behaviour").

Every message here is built by the SDK itself or scrubbed of secrets first, so an API key
or JWT never reaches an exception text.
"""

from __future__ import annotations

from typing import Any

from ..protocol import clips as PC
from .types import ErrorComponent, ReactorError

# --- error codes (ReactorError.code) ---------------------------------------------------
CONNECTION_FAILED = "CONNECTION_FAILED"
GPU_CONNECTION_ERROR = "GPU_CONNECTION_ERROR"
RECONNECTION_FAILED = "RECONNECTION_FAILED"
MESSAGE_SEND_FAILED = "MESSAGE_SEND_FAILED"
TRACK_PUBLISH_FAILED = "TRACK_PUBLISH_FAILED"
TRACK_UNPUBLISH_FAILED = "TRACK_UNPUBLISH_FAILED"
CALLBACK_ERROR = "CALLBACK_ERROR"
NOT_READY = "NOT_READY"
UNAUTHORIZED = "UNAUTHORIZED"
NOT_FOUND = "NOT_FOUND"
CONFLICT = "CONFLICT"
RATE_LIMITED = "RATE_LIMITED"
BAD_REQUEST = "BAD_REQUEST"
SERVER_ERROR = "SERVER_ERROR"
TIMEOUT = "TIMEOUT"
CLIENT_VERSION_TOO_OLD = "CLIENT_VERSION_TOO_OLD"
SERVER_VERSION_TOO_OLD = "SERVER_VERSION_TOO_OLD"
CONTROL_REQUEST_FAILED = "CONTROL_REQUEST_FAILED"
COMMAND_REJECTED = "COMMAND_REJECTED"

VERSION_ERROR_CODES: dict[int, str] = {426: CLIENT_VERSION_TOO_OLD, 501: SERVER_VERSION_TOO_OLD}


class ReactorException(RuntimeError):
    """Base of the SDK's exceptions; ``code`` is a ReactorError code, ``status`` the HTTP status if any."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        component: ErrorComponent = "api",
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.retry_after = retry_after
        self.component: ErrorComponent = component

    def to_error(self, recoverable: bool = True) -> ReactorError:
        """The ReactorError describing this exception."""
        return ReactorError(
            code=self.code,
            message=self.message,
            recoverable=recoverable,
            component=self.component,
            retry_after=self.retry_after,
        )


class ApiError(ReactorException):
    """An HTTP call to the coordinator or the transport routes failed (status mapped to a code)."""


class ConflictError(ApiError):
    """Raised when a connection conflict occurs (HTTP 409, or a legacy runtime refusing a second session)."""

    def __init__(self, message: str, *, status: int | None = 409) -> None:
        super().__init__(CONFLICT, message, status=status)


class VersionMismatchError(ApiError):
    """Raised on 426/501 version negotiation failures; ``code`` is CLIENT_/SERVER_VERSION_TOO_OLD."""

    def __init__(self, code: str, message: str, *, status: int | None = None) -> None:
        super().__init__(code, message, status=status)


class NotReadyError(ReactorException):
    """An operation needs status READY (e.g. ``send_command``); the message names the current status."""

    def __init__(self, operation: str, status: Any) -> None:
        value = getattr(status, "value", status)
        super().__init__(
            NOT_READY,
            f"cannot {operation}: status is {value!r}, must be 'ready' (await reactor.connect() first)",
        )
        self.current_status = status


class MessageSendError(ReactorException):
    """A data-channel message could not be sent (too large, channel closed)."""

    def __init__(self, message: str) -> None:
        super().__init__(MESSAGE_SEND_FAILED, message, component="gpu")


class ControlRequestError(ReactorException):
    """A control-channel request was refused (``error.code`` from the runtime) or timed out."""

    def __init__(self, method: str, code: str, message: str) -> None:
        super().__init__(code, f"{method} failed [{code}]: {message}", component="gpu")
        self.method = method


class TrackPublishError(ReactorException):
    """``publish_track`` failed (unknown track, refused by the runtime, not connected)."""

    def __init__(self, message: str, *, code: str = TRACK_PUBLISH_FAILED) -> None:
        super().__init__(code, message, component="gpu")


class CommandRejectedError(ReactorException):
    """The model refused a command: ``model_code`` and ``model_message`` are the model's own words.

    ``field`` names the offending argument when the model says which (our runtime and Helios do).
    """

    def __init__(self, command: str, code: str, message: str, *, field: str | None = None) -> None:
        text = message if message.startswith(f"{command}:") else f"{command}: {message}"
        if field and repr(field) not in text:
            text = f"{command}: field {field!r}: {text[len(command) + 2:]}"
        super().__init__(COMMAND_REJECTED, f"{text} [{code}]")
        self.command = command
        self.model_code = code
        self.model_message = message
        self.field = field


class CommandTimeoutError(ReactorException):
    """No answer to a command within the wait bound although the model declares a reply for it."""

    def __init__(self, command: str, timeout: float) -> None:
        super().__init__(TIMEOUT, f"{command}: no reply from the model within {timeout:g} s")
        self.command = command
        self.timeout = timeout


def scrub(text: str, secrets: list[str] | tuple[str, ...]) -> str:
    """Replace every secret (API key, JWT) occurring in ``text`` with ``***``."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


# --- errors of the SDK's parts (re-exported by the modules that raise them) ---------------------
class TransportError(ReactorException):
    """The WebRTC transport failed or closed before or while streaming."""

    def __init__(self, message: str) -> None:
        super().__init__(GPU_CONNECTION_ERROR, message, component="gpu")


class ModelMismatchError(ReactorException):
    """The runtime serves another model than the one asked for (both names are in the message)."""

    def __init__(self, asked: str, served: str, where: str) -> None:
        super().__init__(
            CONNECTION_FAILED,
            f"the runtime at {where} serves model {served!r}, not {asked!r}: connect with "
            f"Reactor({served!r}, local=True), or start a {asked!r} runtime there "
            f"(python -m reactor_notebook.runtime --model {asked} --port PORT)",
        )
        self.asked = asked
        self.served = served


class SessionSharedError(ConflictError):
    """``exclusive=True`` and the local session already has other clients attached."""

    def __init__(self, clients: int, where: str) -> None:
        super().__init__(
            f"the session at {where} already has {clients} other client{'s' if clients != 1 else ''} "
            "attached (another notebook?); exclusive=True refuses to share it. Disconnect the other "
            "client, or connect without exclusive=True to join it",
            status=None,
        )
        self.clients = clients


class SharedSessionWarning(UserWarning):
    """Connected to a local session that other clients are attached to (their commands reach it too)."""


class V1RequestError(ReactorException):
    """A v1 request answered with ``error{code, message}`` (or failed by a disconnect)."""

    def __init__(self, what: str, code: str, message: str) -> None:
        super().__init__(code, f"{what} failed [{code}]: {message}", component="gpu")
        self.what = what
        self.error_code = code
        self.error_message = message


class V1TimeoutError(ReactorException):
    """No reply to a v1 request within its timeout."""

    def __init__(self, what: str, timeout: float) -> None:
        super().__init__("TIMEOUT", f"{what}: no reply within {timeout:g} s", component="gpu")


class NotSteppedError(ReactorException):
    """``step()`` on a client or a session that does not step (nothing was sent)."""

    def __init__(self, message: str) -> None:
        super().__init__("NOT_STEPPED", message, component="api")


class StepRefusedError(ReactorException):
    """The runtime did not run the step: ``failure`` (REFUSED, NOT_READY, COMMAND_FAILED, ...), ``entry``, why."""

    def __init__(self, failure: str, message: str, entry: str | None = None, code: str | None = None) -> None:
        where = f" [{entry}]" if entry else ""
        super().__init__(f"STEP_{failure}", f"step {failure.lower()}{where}: {message}", component="gpu")
        self.failure = failure
        self.reason = message
        self.entry = entry
        self.model_code = code


class ClipFailedError(ReactorException):
    """The runtime refused a clip or recording (``clip_failed``); ``reason`` is its own words."""

    def __init__(self, what: str, reason: str, code: str | None = None) -> None:
        code = code or (PC.RECORDER_DISABLED if "recorder disabled" in reason.lower() else "CLIP_FAILED")
        super().__init__(code, f"{what} failed: {reason}", component="gpu")
        self.reason = reason

"""The custom messages between the widget's two halves (JSON plus binary buffers, never base64).

One TypedDict per message, in both directions; ``js/src/messages.js`` holds the same shapes as
JSDoc typedefs for the front end. No API key or token ever enters a message.

browser → kernel
  ``ready``        a view rendered (resend the current frame)
  ``visibility``   a view scrolled/tabbed in or out of sight
  ``view_closed``  a view was removed (no visible view left: the pump pauses)
  ``view_path``    the view shows ``direct`` WebRTC frames (no JPEG needed) or ``jpeg``
  ``ack``          frame ``id`` and older ones handled (``n`` frames, coalesced)
  ``command``      a form submission (+ ``uploads`` with file buffers) → ``command_result``
  ``retry``        reconnect after a recoverable error → ``retry_result``
  ``webcam_start`` / ``webcam_stop``  publish / unpublish the input track → ``webcam_state``
  ``webcam_frame`` one webcam frame (JPEG buffer) → ``webcam_ack``
kernel → browser
  ``frame`` (+ image buffer), ``command_result``, ``retry_result``, ``webcam_state``, ``webcam_ack``
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

try:
    from typing import NotRequired
except ImportError:  # Python 3.10
    from typing_extensions import NotRequired

# --- browser → kernel -----------------------------------------------------------------------


class ViewMsg(TypedDict):
    """``ready``, ``visibility`` (with ``visible``) or ``view_closed`` for one rendered view."""

    type: Literal["ready", "visibility", "view_closed"]
    view: str
    visible: NotRequired[bool]


class ViewPathMsg(TypedDict):
    """Which path a view shows frames through (``direct``: the page's own WebRTC connection)."""

    type: Literal["view_path"]
    view: str
    path: Literal["direct", "jpeg"]


class AckMsg(TypedDict):
    """The view handled frame ``id`` and every older one (``n`` frames drawn or dropped)."""

    type: Literal["ack"]
    id: int
    n: NotRequired[int]


class UploadField(TypedDict):
    """Where one upload field's file sits among the message's buffers."""

    buffer: int
    name: str
    mime_type: str | None


class CommandMsg(TypedDict):
    """A form submission; upload fields travel as buffers and are uploaded through the SDK."""

    type: Literal["command"]
    id: str | int
    name: str
    args: dict[str, Any]
    uploads: NotRequired[dict[str, UploadField]]


class RetryMsg(TypedDict):
    """Reconnect after a recoverable error; answered by ``retry_result``."""
    type: Literal["retry"]


class WebcamStartMsg(TypedDict):
    """Publish the browser webcam on ``track`` (the model's first input track when absent)."""
    type: Literal["webcam_start"]
    track: NotRequired[str | None]


class WebcamStopMsg(TypedDict):
    """Stop publishing the browser webcam; answered by ``webcam_state``."""
    type: Literal["webcam_stop"]


class WebcamFrameMsg(TypedDict):
    """One webcam frame; its JPEG is the message's first buffer."""

    type: Literal["webcam_frame"]
    id: int


# --- kernel → browser -----------------------------------------------------------------------


class FrameMsg(TypedDict):
    """One video frame for the view; its encoded image is the message's first buffer."""

    type: Literal["frame"]
    id: int
    seq: int
    index: int | None
    code: bool
    track: str | None
    width: int
    height: int
    mime: str
    quality: int
    scale: float
    still: bool
    sent_at: float  # wall clock ms, for latency measured in the page


class CommandError(TypedDict):
    """Why a command was refused: by the browser's or kernel's validation, or by the model."""

    command: str | None
    field: str | None
    reason: str | None
    message: str


class ModelReply(TypedDict):
    """The model's own reply message (``type`` and ``data`` as the model sent them)."""
    type: Any
    data: Any


class CommandResult(TypedDict):
    """The answer to a ``command`` message; ``reply`` is the model's answer when it came in time."""

    type: Literal["command_result"]
    id: Any
    name: Any
    ok: bool
    error: CommandError | dict[str, Any] | None
    reply: NotRequired[ModelReply]


class RetryResult(TypedDict):
    """The answer to ``retry``: whether the reconnect worked, and why not."""
    type: Literal["retry_result"]
    ok: bool
    message: str | None


class WebcamState(TypedDict):
    """Whether the webcam is published now (after ``webcam_start``/``webcam_stop`` or a failure)."""
    type: Literal["webcam_state"]
    active: bool
    error: str | None
    track: NotRequired[str | None]


class WebcamAck(TypedDict):
    """Webcam frame ``id`` was taken (or refused with ``error``), so the page may send the next one."""
    type: Literal["webcam_ack"]
    id: Any
    error: str | None


KernelMessage = FrameMsg | CommandResult | RetryResult | WebcamState | WebcamAck

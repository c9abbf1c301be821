"""Human-readable summaries of a session, its frame buffer and one frame's metadata.

One place builds the rows (label, value) that ``%reactor status`` prints and that the rich
``_repr_html_`` of :class:`~reactor_notebook.sdk.Reactor`, :class:`~reactor_notebook.frames.FrameBuffer`
and :class:`~reactor_notebook.frames.FrameMeta` render, so the notebook and the magic agree.
Times are shown as local wall-clock ``HH:MM:SS.mmm``; nothing secret is ever read here.
"""

from __future__ import annotations

import base64
import io
import time
from html import escape
from typing import Any

from .profiles import ClientProfile, profile_for
from .profiles.helios import HELIOS

MB = 1024 * 1024
STATS_SHOWN = (
    "frames_per_second",
    "rtt",
    "jitter",
    "packet_loss_ratio",
    "decode_ms",
    "frames_received",
    "candidate_type",
    "error",
)


def clock(t: float | None) -> str:
    """Epoch seconds → ``HH:MM:SS.mmm`` local time ("-" for None)."""
    if t is None:
        return "-"
    return time.strftime("%H:%M:%S", time.localtime(t)) + f".{int((t % 1) * 1000):03d}"


def short(text: Any, width: int = 40) -> str:
    """``repr`` of a value cut to ``width`` characters with an ellipsis."""
    r = repr(text)
    return r if len(r) <= width else r[: width - 1] + "…"


def status_name(reactor: Any) -> str:
    """The session status as a lowercase word (``ready``, ``connecting``…) for rows and the magic."""
    status = reactor.get_status()
    return str(getattr(status, "value", status)).lower()


def _profile(reactor: Any) -> ClientProfile:
    """The client profile of a session: its frame buffer's, else its model's."""
    profile = getattr(getattr(reactor, "frames", None), "profile", None)
    return profile if isinstance(profile, ClientProfile) else profile_for(getattr(reactor, "model_name", None))


def effective_state(reactor: Any) -> dict[str, Any] | None:
    """The model's last reported state; ``running`` is False unless the session is ready (stale otherwise)."""
    frames = getattr(reactor, "frames", None)
    st = getattr(frames, "state", None) if frames is not None else None
    if not st:
        return None
    st = dict(st)
    if status_name(reactor) != "ready":
        st["running"] = False
    return st


def session_rows(reactor: Any) -> list[tuple[str, str]]:
    """What ``%reactor status`` shows: status, model, session, error, frames, model state, stats."""
    from .magic.connect import served_model

    status = status_name(reactor)
    rows = [("status", status)]
    info = reactor.get_session_info() if hasattr(reactor, "get_session_info") else None
    served = served_model(info) or getattr(reactor, "model_name", None)
    if isinstance(served, str) and served:
        rows.append(("model", served))
    if hasattr(reactor, "get_session_id"):
        sid = reactor.get_session_id()
        shared = getattr(reactor, "shared_clients", 0)
        extra = f" (shared with {shared} other client{'s' if shared != 1 else ''})" if shared and sid else ""
        rows.append(("session", f"{sid}{extra}"))
    err = reactor.get_last_error() if hasattr(reactor, "get_last_error") else None
    if err is not None:
        when = clock(getattr(err, "timestamp", None))
        rows.append(("error", f"{getattr(err, 'code', '')} {getattr(err, 'message', err)} (at {when})"))
    from .magic.replies import status_line  # the model's latest refusal, kept apart from client errors

    rejected = status_line(reactor)
    if rejected:
        rows.append(("rejected", rejected.split(": ", 1)[1]))
    frames = getattr(reactor, "frames", None)
    if frames is not None:
        fps = frames.estimated_fps() if hasattr(frames, "estimated_fps") else None
        fps_txt = f", ~{fps:.1f} fps" if fps and status == "ready" else ""
        rows.append(("frames", f"{frames.seq + 1} received, {len(frames)} held{fps_txt}"))
    st = effective_state(reactor)
    if st:
        text = ", ".join(f"{k}={v!r}" for k, v in _profile(reactor).shown_state(st).items())
        rows.append(("model state", text + ("" if status == "ready" else " (last report; not connected)")))
    if hasattr(reactor, "get_stats") and status == "ready":
        try:
            stats = reactor.get_stats() or {}
        except Exception as exc:  # stats are informative only
            stats = {"error": str(exc)}
        shown = [
            f"{k}={stats[k]:.3g}" if isinstance(stats[k], float) else f"{k}={stats[k]}"
            for k in STATS_SHOWN
            if isinstance(stats.get(k), (int, float, str)) and not isinstance(stats.get(k), bool)
        ]
        if shown:
            rows.append(("stats", ", ".join(shown)))
    return rows


def rows_text(rows: list[tuple[str, str]]) -> str:
    """Rows as aligned ``label: value`` lines, the plain-text form the magic prints."""
    width = max((len(k) for k, _ in rows), default=0) + 1
    return "\n".join(f"{k + ':':<{width}} {v}" for k, v in rows)


def rows_html(title: str, rows: list[tuple[str, str]], extra: str = "") -> str:
    """Rows as an HTML table under a bold ``title`` (values escaped), the notebook's rich form."""
    body = "".join(
        f"<tr><th style='text-align:left;padding-right:1em'>{escape(k)}</th>"
        f"<td style='text-align:left'>{escape(v)}</td></tr>"
        for k, v in rows
    )
    return f"<div><b>{escape(title)}</b>{extra}<table>{body}</table></div>"


# --- FrameBuffer -------------------------------------------------------------------------------
def buffer_rows(buf: Any) -> list[tuple[str, str]]:
    """The rows that describe a frame buffer: what it holds, what it received, what it evicted."""
    budget = "unbounded" if buf.max_bytes is None else f"{buf.max_bytes / MB:.0f} MB"
    rows = [
        ("held", f"{len(buf)} of {buf.max_frames} frames, {buf.nbytes / MB:.1f} MB of {budget}"),
        ("received", f"{buf.seq + 1} frames (last seq {buf.seq})"),
        ("evicted", f"{buf.evicted} oldest frames made room for newer ones (not lost in transit)"),
    ]
    ref = buf.latest_ref()
    if ref is not None:
        meta = ref[1]
        rows.append(("latest", f"{meta.track} {meta.width}x{meta.height} at {clock(meta.arrival)}"))
    fps = buf.estimated_fps()
    if fps:
        rows.append(("rate", f"~{fps:.1f} fps"))
    if buf.state:
        rows.append(("model state", ", ".join(f"{k}={v!r}" for k, v in buf.profile.shown_state(buf.state).items())))
    return rows


def buffer_text(buf: Any) -> str:
    """``repr`` of a :class:`FrameBuffer`: one line with fill, budget, last seq and evictions."""
    budget = "unbounded" if buf.max_bytes is None else f"{buf.max_bytes / MB:.0f} MB"
    ref = buf.latest_ref()
    last = f", last at {clock(ref[1].arrival)}" if ref is not None else ""
    return (
        f"<FrameBuffer {len(buf)}/{buf.max_frames} frames, {buf.nbytes / MB:.1f} MB of {budget}, "
        f"seq={buf.seq}{last}, evicted={buf.evicted}>"
    )


def thumbnail_html(frame: Any, width: int = 192) -> str:
    """A small inline JPEG of a frame (for rich reprs)."""
    from PIL import Image

    img = Image.fromarray(frame)
    img.thumbnail((width, width))
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=80)
    b64 = base64.b64encode(out.getvalue()).decode("ascii")
    return f"<img src='data:image/jpeg;base64,{b64}' style='display:block;margin:4px 0' alt='latest frame'/>"


def buffer_html(buf: Any) -> str:
    """``_repr_html_`` of a :class:`FrameBuffer`: its rows plus a thumbnail of the latest frame."""
    ref = buf.latest_ref()
    thumb = thumbnail_html(ref[0]) if ref is not None else ""
    return rows_html("FrameBuffer", buffer_rows(buf), thumb)


# --- FrameMeta ---------------------------------------------------------------------------------
def meta_fields(meta: Any) -> list[tuple[str, Any]]:
    """(label, value) pairs of one frame's metadata; model status fields appear only when present."""
    st = meta.state or {}
    out: list[tuple[str, Any]] = [
        ("seq", meta.seq),
        ("time", clock(meta.arrival)),
        ("track", f"{meta.track} {meta.width}x{meta.height}"),
    ]
    for label, attr, key in (
        ("frame", "frame_index", HELIOS.frame_key),
        ("chunk", "chunk", HELIOS.chunk_key),
        ("prompt", "prompt", HELIOS.prompt_key),
    ):
        value = getattr(meta, attr, None)
        if value is None and key is not None:
            value = st.get(key)
        if value is not None:
            out.append((label, value))
    if meta.latency_ms is not None:
        out.append(("latency", f"{meta.latency_ms:.1f} ms"))
    return out


def meta_text(meta: Any) -> str:
    """``repr`` of a :class:`FrameMeta`: its fields on one line, the prompt shortened."""
    parts = []
    for k, v in meta_fields(meta):
        parts.append(f"{k}={short(v) if k == 'prompt' else v}")
    return f"FrameMeta({', '.join(parts)})"


def meta_html(meta: Any) -> str:
    """``_repr_html_`` of a :class:`FrameMeta`: its fields plus any other model state, shortened."""
    rows = [(k, str(v)) for k, v in meta_fields(meta)]
    extra = {k: v for k, v in (meta.state or {}).items() if k not in HELIOS.status_keys}
    if extra:
        rows.append(("state", ", ".join(f"{k}={short(v, 30)}" for k, v in extra.items())))
    return rows_html("FrameMeta", rows)


# --- Reactor -----------------------------------------------------------------------------------
def reactor_html(reactor: Any) -> str:
    """``_repr_html_`` of a :class:`Reactor`: the session rows plus its URL and frame-ring fill."""
    rows = session_rows(reactor)
    rows.insert(1, ("url", f"{getattr(reactor, 'base_url', '?')} ({'local' if reactor.local else 'cloud'})"))
    frames = getattr(reactor, "frames", None)
    if frames is not None:
        rows.append(("ring", f"{len(frames)}/{frames.max_frames} frames, {frames.nbytes / MB:.1f} MB"))
    return rows_html("Reactor", rows)

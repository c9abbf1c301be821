"""The timeline (commands, messages, state and status changes) and the pandas tables of frames and events.

Both tables share ``seq`` (newest frame at that moment) and ``time`` (UTC datetimes; ``epoch`` keeps
the seconds), so ``pd.merge_asof`` or a ``seq`` join lines them up. pandas is optional: only the
table functions import it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .meta import FrameMeta

MAX_TIMELINE_STRING = 2048


@dataclass(frozen=True)
class TimelineEntry:
    """One thing that happened: a command sent, a message or event received, a status change."""

    time: float
    kind: str  # "command" | "message" | "event" | "state" | "status" | "error"
    name: str
    data: Any = None
    seq: int | None = field(default=None)  # frames.seq of the newest frame at that moment

    def as_row(self) -> dict[str, Any]:
        """Flat dict for :meth:`FrameBuffer.timeline`."""
        return {"time": self.time, "seq": self.seq, "kind": self.kind, "name": self.name, "data": self.data}


def compact(data: Any) -> Any:
    """Replace long strings (top level or one dict level) by a ``"<N chars>"`` placeholder."""
    if isinstance(data, str) and len(data) > MAX_TIMELINE_STRING:
        return f"<{len(data)} chars>"
    if isinstance(data, dict) and any(
        isinstance(v, str) and len(v) > MAX_TIMELINE_STRING for v in data.values()
    ):
        return {k: compact(v) if isinstance(v, str) else v for k, v in data.items()}
    return data


def require_pandas() -> Any:
    """The pandas module, or an ImportError naming the extra that installs it."""
    try:
        import pandas as pd
    except ImportError as exc:  # pragma: no cover - pandas is installed in the test env
        raise ImportError(
            "reactor_notebook tables need pandas, which is not installed; "
            "install it with: pip install reactor-notebook[pandas]"
        ) from exc
    return pd


def frames_table(metas: Iterable[FrameMeta], state_columns: Sequence[str]) -> Any:
    """Frame metadata as a pandas DataFrame, one row per frame, ``state_columns`` from each state."""
    pd = require_pandas()
    rows = [m.as_row(state_columns) for m in metas]
    columns = list(FrameMeta(0, 0.0, 0.0, "", 0, 0).as_row(state_columns))
    return _with_datetimes(pd, pd.DataFrame(rows, columns=columns))


def timeline_table(entries: Iterable[TimelineEntry]) -> Any:
    """Timeline entries as a pandas DataFrame with an ``event`` column naming application events."""
    pd = require_pandas()
    rows = [e.as_row() for e in entries]
    for row in rows:
        row["event"] = event_name(row["kind"], row["name"], row["data"])
    df = pd.DataFrame(rows, columns=["time", "seq", "kind", "name", "event", "data"])
    df["seq"] = df["seq"].astype("Int64")
    return _with_datetimes(pd, df)


def _with_datetimes(pd: Any, df: Any) -> Any:
    """``time`` as UTC pandas datetimes (readable, joinable), epoch seconds kept as ``epoch``."""
    df.insert(df.columns.get_loc("time") + 1, "epoch", df["time"].astype("float64"))
    df["time"] = pd.to_datetime(df["epoch"], unit="s", utc=True)
    df["datetime"] = df["time"]  # the former name of the datetime column
    return df


def event_name(kind: str, name: str, data: Any) -> str | None:
    """The application event a timeline row stands for, whichever message family carried it."""
    if isinstance(data, dict) and isinstance(data.get("event"), str):
        return str(data["event"])
    if kind == "message" and name not in ("raw", "event"):
        return name.removeprefix("event:")
    return None

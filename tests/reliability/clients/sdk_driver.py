"""Our SDK driven over JSON lines (stdin: operations, stdout: events), for tests that must run the
client in another process or network namespace. Same line protocol as tests/interop's harness:
``{"op": ..., "id": N}`` in, ``op_done``/``op_failed`` with that id out, plus ``status`` and
``error`` events stamped with CLOCK_MONOTONIC (comparable across processes).
"""

from __future__ import annotations

import json
import sys
import threading
import time
import urllib.request
from typing import Any

from reactor_notebook import framecode
from reactor_notebook.frames import FrameBuffer
from reactor_notebook.sdk import Reactor
from reactor_notebook.sdk.linkwatch import consent_probe, ice_connection

_LOCK = threading.Lock()


def emit(ev: str, **fields: Any) -> None:
    fields["ev"] = ev
    fields.setdefault("t", time.monotonic())
    with _LOCK:
        sys.stdout.write(json.dumps(fields, default=str) + "\n")
        sys.stdout.flush()


def remote_candidate(r: Reactor) -> str | None:
    """Address of the runtime's candidate in the nominated ICE pair (aiortc internals)."""
    try:
        conn = r._transport.pc.sctp.transport.transport._connection  # type: ignore[union-attr]
        return str(next(iter(conn._nominated.values())).remote_candidate.host)
    except Exception:
        return None


def frames(r: Reactor, n: int, timeout: float) -> dict[str, Any]:
    """Wait for ``n`` new frames (each within ``timeout``); their index codes and arrival times."""
    seq, indices, arrivals = r.frames.seq, [], []
    for _ in range(n):
        item = r.frames.wait_next(seq, timeout)
        if item is None:
            break
        frame, meta = item
        seq = meta.seq
        indices.append(int(framecode.read_index(frame)))
        arrivals.append(meta.arrival_mono)
    return {"indices": indices, "arrivals": arrivals, "status": r.get_status().value}


def dispatch(r: Reactor, url: str, name: str, op: dict[str, Any]) -> Any:
    if name == "connect":
        r.connect_sync()
    elif name == "reconnect":
        r.reconnect_sync()
    elif name == "disconnect":
        r.disconnect_sync()
    elif name == "frames":
        return frames(r, int(op.get("n", 10)), float(op.get("wait", 5.0)))
    elif name == "probe_rtt":
        return r._sdk.run_sync(probe_rtt(r, int(op.get("n", 5))), 30)
    elif name == "health":
        with urllib.request.urlopen(url + "/health", timeout=5) as resp:
            return json.loads(resp.read())
    elif name != "state":
        raise ValueError(f"unknown op {name!r}")
    err = r.get_last_error()
    return {
        "status": r.get_status().value, "session_id": r.get_session_id(), "seq": r.frames.seq,
        "stats": r.get_stats(), "candidate": remote_candidate(r),
        "last_error": None if err is None else err.code,
        "restarted": any(e.name == "session_restarted" for e in r.frames.timeline_entries()),
        "probes": link_probes(r),
    }


async def probe_rtt(r: Reactor, n: int) -> list[float | None]:
    """Round trips (ms) of ``n`` ICE consent probes on the selected pair; None for an unanswered one."""
    conn = ice_connection(r._transport.pc)  # type: ignore[union-attr]
    out: list[float | None] = []
    for _ in range(n):
        t0 = time.monotonic()
        ok = await consent_probe(conn)
        out.append((time.monotonic() - t0) * 1000 if ok else None)
    return out


def link_probes(r: Reactor) -> dict[str, int] | None:
    """ICE consent probes the link watchdog sent and got answered on the current connection."""
    watch = getattr(r._transport, "link_watch", None)
    return None if watch is None else {"sent": watch.probes_sent, "answered": watch.probes_answered}


def main() -> None:
    url, link = sys.argv[1], sys.argv[2]  # link timeout in seconds, or "default"
    extra = {} if link == "default" else {"link_timeout": float(link)}
    r = Reactor("testpattern", local=True, local_url=url, frames=FrameBuffer(max_frames=64), **extra)
    r.on("status_changed", lambda s: emit("status", status=s.value))
    r.on("error", lambda e: emit("error", code=e.code, recoverable=e.recoverable, message=e.message))
    emit("hello")
    for line in sys.stdin:
        op = json.loads(line)
        name = op.get("op")
        if name == "exit":
            break
        try:
            emit("op_done", op=name, id=op.get("id"), result=dispatch(r, url, name, op))
        except Exception as exc:
            emit("op_failed", op=name, id=op.get("id"), error=f"{type(exc).__name__}: {exc}")
    r.disconnect_sync()
    emit("bye")


if __name__ == "__main__":
    main()

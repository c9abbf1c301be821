"""Per-process CPU of a whole chain, read from /proc: CPU seconds per role between two snapshots.

A role is a named set of processes (e.g. runtime, kernel, Jupyter server, Chromium); each
snapshot sums user+system time of every thread of every process in the role, found again at each
snapshot (Chromium starts and ends renderer processes). Percent figures are of one core.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")

PidSource = Callable[[], Iterable[int]]


def machine_load() -> str:
    """The 1/5/15-minute load averages and core count, printed by benches on this shared machine."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def _stat_cpu_s(path: str | Path) -> tuple[float, float]:
    """(user, system) CPU seconds from a /proc ``stat`` file (a process or one task); OSError if gone."""
    with open(path) as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return int(fields[11]) / TICK, int(fields[12]) / TICK  # utime, stime (fields 14 and 15 of stat)


def process_cpu_s(pid: int) -> float:
    """User+system CPU seconds of one live process (all its threads); 0.0 if it is gone."""
    try:
        return sum(_stat_cpu_s(f"/proc/{pid}/stat"))
    except OSError:
        return 0.0


def thread_cpu_s(pid: int) -> dict[str, tuple[float, float]]:
    """(user, system) CPU seconds per live thread id of process ``pid`` (native threads too)."""
    out: dict[str, tuple[float, float]] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            out[task.name] = _stat_cpu_s(task / "stat")
        except OSError:  # the thread ended meanwhile
            continue
    return out


def _parents() -> dict[int, int]:
    out = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    out[int(entry)] = int(fh.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
    return out


def descendants(root: int) -> list[int]:
    """Every live process below ``root`` (children, grandchildren, …)."""
    children: dict[int, list[int]] = {}
    for pid, ppid in _parents().items():
        children.setdefault(ppid, []).append(pid)
    out, todo = [], list(children.get(root, []))
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += children.get(pid, [])
    return out


def command_name(pid: int) -> str:
    """The process's command name (``/proc/PID/comm``), '' if it is gone."""
    try:
        with open(f"/proc/{pid}/comm") as fh:
            return fh.read().strip()
    except OSError:
        return ""


def below(root: int, match: Callable[[str], bool]) -> PidSource:
    """A role: the descendants of ``root`` whose command name matches."""
    return lambda: [pid for pid in descendants(root) if match(command_name(pid))]


def tree(root: int) -> PidSource:
    """A role: ``root`` and all its descendants."""
    return lambda: [root, *descendants(root)]


Snapshot = tuple[float, dict[str, dict[int, float]]]  # (monotonic time, role -> pid -> CPU seconds)


class ChainCPU:
    """CPU per role between snapshots; :meth:`percent` gives percent of one core per role.

    Deltas are per process: one born inside the interval counts from zero; one that exits inside
    it loses its last slice (short-lived Chromium helpers, a small undercount).
    """

    def __init__(self, roles: dict[str, PidSource]) -> None:
        self.roles = roles

    def snapshot(self) -> Snapshot:
        """CPU seconds of every process of every role, now."""
        return time.monotonic(), {role: {pid: process_cpu_s(pid) for pid in set(pids())}
                                  for role, pids in self.roles.items()}

    @staticmethod
    def percent(before: Snapshot, after: Snapshot) -> dict[str, float]:
        """Percent of one core per role over the interval between two snapshots."""
        span = max(1e-6, after[0] - before[0])
        out = {}
        for role, pids in after[1].items():
            old = before[1].get(role, {})
            out[role] = 100 * sum(max(0.0, cpu - old.get(pid, 0.0)) for pid, cpu in pids.items()) / span
        return out

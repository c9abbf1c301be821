"""What every JSON-lines client driver shares: event output, the frame index code, RSS.

Standard library only (plus the repository's framecode.py loaded by path), so drivers running
in the official packages' venvs (py08_driver.py, py113_driver.py) can import it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[3]


def _load_framecode() -> Any:
    """Import reactor_notebook/framecode.py by path (the package itself is not installed here)."""
    spec = importlib.util.spec_from_file_location("_framecode", REPO / "reactor_notebook" / "framecode.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


framecode = _load_framecode()
_emit_lock = threading.Lock()


def emit(ev: str, **fields: Any) -> None:
    """Write one event line (with CLOCK_MONOTONIC time) to stdout; callable from any thread."""
    fields["ev"] = ev
    fields.setdefault("t", time.monotonic())
    line = json.dumps(fields, default=str) + "\n"
    with _emit_lock:
        sys.stdout.write(line)
        sys.stdout.flush()


def current_rss_kb() -> int:
    """Resident set size now, from /proc (ru_maxrss is only the peak)."""
    try:
        with open(f"/proc/{os.getpid()}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0

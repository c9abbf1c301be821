"""Every benchmark under bench/ starts: its imports resolve and its options parse (``--help``).

The README's figures come from these scripts; a refactor that moves a helper they import must not
leave them broken until the next time someone measures.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


SCRIPTS = sorted(p.name for p in BENCH.glob("*.py") if "__main__" in p.read_text())  # proc_cpu.py is a helper module


@pytest.mark.parametrize("script", SCRIPTS)
def test_bench_starts(script: str) -> None:
    assert len(SCRIPTS) >= 10
    done = subprocess.run([sys.executable, str(BENCH / script), "--help"], capture_output=True, text=True, timeout=90)
    assert done.returncode == 0 and "usage:" in done.stdout, done.stderr[-2000:]

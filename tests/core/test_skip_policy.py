"""Under CI=true a skip fails the run unless tests/skip_allowlist.py lists it (checked in a child pytest)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
ALLOWED = "tests/reliability/test_faults_network.py"


def _run(root: Path, body: str, *, ci: bool, relpath: str = "tests/test_probe.py",
         extra: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    """Run a child pytest over one probe file beside copies of the suite's conftest and allow-list."""
    (root / "tests").mkdir(parents=True, exist_ok=True)
    for name in ("conftest.py", "skip_allowlist.py"):
        shutil.copy(TESTS / name, root / "tests" / name)
    probe = root / relpath
    probe.parent.mkdir(parents=True, exist_ok=True)
    probe.write_text("import pytest\n\n" + body)
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "PYTEST_ADDOPTS")}
    if ci:
        env["CI"] = "true"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-ra", *extra, relpath],
        cwd=root, env=env, capture_output=True, text=True, timeout=60,
    )


SKIPPING = "def test_it():\n    pytest.skip('port 8080 busy')\n"


def test_unlisted_skip_fails_under_ci(tmp_path: Path) -> None:
    done = _run(tmp_path, SKIPPING, ci=True)
    assert done.returncode == pytest.ExitCode.TESTS_FAILED, done.stdout
    assert "skips outside tests/skip_allowlist.py" in done.stdout and "port 8080 busy" in done.stdout


def test_unlisted_skip_is_reported_but_passes_outside_ci(tmp_path: Path) -> None:
    done = _run(tmp_path, SKIPPING, ci=False)
    assert done.returncode == 0, done.stdout
    assert "CI=true would fail on these" in done.stdout and "SKIPPED" in done.stdout  # -ra lists it


def test_module_level_skip_counts(tmp_path: Path) -> None:
    done = _run(tmp_path, "pytest.skip('no tool', allow_module_level=True)\n", ci=True)
    assert done.returncode == pytest.ExitCode.TESTS_FAILED, done.stdout


def test_allow_listed_skip_passes_only_for_its_reason(tmp_path: Path) -> None:
    ok = "def test_added_delay_shows_in_the_rtt():\n    pytest.skip('this kernel has no netem qdisc')\n"
    assert _run(tmp_path, ok, ci=True, relpath=ALLOWED).returncode == 0
    other = "def test_added_delay_shows_in_the_rtt():\n    pytest.skip('namespaces need root')\n"
    assert _run(tmp_path, other, ci=True, relpath=ALLOWED).returncode == pytest.ExitCode.TESTS_FAILED


def test_no_skip_passes_under_ci(tmp_path: Path) -> None:
    assert _run(tmp_path, "def test_it():\n    assert True\n", ci=True).returncode == 0


XDIST = ("-n", "2", "--dist", "loadgroup")


def test_under_xdist_unlisted_skips_still_fail_and_listed_ones_pass(tmp_path: Path) -> None:
    two = SKIPPING + "\n\ndef test_other():\n    assert True\n"
    done = _run(tmp_path / "a", two, ci=True, extra=XDIST)
    assert done.returncode == pytest.ExitCode.TESTS_FAILED and "port 8080 busy" in done.stdout, done.stdout
    ok = "def test_added_delay_shows_in_the_rtt():\n    pytest.skip('this kernel has no netem qdisc')\n"
    done = _run(tmp_path / "b", ok, ci=True, relpath=ALLOWED, extra=XDIST)
    assert done.returncode == 0, done.stdout  # the "@group" xdist adds to node ids does not hide the entry

"""Suite-wide setup: shared helpers importable, and under ``CI=true`` no skip outside the allow-list.

The allow-list lives in ``skip_allowlist.py`` (each entry with its reason). With ``-ra`` every skip
is listed in the summary; in CI an unlisted skip turns the run red, so a test cannot quietly stop
running because a port was busy, a venv was missing or a tool was not installed.
"""

from __future__ import annotations

import fnmatch
import os
import sys
from pathlib import Path

import pytest

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from skip_allowlist import ALLOWED_SKIPS  # noqa: E402

_UNLISTED: list[tuple[str, str]] = []


def _skip_reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    """The reason pytest recorded for a skip (``(path, line, reason)`` or a plain string)."""
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr)


def is_allowed_skip(nodeid: str, reason: str) -> bool:
    """Whether a skip of ``nodeid`` for ``reason`` is on the allow-list."""
    nodeid = nodeid.replace("\\", "/")
    return any(
        fnmatch.fnmatchcase(nodeid, entry.test) and entry.when in reason for entry in ALLOWED_SKIPS
    )


def _strict_skips() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Remember every skip that the allow-list does not cover (runs on the xdist controller too)."""
    if report.skipped and not hasattr(report, "wasxfail"):
        reason = _skip_reason(report)
        if not is_allowed_skip(report.nodeid, reason):
            _UNLISTED.append((report.nodeid, reason))


def pytest_collectreport(report: pytest.CollectReport) -> None:
    """A whole module skipped at import (``pytest.skip(allow_module_level=True)``) counts too."""
    if report.skipped:
        reason = _skip_reason(report)
        if not is_allowed_skip(report.nodeid, reason):
            _UNLISTED.append((report.nodeid, reason))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _UNLISTED:
        verdict = "these fail the run (CI=true)" if _strict_skips() else "CI=true would fail on these"
        terminalreporter.section(f"skips outside tests/skip_allowlist.py: {verdict}", red=_strict_skips())
        for nodeid, reason in _UNLISTED:
            terminalreporter.line(f"{nodeid}: {reason}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Under CI=true an unlisted skip is a failure of the whole run."""
    on_worker = hasattr(session.config, "workerinput")  # xdist: the controller decides
    if _UNLISTED and _strict_skips() and exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED) and not on_worker:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED

"""Suite-wide setup: shared helpers importable, xdist groups, and under ``CI=true`` no unlisted skip.

The allow-list lives in ``skip_allowlist.py`` (each entry with its reason). With ``-ra`` every skip
is listed in the summary; in CI an unlisted skip turns the run red, so a test cannot quietly stop
running because a port was busy, a venv was missing or a tool was not installed.

Parallel runs (``pytest -n 2 --dist loadgroup``, as .ci/run does): every test gets an
``xdist_group``, so one worker runs a whole group in order. A group is the test's module (its
module-scoped runtimes and kernels are set up once), except for tests that hold a resource only one
test may hold at a time, which share one group per resource (:data:`EXCLUSIVE`).
"""

from __future__ import annotations

import fnmatch
import os
import re
import sys
from pathlib import Path

import pytest

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from skip_allowlist import ALLOWED_SKIPS  # noqa: E402

_UNLISTED: list[tuple[str, str]] = []

# Resource → the test modules that hold it (paths relative to the repository).
EXCLUSIVE: dict[str, tuple[str, ...]] = {
    # PY08's local mode is hard-wired to http://localhost:8080 (module-scoped runtime on that port).
    "port8080": ("tests/interop/test_py08.py", "tests/interop/test_cross_client.py"),
    # Network namespaces, veth pairs and iptables rules; CPU-heavy and timing-sensitive.
    "netns": ("tests/reliability/test_faults_network.py",),
    # JupyterLab + headless Chromium: one browser at a time on a 2-core machine.
    "browser": ("tests/browser/test_widget_browser.py", "tests/interop/test_js29.py"),
}
_ROOT = Path(__file__).resolve().parent.parent
_XDIST_SUFFIX = re.compile(r"@[^\[\]:@]+$")  # --dist loadgroup appends "@group" to node ids


def xdist_group_of(relpath: str) -> str:
    """The xdist group of a test module: its exclusive resource, or the module itself."""
    for group, modules in EXCLUSIVE.items():
        if relpath in modules:
            return group
    return relpath


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Give every test its xdist group (harmless without xdist)."""
    for item in items:
        try:
            rel = Path(str(item.fspath)).resolve().relative_to(_ROOT).as_posix()
        except ValueError:
            continue
        if not any(m.name == "xdist_group" for m in item.iter_markers()):
            item.add_marker(pytest.mark.xdist_group(xdist_group_of(rel)))


def _skip_reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    """The reason pytest recorded for a skip (``(path, line, reason)`` or a plain string)."""
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr)


def is_allowed_skip(nodeid: str, reason: str) -> bool:
    """Whether a skip of ``nodeid`` for ``reason`` is on the allow-list."""
    nodeid = _XDIST_SUFFIX.sub("", nodeid.replace("\\", "/"))
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

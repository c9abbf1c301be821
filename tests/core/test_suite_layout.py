"""The suite's own layout: test modules in plain folders must have unique basenames.

pytest's default import mode imports ``tests/a/test_x.py`` and ``tests/b/test_x.py`` both as module
``test_x``; the second one then fails to collect ("import file mismatch"), so a clash costs a module.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def test_test_modules_outside_packages_have_unique_basenames() -> None:
    seen: dict[str, list[str]] = defaultdict(list)
    for path in TESTS.rglob("test_*.py"):
        if "node_modules" in path.parts or (path.parent / "__init__.py").exists():
            continue  # a package's modules are imported under their package name
        seen[path.name].append(str(path.relative_to(TESTS)))
    clashes = {name: where for name, where in seen.items() if len(where) > 1}
    assert clashes == {}, clashes

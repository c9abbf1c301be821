"""README.md keeps its promises in form: no empty code block (a figure table once went missing that way) and
every script it tells readers to run exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_no_fenced_block_is_empty() -> None:
    blocks = re.findall(r"^```[^\n]*\n(.*?)^```$", README, re.M | re.S)
    assert len(blocks) >= 10
    empty = [i for i, body in enumerate(blocks) if not body.strip()]
    assert not empty, f"empty code blocks in README.md (numbers {empty}): a printed table was not pasted"


def test_every_named_script_and_notebook_exists() -> None:
    named = set(re.findall(r"\b((?:bench|notebooks|tests|docs|\.ci)/[\w./-]+\.(?:py|ipynb|md|sh))\b", README))
    assert any(n.startswith("bench/") for n in named)
    missing = sorted(n for n in named if not (ROOT / n).exists())
    assert not missing, f"README.md names files that do not exist: {missing}"

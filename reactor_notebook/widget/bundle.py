"""Is the committed front-end bundle built from the current ``js/src``? (hash stamped by js/build.mjs)."""

from __future__ import annotations

import hashlib
import pathlib
import re

STATIC = pathlib.Path(__file__).parent / "static"
BUNDLE = STATIC / "widget.js"
_STAMP = re.compile(r"source-sha256: ([0-9a-f]{64})")


def source_hash(src_dir: pathlib.Path) -> str:
    """sha256 over ``relpath\\0content\\0`` of every file under ``src_dir``, sorted by relpath (as build.mjs)."""
    h = hashlib.sha256()
    files = sorted((p.relative_to(src_dir).as_posix(), p) for p in src_dir.rglob("*") if p.is_file())
    for rel, path in files:
        h.update(rel.encode() + b"\0")
        h.update(path.read_bytes())
        h.update(b"\0")
    return h.hexdigest()


def bundle_hash(bundle: pathlib.Path = BUNDLE) -> str | None:
    """The source hash stamped in the bundle's first line, or None if missing/unstamped."""
    if not bundle.is_file():
        return None
    with bundle.open("r", encoding="utf-8") as fh:
        m = _STAMP.search(fh.readline())
    return m.group(1) if m else None

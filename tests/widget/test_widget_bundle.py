"""The committed bundle is present, shipped, and built from the current js/src (hash stamped by the build)."""

from __future__ import annotations

import pathlib

from reactor_notebook.widget.bundle import BUNDLE, STATIC, bundle_hash, source_hash
from reactor_notebook.widget.widget import ReactorWidget

ROOT = pathlib.Path(__file__).resolve().parents[2]
SRC = ROOT / "js" / "src"


def test_bundle_exists_and_is_fresh() -> None:
    assert BUNDLE.is_file(), (
        "reactor_notebook/widget/static/widget.js is missing: run `cd js && npm install && npm run build`"
    )
    stamped = bundle_hash()
    assert stamped is not None, "widget.js has no source-sha256 stamp: rebuild with `cd js && npm run build`"
    assert stamped == source_hash(SRC), (
        "widget.js is older than js/src: run `cd js && npm run build` and commit it"
    )
    css = (STATIC / "widget.css").read_text(encoding="utf-8")
    assert f"source-sha256: {stamped}" in css.splitlines()[0]


def test_bundle_is_one_esm_with_default_export() -> None:
    text = BUNDLE.read_text(encoding="utf-8")
    assert "export default" in text or "export {" in text
    assert "import " not in "\n".join(line for line in text.splitlines() if line.startswith("import "))


def test_widget_ships_the_bundle() -> None:
    assert str(ReactorWidget._esm).startswith("/* reactor_notebook widget")
    assert "rn-root" in str(ReactorWidget._css)


def test_source_hash_changes_with_sources(tmp_path: pathlib.Path) -> None:
    (tmp_path / "a.js").write_text("x")
    h1 = source_hash(tmp_path)
    (tmp_path / "a.js").write_text("y")
    assert source_hash(tmp_path) != h1

"""The committed bundle is present, shipped, and exactly what js/src builds to (built afresh into a temp dir).

.ci/setup only installs the build tool (``npm ci``); it never rebuilds the committed bundle, so the
wheel's file is the one checked here and exercised by the browser tests.
"""

from __future__ import annotations

import pathlib
import shutil
import subprocess

import pytest

from reactor_notebook.widget.bundle import BUNDLE, STATIC, bundle_hash, source_hash
from reactor_notebook.widget.widget import ReactorWidget

ROOT = pathlib.Path(__file__).resolve().parents[2]
SRC = ROOT / "js" / "src"
JS = ROOT / "js"


def test_committed_bundle_is_byte_identical_to_a_fresh_build(tmp_path: pathlib.Path) -> None:
    if shutil.which("node") is None or not (JS / "node_modules" / "esbuild").is_dir():
        pytest.skip("the bundle check needs node and js/node_modules (`cd js && npm ci`; .ci/setup does)")
    subprocess.run(["node", str(JS / "build.mjs"), "--outdir", str(tmp_path)], check=True, timeout=120,
                   capture_output=True, text=True)
    for name in ("widget.js", "widget.css"):
        fresh, committed = (tmp_path / name).read_bytes(), (STATIC / name).read_bytes()
        assert fresh == committed, (
            f"reactor_notebook/widget/static/{name} differs from a fresh build of js/src: "
            "run `cd js && npm run build` and commit the result"
        )


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

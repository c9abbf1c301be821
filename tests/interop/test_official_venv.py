"""Which interpreter builds an official package's venv (reactor-runtime 3.10 needs Python 3.12)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from official_venv import OfficialVenv

VENV = OfficialVenv(name="x", distribution="example", version="1.0", env_var="X_VENV", imports="example", python="3.12")


def script(path: Path, code: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\nexit {code}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_a_broken_pyenv_shim_on_path_is_passed_over(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shim = script(tmp_path / "shims" / "python3.12", 127)  # pyenv's shim when 3.12 is not selected
    real = script(tmp_path / "pyenv" / "versions" / "3.12.1" / "bin" / "python3.12", 0)
    monkeypatch.setenv("PATH", f"{shim.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "pyenv"))
    assert VENV.base_python() == str(real)


def test_no_working_interpreter_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shim = script(tmp_path / "shims" / "python3.12", 127)
    monkeypatch.setenv("PATH", str(shim.parent))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "none"))
    with pytest.raises(RuntimeError, match=r"example==1\.0 needs Python 3\.12; no working python3\.12 under pyenv or on PATH"):
        VENV.base_python()

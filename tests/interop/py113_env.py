"""The official ``reactor-sdk==1.13.0`` (PY113, wire v1, a Rust/libwebrtc core) in its own venv.

Like PY08 it never shares the project's interpreter: interop tests run client scripts with the
venv's python as subprocesses. The venv lives at ``$REACTOR_PY113_VENV`` (``.ci/setup`` builds it)
or ``~/.cache/reactor_notebook/py113``.
"""

from __future__ import annotations

from official_venv import OfficialVenv

PY113 = OfficialVenv(
    "py113", "reactor-sdk", "1.13.0", "REACTOR_PY113_VENV", "reactor_sdk, numpy", extras=("numpy",)
)

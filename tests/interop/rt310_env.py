"""The official ``reactor-runtime==3.10.0`` (RT310, wire v0 + v1) in its own Python 3.12 venv.

RT310 requires Python >= 3.12 (pyenv provides it on these machines), so it runs as a subprocess
with the venv's python. The venv lives at ``$REACTOR_RT310_VENV`` (``.ci/setup`` builds it) or
``~/.cache/reactor_notebook/rt310``.
"""

from __future__ import annotations

from official_venv import OfficialVenv

RT310 = OfficialVenv(
    "rt310", "reactor-runtime", "3.10.0", "REACTOR_RT310_VENV", "reactor_runtime, reactor_wire.v1.data_pb2",
    python="3.12",
)

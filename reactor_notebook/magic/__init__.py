"""The ``%reactor`` IPython magic: connect, drive and record a Reactor session from notebook cells.

Load with ``%load_ext reactor_notebook``; ``%reactor help`` prints the reference (``help.py``).

Layout: ``magics`` (:class:`ReactorMagics`: entry point and verb dispatch), ``base`` (shared state,
sending), ``session_verbs`` (connect, status, show, record, ...), ``model_verbs`` (any command and the
model profile's shortcuts), ``script`` (``%%reactor`` cells and ``@`` waits), ``steps`` (stepped
sessions), ``parse`` (pure parsing), ``complete`` (tab completion), ``connect`` (connect's arguments and
messages), ``replies`` (what a command's answer prints), ``help`` (wording), ``table``
(``%reactor commands``), ``extension`` (load/unload).
"""

from __future__ import annotations

from .base import DEFAULT_WAIT_TIMEOUT
from .connect import DEFAULT_API_KEY_ENV, DEFAULT_LOCAL_URL
from .extension import get_magics, load_ipython_extension, unload_ipython_extension
from .magics import ReactorMagics
from .model_verbs import load_image_b64
from .table import CommandTable

__all__ = [
    "DEFAULT_API_KEY_ENV",
    "DEFAULT_LOCAL_URL",
    "DEFAULT_WAIT_TIMEOUT",
    "CommandTable",
    "ReactorMagics",
    "get_magics",
    "load_image_b64",
    "load_ipython_extension",
    "unload_ipython_extension",
]

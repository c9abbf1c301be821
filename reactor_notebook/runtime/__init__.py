"""The embedded local runtime: serves one model over the Reactor HTTP + WebRTC protocol.

``LocalRuntime`` runs it in-process (a background event-loop thread); ``python -m
reactor_notebook.runtime`` runs it as a server process.
"""

from __future__ import annotations

from .config import RuntimeConfig
from .encoding import EncoderSettings, EncoderSettingsError
from .handle import LocalRuntime
from .server import RuntimeServer

__all__ = ["EncoderSettings", "EncoderSettingsError", "LocalRuntime", "RuntimeConfig", "RuntimeServer"]

"""The embedded local runtime: serves one model over the Reactor HTTP + WebRTC protocol.

``LocalRuntime`` runs it in-process (a background event-loop thread); ``python -m
reactor_notebook.runtime`` runs it as a server process. Modules, one job each:

* ``app`` HTTP routes, CORS, version headers, error bodies; ``auth`` API keys and tokens
* ``session`` session machine, connections/offers, broadcast, keepalive/orphan watchdog
* ``peer`` one aiortc peer per connection; ``sdp`` SDP completion and ``track_mapping`` checks
* ``channels`` ``data``/``control`` message dispatch; ``media`` model thread, producer, tracks
* ``encoding`` codec preference, x264 preset/tune, bitrate window; ``uploads`` presigned uploads
* ``server`` model + sessions + site on one loop; ``handle`` LocalRuntime; ``config`` options
"""

from __future__ import annotations

from .config import RuntimeConfig
from .encoding import EncoderSettings, EncoderSettingsError
from .handle import LocalRuntime
from .server import RuntimeServer

__all__ = ["EncoderSettings", "EncoderSettingsError", "LocalRuntime", "RuntimeConfig", "RuntimeServer"]

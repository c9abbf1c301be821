"""The live notebook widget: :class:`ReactorWidget` (view, forms, status, stats, timeline, webcam).

Layout: ``widget.py`` (the anywidget class: traits and Python API) wires ``bridge.py`` (session →
traits), ``dispatch.py`` (front-end messages → pump and SDK calls), ``pump.py`` + ``flow.py``
(frames to the browser under flow control) and ``webcam.py`` (the browser's camera as an input
track); ``messages.py`` types the messages between the two halves.
"""

from __future__ import annotations

from .pump import FlowWindow, FramePump, PumpConfig
from .widget import ReactorWidget

__all__ = ["FlowWindow", "FramePump", "PumpConfig", "ReactorWidget"]

"""The live notebook widget: :class:`ReactorWidget` (view, forms, status, stats, timeline, webcam)."""

from __future__ import annotations

from .pump import FlowWindow, FramePump, PumpConfig
from .widget import ReactorWidget

__all__ = ["FlowWindow", "FramePump", "PumpConfig", "ReactorWidget"]

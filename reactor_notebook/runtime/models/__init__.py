"""Models the embedded runtime can host, by name."""

from __future__ import annotations

from typing import Any

from .base import Model


def model_names() -> list[str]:
    """Names accepted by ``--model``."""
    return ["helios", "testpattern"]


def create_model(name: str, **options: Any) -> Model:
    """Instantiate a model by name; raise ValueError listing the known names."""
    if name == "testpattern":
        from .testpattern import TestPattern

        return TestPattern(**options)
    if name == "helios":
        from .helios import HeliosModel

        return HeliosModel(**options)
    raise ValueError(f"unknown model {name!r}; known models: {', '.join(model_names())}")

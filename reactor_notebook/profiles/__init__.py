"""Client-side model profiles: what the notebook knows about a model beyond its command schema.

A :class:`ClientProfile` names the ``state`` keys the frames table shows as columns, the keys that
carry the model's frame, chunk and prompt counters, the parameter-less commands the widget shows as
transport buttons, the ``%reactor`` shortcut verbs, and how the widget's timeline draws the state.
Models without a registered profile get :data:`GENERIC`: no state columns, no shortcuts, plain forms.
The runtime-side command spec of each model lives with the runtime; this is the client's view only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, TypedDict


class FrontEndProfile(TypedDict):
    """The widget's ``profile`` trait (``ModelProfile`` in js/src/messages.js)."""

    name: str
    transport_commands: list[str]
    chunk_key: str | None
    timeline: dict[str, Any]  # ``ProfileTimeline`` in js/src/messages.js; empty for a generic model


@dataclass(frozen=True)
class ClientProfile:
    """What the frames table, widget forms, magic and timeline know about one model."""

    name: str
    state_columns: tuple[str, ...] = ()  # state keys copied into every frame's table row
    frame_key: str | None = None  # state key of the model's frame counter
    chunk_key: str | None = None  # state key of the model's chunk counter
    prompt_key: str | None = None  # state key of the prompt in force
    status_keys: tuple[str, ...] = ()  # state keys status lines and reprs show, in order (empty: all)
    transport_commands: tuple[str, ...] = ()  # parameter-less commands shown as transport buttons
    magic_verbs: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # shortcut verb → its options
    timeline: Mapping[str, Any] = field(default_factory=dict)  # how js/src/timeline.js draws the state

    def shown_state(self, state: Mapping[str, Any]) -> dict[str, Any]:
        """The part of a ``state`` message that status lines show: :attr:`status_keys` present, else all of it."""
        if not self.status_keys:
            return dict(state)
        return {k: state[k] for k in self.status_keys if k in state}

    def front_end(self) -> FrontEndProfile:
        """The JSON the widget's ``profile`` trait carries to js/src/timeline.js (no timeline: a generic model)."""
        return {
            "name": self.name,
            "transport_commands": list(self.transport_commands),
            "chunk_key": self.chunk_key,
            "timeline": _plain(self.timeline),
        }

    def counters(self, state: Mapping[str, Any] | None) -> tuple[int | None, int | None, str | None]:
        """(frame, chunk, prompt) read from a ``state`` message, None where absent or mistyped."""
        st = state or {}
        frame = st.get(self.frame_key) if self.frame_key else None
        chunk = st.get(self.chunk_key) if self.chunk_key else None
        prompt = st.get(self.prompt_key) if self.prompt_key else None
        return (
            frame if isinstance(frame, int) else None,
            chunk if isinstance(chunk, int) else None,
            prompt if isinstance(prompt, str) else None,
        )


def _plain(value: Any) -> Any:
    """Mappings and tuples as JSON-ready dicts and lists (the profile's values are read-only)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    return value


GENERIC = ClientProfile("generic")
_REGISTRY: dict[str, ClientProfile] = {}


def register(profile: ClientProfile, *models: str) -> ClientProfile:
    """Make ``profile`` the one used for each model name in ``models`` (default: its own name)."""
    for model in models or (profile.name,):
        _REGISTRY[model.lower()] = profile
    return profile


def profile_for(model: str | None) -> ClientProfile:
    """The profile registered for ``model`` (case-insensitive), else :data:`GENERIC`."""
    return _REGISTRY.get((model or "").lower(), GENERIC)


def known_models() -> tuple[str, ...]:
    """Model names with a registered profile, sorted (offered by ``%reactor connect --model``)."""
    return tuple(sorted(_REGISTRY))


def registry() -> Mapping[str, ClientProfile]:
    """A read-only view of the registered profiles by model name."""
    return MappingProxyType(_REGISTRY)


from .helios import HELIOS  # noqa: E402  (registers itself; needs ClientProfile defined above)

register(ClientProfile("testpattern"))  # the embedded runtime's other model: the generic path, by name

__all__ = ["GENERIC", "HELIOS", "ClientProfile", "FrontEndProfile", "known_models", "profile_for", "register", "registry"]

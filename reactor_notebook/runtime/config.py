"""Runtime configuration: network, auth, timeouts and encoder settings in one validated record."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .. import __version__, protocol
from .encoding import EncoderSettings
from .recording import RecordingSettings, RecordingSettingsError

SERVER_VERSION = __version__
CLUSTER = "local"
MAX_UPLOAD_BYTES = 32 * 1024 * 1024
UPLOAD_TTL_S = 15 * 60.0


class ConfigError(ValueError):
    """A runtime option with an invalid value; the message names the option."""


@dataclass(frozen=True)
class RuntimeConfig:
    """Everything tunable about one runtime process (defaults follow docs/protocol.md "Timing")."""

    host: str = "127.0.0.1"
    port: int = 8080
    api_key: str | tuple[str, ...] | None = None
    orphan_timeout: float = protocol.ORPHAN_TIMEOUT_S
    keepalive_timeout: float = protocol.KEEPALIVE_TIMEOUT_S
    keepalive_check: float = protocol.KEEPALIVE_CHECK_S
    answer_timeout: float = protocol.ANSWER_BUDGET_S
    assignment_delay: float = 0.0  # simulated GPU assignment: cloud sessions stay PENDING this long
    max_session_duration: float | None = None
    ice_servers: tuple[dict[str, Any], ...] = ()  # wire form: {"uris": [...], "credentials"?: {...}}
    token_lifetime: float = float(protocol.TOKEN_LIFETIME_S)
    encoder: EncoderSettings = field(default_factory=EncoderSettings)
    recording: bool = True  # rolling recording of every output track, for clips (runtime/recording/)
    recordings_dir: str | None = None  # default: a temporary directory removed at shutdown
    recording_window: float = 120.0  # seconds of closed segments kept per track
    recording_max_mb: float = 256.0  # and at most this many MB of them per track
    recording_linger: float = 10.0  # seconds a session's files outlive it (a last download)

    def __post_init__(self) -> None:
        try:
            self.recording_settings  # noqa: B018 - validates the recording options
        except RecordingSettingsError as exc:
            raise ConfigError(str(exc)) from None
        for name in ("orphan_timeout", "keepalive_timeout", "keepalive_check", "answer_timeout", "token_lifetime"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ConfigError(f"{name}: expected a positive number of seconds, got {value!r}")
        if isinstance(self.assignment_delay, bool) or not isinstance(self.assignment_delay, (int, float)) or (
            self.assignment_delay < 0
        ):
            raise ConfigError(f"assignment_delay: expected seconds >= 0, got {self.assignment_delay!r}")
        if self.max_session_duration is not None and self.max_session_duration <= 0:
            raise ConfigError(f"max_session_duration: expected seconds > 0 or None, got {self.max_session_duration!r}")
        if isinstance(self.port, bool) or not isinstance(self.port, int) or not 0 <= self.port <= 65535:
            raise ConfigError(f"port: expected an integer 0-65535, got {self.port!r}")
        keys = self.api_keys
        if self.api_key is not None and (not keys or any(not isinstance(k, str) or not k for k in keys)):
            raise ConfigError("api_key: expected a non-empty string or a list of non-empty strings")

    @property
    def recording_settings(self) -> RecordingSettings:
        """The recorder's settings from the flat ``recording*`` options."""
        return RecordingSettings(
            enabled=bool(self.recording),
            directory=self.recordings_dir,
            window_s=self.recording_window,
            max_mb=self.recording_max_mb,
            linger_s=self.recording_linger,
        )

    @property
    def api_keys(self) -> tuple[str, ...]:
        """Configured API keys (empty: any non-empty key is accepted)."""
        if self.api_key is None:
            return ()
        if isinstance(self.api_key, str):
            return (self.api_key,)
        return tuple(self.api_key)

    def __repr__(self) -> str:  # never show keys
        key = "None" if self.api_key is None else "'***'"
        return f"RuntimeConfig(host={self.host!r}, port={self.port}, api_key={key}, orphan_timeout={self.orphan_timeout})"


def normalize_ice_servers(servers: Sequence[Any] | None) -> tuple[dict[str, Any], ...]:
    """Accept wire-form dicts or plain URL strings; return wire-form entries."""
    out: list[dict[str, Any]] = []
    for s in servers or ():
        if isinstance(s, str):
            out.append({"uris": [s]})
        elif isinstance(s, dict) and isinstance(uris := s.get("uris") or s.get("urls"), (list, str)):
            entry: dict[str, Any] = {"uris": [uris] if isinstance(uris, str) else list(uris)}
            creds = s.get("credentials")
            if creds is None and ("username" in s or "credential" in s):
                creds = {"username": s.get("username", ""), "password": s.get("credential", "")}
            if creds:
                entry["credentials"] = creds
            out.append(entry)
        else:
            raise ConfigError(f"ice_servers: cannot use entry {s!r} (expected a URL or {{'uris': [...]}})")
    return tuple(out)

"""The client-side Helios profile: state columns, transport verbs, magic shortcuts and timeline.

Helios generates video in chunks; its ``state`` messages report ``current_frame``,
``current_chunk``, ``current_prompt``, ``running`` and ``paused`` (plus ``scheduled_prompts``,
``seed`` and ``pause_pending``). The frames table, the widget's forms and transport buttons, the
``%reactor`` shortcuts and the widget timeline (``js/src/timeline.js``) all read this one profile.
The runtime's simulator keeps its own command spec (``reactor_notebook/runtime/models``).
"""

from __future__ import annotations

from types import MappingProxyType

from . import ClientProfile, register

STATE_COLUMNS = ("current_frame", "current_chunk", "current_prompt", "running", "paused")
STATUS_KEYS = ("running", "paused", "current_chunk", "current_frame", "current_prompt")  # status-line order
# Parameter-less commands that drive generation; the widget groups them as transport buttons and
# the magic sends each as a verb without arguments (``%reactor start``).
TRANSPORT_COMMANDS = ("start", "pause", "resume", "reset")

# What js/src/timeline.js draws from ``model_state`` (the front end keeps the same values:
# tests/widget/test_widget_forms.py checks that they agree).
TIMELINE = MappingProxyType(
    {
        "buttons": MappingProxyType(
            {"start": "▶ start", "pause": "❚❚ pause", "resume": "▶ resume", "reset": "↺ reset"}
        ),
        "state_line": ("current_frame", "current_chunk", "seed", "current_prompt"),
        "modes": ("paused", "pausing at chunk end", "running", "started", "idle"),
        "lane": "scheduled_prompts",  # chunk → prompt, one cell per chunk around current_chunk
    }
)

HELIOS = register(
    ClientProfile(
        name="helios",
        state_columns=STATE_COLUMNS,
        frame_key="current_frame",
        chunk_key="current_chunk",
        prompt_key="current_prompt",
        status_keys=STATUS_KEYS,
        transport_commands=TRANSPORT_COMMANDS,
        magic_verbs=MappingProxyType(
            {
                "prompt": ("--chunk",),  # set_prompt, or schedule_prompt with --chunk
                "seed": (),  # set_seed
                "image": ("--blend", "--clear"),  # set_image / clear_image
                **{verb: () for verb in TRANSPORT_COMMANDS},
            }
        ),
        timeline=TIMELINE,
    )
)

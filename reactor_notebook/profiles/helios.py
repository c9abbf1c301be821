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

# What js/src/timeline.js draws from ``model_state``; the widget's ``profile`` trait carries it to
# the front end (``ClientProfile.front_end``), which holds no Helios names of its own.
TIMELINE = MappingProxyType(
    {
        "buttons": MappingProxyType(  # transport command → its button label
            {"start": "▶ start", "pause": "❚❚ pause", "resume": "▶ resume", "reset": "↺ reset"}
        ),
        "state_line": MappingProxyType(  # state key → how the state line shows it ({} is the value)
            {"current_frame": "frame {}", "current_chunk": "chunk {}", "seed": "seed {}", "current_prompt": "“{}”"}
        ),
        "modes": MappingProxyType(  # the first true state flag names the mode, in this order
            {"paused": "paused", "pause_pending": "pausing at chunk end", "running": "running", "started": "started"}
        ),
        "idle": "idle",  # the mode when no flag is true
        "lane": "scheduled_prompts",  # chunk → prompt, one cell per chunk around the chunk counter
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

"""Debian Chromium and the launch flags every browser test and benchmark starts it with.

The base flags keep a headless Chromium quiet on a machine with no outside network (no
background connections, updates, sync or QUIC); callers add what their page needs.
"""

from __future__ import annotations

CHROMIUM = "/usr/bin/chromium"
BASE_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

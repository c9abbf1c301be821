"""The JS29 page: the official @reactor-team/js-sdk 2.9.0 bundled by esbuild, served statically.

``npm ci`` + ``node build.mjs`` run only when the bundle is missing or older than its inputs, so a
warm checkout pays nothing. The page is served from its own origin on an ephemeral port, so every
SDK call to the runtime is cross-origin and preflighted, as from a notebook page.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from chromium import BASE_ARGS
from chromium import CHROMIUM as CHROMIUM  # re-exported for the conftest
from harness import file_lock

JS_DIR = Path(__file__).resolve().parent / "js"
BUNDLE = JS_DIR / "dist" / "js29.bundle.mjs"
SDK_PACKAGE = JS_DIR / "node_modules" / "@reactor-team" / "js-sdk" / "package.json"
INPUTS = ("page.js", "build.mjs", "package.json", "package-lock.json")

CHROMIUM_ARGS = [
    *BASE_ARGS,
    "--allow-loopback-in-peer-connection",
    # Expose real (loopback) host candidates instead of mDNS names that aiortc cannot resolve.
    "--disable-features=WebRtcHideLocalIpsWithMdns",
    "--autoplay-policy=no-user-gesture-required",
]


def _stale() -> bool:
    if not BUNDLE.exists() or not SDK_PACKAGE.exists():
        return True
    built = BUNDLE.stat().st_mtime
    return any((JS_DIR / name).stat().st_mtime > built for name in INPUTS if (JS_DIR / name).exists())


def ensure_bundle(timeout: float = 300.0) -> Path:
    """Build dist/js29.bundle.mjs (npm ci + esbuild) if missing or stale; return its path."""
    if not _stale():
        return BUNDLE
    with file_lock(JS_DIR / ".build.lock"):
        if _stale():  # another run may have built it while we waited
            _build(timeout)
    return BUNDLE


def _build(timeout: float) -> None:
    """npm ci + esbuild in JS_DIR; the caller holds the build lock."""
    npm = shutil.which("npm")
    node = shutil.which("node")
    if not npm or not node:
        raise RuntimeError("node and npm are needed to bundle @reactor-team/js-sdk for the JS29 tests")
    steps = [[npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], [node, "build.mjs"]]
    for cmd in steps:
        done = subprocess.run(cmd, cwd=JS_DIR, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd[:2])} failed in {JS_DIR}:\n{done.stderr[-2000:]}")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Static files with correct module MIME types and no request logging."""

    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, ".mjs": "text/javascript"}

    def log_message(self, format: str, *args: object) -> None:
        """Keep test output clean."""


@contextmanager
def serve_page() -> Iterator[str]:
    """Serve JS_DIR on 127.0.0.1 (ephemeral port); yield the page URL."""
    handler = functools.partial(_QuietHandler, directory=str(JS_DIR))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/page.html"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)

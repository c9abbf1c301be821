"""SDK helpers the magic uses instead of its own network code: image sources and runtime probing."""

from __future__ import annotations

import base64
import socket
from pathlib import Path

import pytest

from reactor_notebook.sdk.images import ImageSourceError, load_image_b64
from reactor_notebook.sdk.probe import probe_runtime


def test_load_image_b64_reads_png_files_and_names_what_is_wrong(tmp_path: Path) -> None:
    png = tmp_path / "a.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 8)
    assert base64.b64decode(load_image_b64(str(png))) == png.read_bytes()
    assert load_image_b64("data:image/png;base64,AAAA") == "data:image/png;base64,AAAA"
    (tmp_path / "b.txt").write_text("hello")
    with pytest.raises(ImageSourceError, match="not a PNG, JPEG or WebP"):
        load_image_b64(str(tmp_path / "b.txt"))
    with pytest.raises(ImageSourceError, match="is a directory"):
        load_image_b64(str(tmp_path))
    with pytest.raises(ImageSourceError, match=r"larger than 0 MB"):
        load_image_b64(str(png), max_bytes=4)


def test_probe_runtime_says_whether_a_loopback_server_listens() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        target = probe_runtime(f"http://127.0.0.1:{port}")
        assert (target.host, target.port, target.loopback, target.listening) == ("127.0.0.1", port, True, True)
    assert probe_runtime(f"http://127.0.0.1:{port}").listening is False
    with pytest.raises(ValueError, match="must look like"):
        probe_runtime("ftp://x")

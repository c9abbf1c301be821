"""Uploads through the real runtime (protocol.md §2.7): declare, PUT, ``fileUploaded``, then a command
referencing the upload by parameter name (Helios ``set_image`` with ``image``)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from testutil import Recorder

from reactor_notebook.runtime import LocalRuntime
from reactor_notebook.schema import CommandValidationError
from reactor_notebook.sdk import FileRef, NotReadyError, Reactor


@pytest.fixture(scope="module")
def helios() -> Iterator[LocalRuntime]:
    with LocalRuntime(model="helios", port=0) as rt:
        yield rt


def png(width: int = 200, height: int = 120) -> bytes:
    arr = np.zeros((height, width, 3), dtype=np.uint8)
    arr[:, : width // 2] = (200, 30, 30)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def image_events(rec: Recorder) -> list[dict]:
    out = []
    for m in rec.of("message"):
        data = m.get("data") if isinstance(m, dict) else None
        if m.get("type") == "image_accepted" or (isinstance(data, dict) and data.get("event") == "image_set"):
            out.append(data)
    return out


async def test_upload_then_set_image_by_reference(helios: LocalRuntime, tmp_path: object) -> None:
    r = Reactor("helios", local=True, local_url=helios.url)
    rec = Recorder().attach(r)
    with pytest.raises(NotReadyError):
        await r.upload_file(png())
    await r.connect()
    try:
        assert any(p.is_upload for c in r.commands if c.name == "set_image" for p in c.params)
        ref = await r.upload_file(png(), name="ref.png")
        assert isinstance(ref, FileRef) and ref.mime_type == "image/png" and ref.size > 0
        with pytest.raises(CommandValidationError) as info:
            await r.send_command("set_prompt", {"prompt": "x", "image": ref})
        assert info.value.reason == "unexpected_field" and info.value.field == "image"
        await r.send_command("set_image", {"image": ref, "transition": "cut"})
        await rec.await_(lambda: bool(image_events(rec)), what="image_set for the uploaded image")
        event = image_events(rec)[0]
        assert (event["width"], event["height"]) == (200, 120)
        assert not [
            m for m in rec.of("message") if "error" in str(m.get("type")) or "error" in str(m.get("data"))
        ]
        sent = [e for e in r.frames.timeline_entries() if e.kind == "command" and e.name == "set_image"]
        assert sent and sent[0].data["image"]["upload_id"] == ref.upload_id
        with pytest.raises(ValueError, match="empty"):
            await r.upload_file(b"")
    finally:
        await r.disconnect()


def test_upload_file_sync_from_a_path_then_set_image(helios: LocalRuntime, tmp_path: Path) -> None:
    """The blocking twin, as a notebook cell calls it: a file path, the name and MIME type taken from it."""
    path = tmp_path / "reference.png"
    path.write_bytes(png(160, 96))
    r = Reactor("helios", local=True, local_url=helios.url)
    rec = Recorder().attach(r)
    r.connect_sync()
    try:
        ref = r.upload_file_sync(path)
        assert isinstance(ref, FileRef) and ref.name == "reference.png" and ref.mime_type == "image/png"
        assert ref.size == path.stat().st_size and ref.upload_id
        uploaded = [e for e in r.frames.timeline_entries() if e.kind == "event" and e.name == "file_uploaded"]
        assert uploaded and uploaded[-1].data["upload_id"] == ref.upload_id
        r.send_command_sync("set_image", {"image": ref, "transition": "cut"})
        rec.wait(lambda: bool(image_events(rec)), 30, "image_set for the uploaded file")
        assert (image_events(rec)[0]["width"], image_events(rec)[0]["height"]) == (160, 96)
        with pytest.raises(FileNotFoundError):
            r.upload_file_sync(tmp_path / "missing.png")
    finally:
        r.disconnect_sync()

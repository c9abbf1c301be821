"""Upload-typed form fields: each file goes through the given upload function; bad submissions name the field."""

from __future__ import annotations

from typing import Any

import pytest

from reactor_notebook.schema import CommandSpec, CommandValidationError, ParamSpec
from reactor_notebook.widget.uploads import resolve_uploads

COMMANDS = [
    CommandSpec(
        "set_image",
        "",
        (
            ParamSpec("image_b64", "string", required=False),
            ParamSpec("image", "upload", required=False, is_upload=True),
            ParamSpec("transition", "string", required=False, default="cut"),
        ),
    )
]


class Uploads:
    """Records uploads and returns a marker reference, like ``upload_file_sync``."""

    def __init__(self, fail: Exception | None = None) -> None:
        self.calls: list[tuple[bytes, str, str | None]] = []
        self.fail = fail

    def __call__(self, data: bytes, *, name: str, mime_type: str | None) -> Any:
        if self.fail:
            raise self.fail
        self.calls.append((data, name, mime_type))
        return ("ref", name)


def msg(uploads: Any, args: Any = None) -> dict[str, Any]:
    return {
        "type": "command",
        "id": "c1",
        "name": "set_image",
        "args": args or {"transition": "blend"},
        "uploads": uploads,
    }


def test_upload_field_becomes_the_reference_returned_by_the_upload() -> None:
    up = Uploads()
    args = resolve_uploads(
        COMMANDS, msg({"image": {"buffer": 0, "name": "a.png", "mime_type": "image/png"}}), [b"PNG"], up
    )
    assert args == {"transition": "blend", "image": ("ref", "a.png")}
    assert up.calls == [(b"PNG", "a.png", "image/png")]


def test_no_uploads_leaves_args_alone() -> None:
    assert resolve_uploads(COMMANDS, msg(None), [], Uploads()) == {"transition": "blend"}


@pytest.mark.parametrize(
    ("uploads", "buffers", "field", "reason", "text"),
    [
        ({"image_b64": {"buffer": 0}}, [b"x"], "image_b64", "unexpected_field", "does not take an upload"),
        ({"image": {"buffer": 3}}, [b"x"], "image", "bad_request", "no file data for buffer 3"),
        ({"image": {"buffer": 0}}, [b""], "image", "invalid_value", "the file is empty"),
    ],
)
def test_bad_submissions_name_the_field(
    uploads: dict[str, Any], buffers: list[bytes], field: str, reason: str, text: str
) -> None:
    up = Uploads()
    with pytest.raises(CommandValidationError) as info:
        resolve_uploads(COMMANDS, msg(uploads), buffers, up)
    assert (info.value.field, info.value.reason) == (field, reason)
    assert text in str(info.value) and up.calls == []


def test_a_failed_upload_is_reported_by_field() -> None:
    up = Uploads(fail=RuntimeError("HTTP 413"))
    with pytest.raises(CommandValidationError) as info:
        resolve_uploads(COMMANDS, msg({"image": {"buffer": 0, "name": "big.png"}}), [b"x"], up)
    assert info.value.reason == "upload_failed" and info.value.field == "image"
    assert str(info.value) == "set_image: field 'image': upload of 'big.png' failed: HTTP 413"

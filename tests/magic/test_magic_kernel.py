"""%reactor inside a real Jupyter kernel: tab completion through complete_request, errors as UsageError."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from jupyter_client.manager import start_new_kernel
from kernel_support import run, stderr
from testutil import free_local_url

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def kernel() -> Iterator[Any]:
    km, kc = start_new_kernel(kernel_name="python3")
    try:
        yield kc
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def complete(kc: Any, code: str) -> list[str]:
    msg_id = kc.complete(code, len(code))
    reply = kc.get_shell_msg(timeout=30)
    while reply["parent_header"].get("msg_id") != msg_id:  # skip earlier execute replies
        reply = kc.get_shell_msg(timeout=30)
    content = reply["content"]
    start, end = content["cursor_start"], content["cursor_end"]
    assert end == len(code)
    return sorted(code[:start] + m for m in content["matches"])


def test_completion_and_errors_in_a_kernel(kernel: Any) -> None:
    url = free_local_url()
    run(kernel, "%load_ext reactor_notebook")
    assert "%reactor connect" in complete(kernel, "%reactor conn")
    msgs = run(kernel, f"%reactor connect --local --model testpattern --url {url}")
    text = "".join(m["content"].get("text", "") for m in msgs if m["msg_type"] == "stream")
    assert "ready: testpattern" in text, msgs
    assert complete(kernel, "%reactor set_co") == ["%reactor set_color"]
    assert complete(kernel, "%reactor set_color r=1 ") == [
        "%reactor set_color r=1 b=",
        "%reactor set_color r=1 g=",
    ]
    assert complete(kernel, "%%reactor\nstart\n@fr") == ["%%reactor\nstart\n@frame"]
    assert "%%reactor\nset_color" in complete(kernel, "%%reactor\nset_c")
    # IPython shows a UsageError as one short stderr line, no traceback
    err = stderr(run(kernel, "%reactor set_color r=1 g=2 b=300"))
    assert "UsageError: set_color: field 'b': value 300 is out of range (0 to 255)" in err
    assert "Traceback" not in err
    run(kernel, "%unload_ext reactor_notebook")
    assert "not found" in stderr(run(kernel, "%reactor status"))

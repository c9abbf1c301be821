"""Running code in a real Jupyter kernel and reading what the user sees (stdout, stderr, errors)."""

from __future__ import annotations

from typing import Any


def run(kc: Any, code: str) -> list[dict[str, Any]]:
    """Execute code; return the iopub messages of that execution."""
    msg_id = kc.execute(code)
    out = []
    while True:
        msg = kc.get_iopub_msg(timeout=60)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        out.append(msg)
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return out


def stdout(msgs: list[dict[str, Any]]) -> str:
    """Everything the execution printed to stdout."""
    return "".join(
        m["content"]["text"] for m in msgs if m["msg_type"] == "stream" and m["content"]["name"] == "stdout"
    )


def stderr(msgs: list[dict[str, Any]]) -> str:
    """Everything printed to stderr, plus the error values shown."""
    return "".join(
        m["content"]["text"] for m in msgs if m["msg_type"] == "stream" and m["content"]["name"] == "stderr"
    ) + "".join(m["content"].get("evalue", "") for m in msgs if m["msg_type"] == "error")

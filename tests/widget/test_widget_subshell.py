"""Comm routing helpers: pinning to the main shell and behaviour without a kernel."""

from __future__ import annotations

from typing import Any

from reactor_notebook.widget import subshell


class FakeComm:
    """Stands in for ipykernel's BaseComm, which routes replies to the subshell of the last sender."""

    def __init__(self) -> None:
        self._reply_subshell_id = "subshell-of-some-old-request"

    def _reply_subshell_for(self, data: Any, default: Any) -> Any:
        return getattr(self, "_reply_subshell_id", default)


def test_pin_to_main_shell_uses_the_frontends_choice() -> None:
    comm = FakeComm()
    assert comm._reply_subshell_for({}, None) == "subshell-of-some-old-request"
    subshell.pin_to_main_shell(comm)
    assert comm._reply_subshell_for({}, None) is None
    assert comm._reply_subshell_for({}, "frontend-subshell") == "frontend-subshell"


def test_without_a_kernel_nothing_is_routed() -> None:
    comm = FakeComm()
    assert not subshell.supports_subshells(comm)
    assert subshell.route_to_subshell(comm) is None
    subshell.release_subshell(comm, None)  # no-op
    subshell.pin_to_main_shell(None)  # tolerated

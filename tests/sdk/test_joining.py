"""Connecting tells the truth: a runtime serving another model is refused naming both, a local session
another client holds is joined with a warning (or refused with ``exclusive=True``), and the joiner
never stops the session it joined. Real runtime, real aiortc, loopback."""

from __future__ import annotations

import pytest

from reactor_notebook.runtime import LocalRuntime
from reactor_notebook.sdk import (
    ModelMismatchError,
    Reactor,
    ReactorStatus,
    SessionSharedError,
    SharedSessionWarning,
)

pytestmark = pytest.mark.timeout(60)


def test_a_runtime_serving_another_model_is_refused_naming_both(runtime: LocalRuntime) -> None:
    r = Reactor("helios", local=True, local_url=runtime.url)
    with pytest.raises(ModelMismatchError) as info:
        r.connect_sync()
    assert str(info.value).startswith(
        f"the runtime at {runtime.url} serves model 'testpattern', not 'helios': "
        "connect with Reactor('testpattern', local=True)"
    )
    assert r.get_status() is ReactorStatus.DISCONNECTED
    err = r.get_last_error()
    assert err is not None and "serves model 'testpattern', not 'helios'" in err.message


def test_second_client_is_told_it_shares_and_exclusive_refuses(runtime: LocalRuntime) -> None:
    first = Reactor("testpattern", local=True, local_url=runtime.url)
    first.connect_sync()
    try:
        assert first.shared_clients == 0
        with pytest.warns(SharedSessionWarning) as warned:
            second = Reactor("testpattern", local=True, local_url=runtime.url)
            second.connect_sync()
        assert second.shared_clients == 1
        assert str(warned[0].message).startswith(
            f"joined session 'local' at {runtime.url}, which 1 other client already uses (another notebook?)"
        )
        third = Reactor("testpattern", local=True, local_url=runtime.url, exclusive=True)
        with pytest.raises(SessionSharedError, match="already has 2 other clients attached"):
            third.connect_sync()
        # neither the refused client nor the joiner ends the first client's session
        second.disconnect_sync()
        seq = first.frames.seq
        assert first.frames.wait_next(seq, timeout=5) is not None
        assert first.get_status() is ReactorStatus.READY
        assert runtime.server.manager.get("local") is not None
    finally:
        first.disconnect_sync()


def test_disconnect_and_connect_clear_the_last_error(runtime: LocalRuntime) -> None:
    r = Reactor("testpattern", local=True, local_url=runtime.url)
    r.connect_sync()
    r._error("MESSAGE_SEND_FAILED", "an old failure")
    assert r.get_last_error() is not None
    r.disconnect_sync()
    assert r.get_last_error() is None
    r._error("MESSAGE_SEND_FAILED", "an old failure")
    r.connect_sync()
    try:
        assert r.get_last_error() is None
    finally:
        r.disconnect_sync()

"""The blocking ``*_sync`` twins of the Reactor's coroutines, made in one place.

A twin runs its coroutine method on the SDK's loop thread (:meth:`.loop.SdkLoop.run_sync`)
and blocks the calling thread until it finishes, so plain threads and notebook cells get
the same behaviour as ``await``. Two kinds of ``timeout`` exist: a twin *owns* its timeout
(an extra argument bounding only the wait, e.g. ``disconnect_sync(timeout=30)``), or the
coroutine takes ``timeout`` itself and ``wait`` derives the wait's bound from it.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class _Passed:
    """Sentinel: the coroutine takes ``timeout`` itself (the twin adds none)."""


PASSED: Any = _Passed()


def sync_twin(
    method: Callable[..., Coroutine[Any, Any, T]],
    *,
    timeout: float | _Passed | None = PASSED,
    wait: Callable[[Any, Any], float | None] | None = None,
    after: Callable[[Any], None] | None = None,
    doc: str | None = None,
) -> Callable[..., T]:
    """A blocking method that runs ``method(self, ...)`` on the SDK loop thread and returns its result.

    ``timeout=<default>``: the twin gains a ``timeout`` argument (that default) bounding the wait.
    Otherwise the coroutine's own ``timeout`` is passed on and ``wait(self, timeout)`` bounds the
    wait (unbounded without ``wait``). ``after(self)`` runs in the caller's thread on success.
    """
    sig = inspect.signature(method)
    own = not isinstance(timeout, _Passed)
    if own:
        params = list(sig.parameters.values())
        keyword_only = any(p.kind is p.KEYWORD_ONLY for p in params)
        kind = inspect.Parameter.KEYWORD_ONLY if keyword_only else inspect.Parameter.POSITIONAL_OR_KEYWORD
        params.append(inspect.Parameter("timeout", kind, default=timeout, annotation="float | None"))
        sig = sig.replace(parameters=params)

    def twin(self: Any, *args: Any, **kwargs: Any) -> T:
        """Run the coroutine on the SDK loop and block for its result (its help text is set below)."""
        bound = sig.bind(self, *args, **kwargs)
        bound.apply_defaults()
        arguments = dict(bound.arguments)
        if own:
            limit = arguments.pop("timeout")
        else:
            limit = None if wait is None else wait(self, arguments.get("timeout"))
        result = self._sdk.run_sync(method(**arguments), limit)
        if after is not None:
            after(self)
        return result

    functools.update_wrapper(twin, method)
    del twin.__wrapped__  # type: ignore[attr-defined]  # help() shows the twin's own signature
    twin.__signature__ = sig.replace(return_annotation=sig.return_annotation)  # type: ignore[attr-defined]
    twin.__name__ = twin.__qualname__ = f"{method.__name__.lstrip('_')}_sync"
    twin.__doc__ = doc or f"Blocking :meth:`{method.__name__}` for plain threads and notebook cells."
    return twin

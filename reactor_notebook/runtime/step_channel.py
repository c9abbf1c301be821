"""Wire v1 ``request_step`` → ``step_result`` for one connection (stepped sessions).

Refuses, like the reference runtime, a step when the session is not running (``NOT_READY``), is
not stepped, or the connection did not negotiate data-channel chunking (``REFUSED``: a result
would not fit one plain message), and any request whose entry fails its checks (``REFUSED``
naming the entry, nothing applied). Otherwise the step runs on the session's model thread, in
order with the commands that arrived before it, and its frames go back RAW RGB, one
``TrackFrames`` per output track. A refusal is a ``step_result`` without a step number, carrying
``failure_code`` and ``error``: the client is always answered, never left waiting.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from .. import protocol
from ..protocol import steps as wire
from . import stepping
from .stepping import StepOutput, Stepper, StepRefused, StepRequest

log = logging.getLogger(__name__)

Reply = Callable[[dict[str, Any]], None]
UPLOAD_WAIT_S = 2.0  # how long a step waits for an upload it references to be announced


def stepper_of(session: Any, model: Any, info: Any) -> Stepper:
    """The session's :class:`Stepper` (created on first use; step numbers count per session)."""
    stepper = getattr(session, "stepper", None)
    if stepper is None:
        stepper = Stepper(model, info.commands, info.tracks)
        session.stepper = stepper
    return stepper


def is_stepped(session: Any) -> bool:
    """Whether the session was started with ``generation: "stepped"``."""
    return getattr(session, "generation", None) == wire.STEPPED


async def answer_step(
    *,
    session: Any,
    model: Any,
    info: Any,
    running: bool,
    chunk_limit: int | None,
    body: dict[str, Any],
    resolve_uploads: Callable[[str, dict[str, Any]], dict[str, Any]] | None,
    reply: Reply,
) -> None:
    """Check, run and answer one ``request_step`` (``body``); ``reply`` gets the ``step_result`` dict."""
    try:
        limit = _check_can_step(session, running, chunk_limit)
        state, commands, media = wire.decode_request(body)
        request = StepRequest(state, commands, media)
        stepper = stepper_of(session, model, info)
        async with stepper.order:  # steps run in arrival order, even when one waits for an upload
            prepared = await _prepare(stepper, request, resolve_uploads)
            try:
                output = await session.worker.call(stepper.run, prepared)
            except RuntimeError as exc:  # the session closed under the step (its model thread is gone)
                raise StepRefused(
                    stepping.SESSION_ENDED, f"the session ended before the step finished ({exc})"
                ) from None
        size = sum(int(frames.nbytes) for frames in output.tracks.values())
        if size > limit:
            raise StepRefused(
                stepping.RESULT_TOO_LARGE,
                f"step {output.step}'s frames take {size} bytes, over this connection's {limit}-byte "
                "message limit (fewer frames per step or a smaller output size fits)",
            )
    except StepRefused as refused:
        log.info("step refused (%s): %s", refused.failure, refused.message)
        reply(wire.refusal(refused.failure, refused.message, refused.entry, refused.code))
        return
    except wire.StepWireError as exc:
        log.info("step refused (malformed request): %s", exc)
        reply(wire.refusal(stepping.REFUSED, str(exc), exc.entry))
        return
    reply(result_of(output))


def _check_can_step(session: Any, running: bool, chunk_limit: int | None) -> int:
    """Refuse a step the session or this connection cannot serve (the refusal says which and why).

    Returns the connection's message limit, which bounds the step's result."""
    if not running or session.worker is None:
        raise StepRefused(stepping.NOT_READY, "the session is not running a step yet")
    if not is_stepped(session):
        raise StepRefused(
            stepping.REFUSED,
            "this session is not stepped; start it with generation 'stepped' to request steps",
        )
    if chunk_limit is None:
        raise StepRefused(
            stepping.REFUSED,
            "this connection cannot carry a step's result; a stepped session needs a WebRTC "
            "connection that negotiated data-channel chunking (a=x-reactor-dc-chunking)",
        )
    return chunk_limit


async def _prepare(stepper: Stepper, request: StepRequest, resolve_uploads: Any) -> Any:
    """Check the request; an upload announced on ``control`` may trail the step on ``data``: wait for it."""
    deadline = asyncio.get_running_loop().time() + UPLOAD_WAIT_S
    while True:
        try:
            return stepper.prepare(request, resolve_uploads)
        except StepRefused as refused:
            if refused.code != "unknown_upload" or asyncio.get_running_loop().time() >= deadline:
                raise
        await asyncio.sleep(0.05)


def result_of(output: StepOutput) -> dict[str, Any]:
    """A ``StepResult`` dict: RAW RGB ``TrackFrames`` for each output track."""
    return wire.step_result(
        output.step,
        {name: list(frames) for name, frames in output.tracks.items()},
        output.elapsed,
        output.rate,
    )





def serve_step(dispatcher: Any, session: Any, peer: Any, request_id: str, body: dict[str, Any]) -> None:
    """A v1 ``request_step`` on ``data`` (from the v1 dispatch): answered by a task on the loop."""
    from ..protocol import v1

    manager = dispatcher.manager

    def reply(result: dict[str, Any]) -> None:
        """Send the ``step_result`` response on the peer's ``data`` channel, if it is still open."""
        channel = peer.channels.get("data")
        if channel is None or channel.readyState != "open":
            return
        frame = v1.encode_data_server({"request_id": request_id, "kind": protocol.KIND_RESPONSE, "step_result": result})
        try:
            channel.send(frame)
        except Exception as exc:  # the peer went away meanwhile
            log.info("connection %s: step result not sent: %s", peer.connection_id, exc)

    task = manager.loop.create_task(
        answer_step(
            session=session,
            model=manager.model,
            info=manager.info,
            running=session.ready,
            chunk_limit=getattr(peer, "chunk_limit", None),
            body=body,
            resolve_uploads=lambda command, uploads: dispatcher._resolve_uploads(session, command, uploads),
            reply=reply,
        ),
        name=f"reactor-step-{request_id}",
    )
    _TASKS.add(task)
    task.add_done_callback(_TASKS.discard)


_TASKS: set[Any] = set()  # running step answers (kept referenced until done)

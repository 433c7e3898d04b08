"""Pausing a flow run until someone resumes it, in this process or through the API.

A paused flow run registers a waiter under its id and blocks (or awaits);
``resume_flow_run(id, run_input)`` validates the input against the model
the run waits for and wakes it. Invalid input raises in the *resumer* and
the run keeps waiting. Cancelling the flow run wakes it with
`CancellationRequested`. Waits are real time (``threading.Event.wait`` /
``asyncio.wait``), so a test resumes from another thread rather than
advancing a clock.

Every pause has a ``pause_key`` (the user's ``key``, else the pause's number
in its run, as in Prefect 2), recorded in its ``Paused`` state. A resume
from another process (``remote_control``) stores a ``RUNNING`` state
carrying that key and the input; this process's watcher hands it to
`resume_from_api`, which validates the input here, where the model is. Invalid
input cannot raise in the resumer then: the run logs the errors, records
``Paused`` again and keeps waiting.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, overload

from headwater._private.context import flow_run_ctx, in_async_run_on_loop, task_run_ctx
from headwater._private.run_records import FlowRun
from headwater._private.suspending import suspend_here, suspend_other, suspend_target
from headwater.exceptions import (
    AsyncContextError,
    CancellationRequested,
    FlowPauseError,
    FlowPauseTimeout,
    MissingContextError,
    ObjectNotFound,
    RunInputError,
)

__all__ = ["forget_flow_run", "pause_flow_run", "pause_flow_run_async", "paused_flow_run_ids",
           "resume_flow_run", "resume_flow_run_async", "resume_from_api", "suspend_flow_run",
           "suspend_flow_run_async"]

if TYPE_CHECKING:
    from headwater._private.states import State

T = TypeVar("T")
_lock = threading.Lock()
_waiters: dict[uuid.UUID, _Waiter] = {}
_resumed: dict[tuple[uuid.UUID, str], Any] = {}  # (run id, key) -> input, for keyed pauses
_pauses: dict[uuid.UUID, int] = {}  # run id -> pauses so far (numbers unkeyed pauses)


class _Waiter:
    __slots__ = ("key", "logger", "model", "outcome", "pause_key", "rejected", "run", "state",
                 "value", "wake")

    def __init__(self, run: FlowRun, model: Any, key: str | None) -> None:
        self.run = run
        self.model = model
        self.key = key  # the user's key: pause once per key
        self.pause_key = key  # recorded in the Paused state; numbered when key is None
        self.outcome: str | None = None  # "resumed", "cancelled" or "timeout"
        self.value: Any = None
        self.wake: Callable[[], None] = _noop
        self.state: State[Any] | None = None  # the Paused state, once set
        # The run's logger, for what happens in the watcher's thread (no run context there).
        self.logger: logging.LoggerAdapter[Any] | None = None
        self.rejected: set[str] = set()  # stored resume states whose input was invalid


def _noop() -> None:
    return None


def _finish(run_id: uuid.UUID, waiter: _Waiter, outcome: str, value: Any = None) -> bool:
    """Settle the waiter once; False if it was settled already (resume/timeout race)."""
    with _lock:
        if waiter.outcome is not None:
            return False
        waiter.outcome, waiter.value = outcome, value
        if _waiters.get(run_id) is waiter:
            del _waiters[run_id]
        if outcome == "resumed" and waiter.key is not None:
            _resumed[(run_id, waiter.key)] = value
    waiter.wake()
    return True


def _current_flow_run(twin: str) -> FlowRun:
    ctx = flow_run_ctx.get()
    if ctx is None:
        raise MissingContextError(f"{twin}() must be called inside a flow run.")
    if task_run_ctx.get() is not None:
        raise FlowPauseError(
            f"{twin}() pauses a flow run from the flow's own code; it cannot be called inside "
            "a task run (Prefect 2 forbids it too). Raise headwater.signals.Pause in a task to "
            "end that task Paused.")
    return ctx.flow_run


def _begin(run: FlowRun, model: Any, key: str | None, timeout: float) -> _Waiter:
    from headwater._private.engine.transitions import details_for, set_state
    from headwater._private.run_logging import get_run_logger
    from headwater._private.states import Paused

    waiter = _Waiter(run, model, key)
    with _lock:
        if run.id in _waiters:
            raise FlowPauseError(f"Flow run {run.id} is paused already.")
        number = _pauses[run.id] = _pauses.get(run.id, 0) + 1
        if key is None:
            waiter.pause_key = str(number)
        _waiters[run.id] = waiter
    state = set_state(run, Paused(timeout, pause_key=waiter.pause_key,
                                  state_details=details_for(run)))
    logger = get_run_logger()
    with _lock:
        waiter.state, waiter.logger = state, logger
    logger.info(
        f"Paused; waiting up to {timeout:g} second(s) for resume_flow_run({str(run.id)!r}).")
    return waiter


def _end(run: FlowRun, waiter: _Waiter, timeout: float) -> Any:
    from headwater._private.engine.transitions import details_for, set_state
    from headwater._private.states import Running

    _finish(run.id, waiter, "timeout")  # no-op when resumed or cancelled first
    set_state(run, Running(state_details=details_for(run)))
    if waiter.outcome == "cancelled":
        raise CancellationRequested(run.id, waiter.value)
    if waiter.outcome == "timeout":
        raise FlowPauseTimeout(
            f"Flow run was paused and never resumed (timeout {timeout:g} second(s)).")
    return waiter.value


def _on_cancel(run: FlowRun, waiter: _Waiter) -> Callable[[], None]:
    from headwater._private.cancellation import get_scope

    scope = get_scope(run.id)
    if scope is None:
        return _noop

    def cancelled() -> None:
        _finish(run.id, waiter, "cancelled", scope.reason)

    return scope.add_callback(cancelled)


def _already_resumed(run: FlowRun, key: str | None) -> tuple[bool, Any]:
    if key is None:
        return False, None
    with _lock:
        found = (run.id, key) in _resumed
        return found, _resumed.get((run.id, key))


@overload
def pause_flow_run(wait_for_input: None = None, flow_run_id: uuid.UUID | str | None = None,
                   timeout: float = 3600, poll_interval: float = 10, reschedule: bool = False,
                   key: str | None = None) -> None: ...


@overload
def pause_flow_run(wait_for_input: type[T], flow_run_id: uuid.UUID | str | None = None,
                   timeout: float = 3600, poll_interval: float = 10, reschedule: bool = False,
                   key: str | None = None) -> T: ...


def pause_flow_run(wait_for_input: type[Any] | None = None,
                   flow_run_id: uuid.UUID | str | None = None, timeout: float = 3600,
                   poll_interval: float = 10, reschedule: bool = False,
                   key: str | None = None) -> Any:
    """Pause the current (sync) flow run until `resume_flow_run` is called for it.

    The run's state is ``Paused`` meanwhile and ``Running`` again afterwards.
    Another thread, task or process resumes it; see `resume_flow_run`.

    Args:
        wait_for_input: A `headwater.input.RunInput` subclass, a pydantic
            model, or any type pydantic validates (``int``, ``str``...): the
            resumer must supply it, and its validated value is returned.
        flow_run_id: Pause another flow run instead, as Prefect 2 does: by
            rescheduling it, which needs a deployment (see Raises).
        timeout: Seconds to wait before giving up.
        poll_interval: Accepted for Prefect 2 compatibility; a resume wakes the
            run at once.
        reschedule: End the process and resume the run in a new one, as
            Prefect 2 does; needs a deployment (see Raises).
        key: Pause only once per key in this flow run: pausing again with a
            key already resumed returns at once (with the same input). Without
            a key, each pause is numbered and pauses anew.

    Returns:
        The validated input, or None without ``wait_for_input``.

    Raises:
        FlowPauseTimeout: Nobody resumed the run within ``timeout``.
        MissingContextError: Called outside a flow run (without ``flow_run_id``).
        FlowPauseError: Called inside a task run; or ``reschedule=True`` or
            ``flow_run_id`` given, for a run without a deployment (every run
            until deployments are available) or a subflow run, with Prefect
            2's message; or ``flow_run_id`` with ``wait_for_input``.
        AsyncContextError: Called from async flow code; use `pause_flow_run_async`.
        CancellationRequested: The flow run was cancelled while paused.
    """
    del poll_interval
    if flow_run_id is not None:
        return _pause_other(flow_run_id, wait_for_input, reschedule, key, timeout)
    run = _current_flow_run("pause_flow_run")
    if in_async_run_on_loop():
        raise AsyncContextError("pause_flow_run() would block the event loop of this async "
                                "flow; use 'await pause_flow_run_async(...)' instead.")
    done, value = _already_resumed(run, key)
    if done:
        return value
    if reschedule:
        return _suspend(run, "pause", wait_for_input, key, timeout)
    waiter = _begin(run, wait_for_input, key, timeout)
    event = threading.Event()
    waiter.wake = event.set
    remove = _on_cancel(run, waiter)
    try:
        if waiter.outcome is None:
            event.wait(timeout)
    finally:
        remove()
    return _end(run, waiter, timeout)


def _suspend(run: FlowRun, verb: str, model: Any, key: str | None,
             timeout: float | None) -> Any:
    """A pause that ends the process (see ``suspending.suspend_here``); numbered like others."""
    with _lock:
        number = _pauses[run.id] = _pauses.get(run.id, 0) + 1
    return suspend_here(run, verb, pause_key=key if key is not None else str(number),
                        timeout=timeout, model=model, load=_validate)


def _pause_other(flow_run_id: uuid.UUID | str, wait_for_input: Any, reschedule: bool,
                 key: str | None = None, timeout: float | None = 3600) -> None:
    """``pause_flow_run(flow_run_id=...)``: Prefect 2's checks, in its order."""
    if wait_for_input is not None:
        raise FlowPauseError("Cannot wait for input when pausing out of process. (headwater: "
                             "only the paused run's own pause_flow_run() can receive input.)")
    if reschedule:
        raise FlowPauseError(
            "Pausing a flow run out of process requires the `reschedule` option set to True. "
            "(Prefect 2 says this when reschedule=True is passed: leave reschedule unset, "
            "or use suspend_flow_run(flow_run_id=...).)")
    suspend_other(flow_run_id, "pause", key=key, timeout=timeout,
                  paused_here=paused_flow_run_ids())


async def pause_flow_run_async(wait_for_input: type[Any] | None = None,
                               flow_run_id: uuid.UUID | str | None = None,
                               timeout: float = 3600, poll_interval: float = 10,
                               reschedule: bool = False, key: str | None = None) -> Any:
    """Async twin of `pause_flow_run`, for async flows: waits without blocking the loop."""
    del poll_interval
    if flow_run_id is not None:
        return await asyncio.to_thread(_pause_other, flow_run_id, wait_for_input, reschedule,
                                       key, timeout)
    run = _current_flow_run("pause_flow_run_async")
    done, value = _already_resumed(run, key)
    if done:
        return value
    if reschedule:
        return await asyncio.to_thread(_suspend, run, "pause", wait_for_input, key, timeout)
    waiter = _begin(run, wait_for_input, key, timeout)
    loop = asyncio.get_running_loop()
    future: asyncio.Future[None] = loop.create_future()

    def wake() -> None:
        try:
            loop.call_soon_threadsafe(_resolve, future)
        except RuntimeError:
            pass  # the loop is closed: nobody is waiting any more

    waiter.wake = wake
    remove = _on_cancel(run, waiter)
    try:
        if waiter.outcome is None:
            await asyncio.wait({future}, timeout=timeout)
    finally:
        remove()
        _finish(run.id, waiter, "timeout")
    return _end(run, waiter, timeout)


def suspend_flow_run(wait_for_input: type[Any] | None = None,
                     flow_run_id: uuid.UUID | str | None = None, timeout: float | None = 3600,
                     key: str | None = None, client: Any = None) -> Any:
    """Suspend a flow run: end its process and resume it later in a new one (Prefect 2's).

    Suspending needs the run's deployment to start it again, and headwater
    has no deployments yet: for the current run this raises Prefect 2's
    error for a run without a deployment, after its other checks (in a task
    run, outside a flow, a key already resumed, a subflow). To wait for a
    resume in this process, use `pause_flow_run`.

    Args:
        wait_for_input: As for `pause_flow_run`.
        flow_run_id: Suspend another flow run; None: the current one.
        timeout: Seconds the run may stay suspended.
        key: Suspend only once per key in the current run (see `pause_flow_run`).
        client: Accepted for Prefect 2 compatibility (its injected API client).

    Returns:
        For a key already resumed, its input; for another run that is
        paused already, None (as Prefect 2).

    Raises:
        FlowPauseError: In a task run; the run is a subflow, has no
            deployment, or (another run) is not running.
        MissingContextError: Outside a flow run without ``flow_run_id``.
        ObjectNotFound: ``flow_run_id`` names no known flow run.
    """
    del client
    if flow_run_id is not None:
        suspend_other(flow_run_id, "suspend", key=key, timeout=timeout,
                      paused_here=paused_flow_run_ids())
        return None
    run = suspend_target("suspend_flow_run")
    done, value = _already_resumed(run, key)
    if done:
        return value
    return _suspend(run, "suspend", wait_for_input, key, timeout)


async def suspend_flow_run_async(wait_for_input: type[Any] | None = None,
                                 flow_run_id: uuid.UUID | str | None = None,
                                 timeout: float | None = 3600, key: str | None = None,
                                 client: Any = None) -> Any:
    """Async twin of `suspend_flow_run` (reads another run through the API off the loop)."""
    return await asyncio.to_thread(suspend_flow_run, wait_for_input, flow_run_id, timeout,
                                   key, client)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _validate(model: Any, run_input: Any) -> Any:
    from pydantic import BaseModel, TypeAdapter, ValidationError

    try:
        if isinstance(model, type) and issubclass(model, BaseModel):
            return model.model_validate(run_input if run_input is not None else {})
        if isinstance(run_input, dict) and set(run_input) == {"value"}:
            # Prefect 2 wraps a plain type in a model with one field, ``value``.
            run_input = run_input["value"]
        return TypeAdapter(model).validate_python(run_input)
    except ValidationError as exc:
        name = getattr(model, "__name__", repr(model))
        raise RunInputError(
            f"run_input does not match {name}; the flow run keeps waiting.\n{exc}") from None


def _checked_input(run_id: uuid.UUID, waiter: _Waiter, run_input: Any) -> Any:
    """The input validated for ``waiter``; raises `RunInputError` when it does not fit."""
    if waiter.model is not None:
        return _validate(waiter.model, run_input)
    if run_input is not None:
        raise RunInputError(f"Flow run {run_id} does not wait for input (pause_flow_run was "
                            "called without wait_for_input); resume it without run_input.")
    return None


def _local_waiter(flow_run_id: uuid.UUID | str) -> tuple[uuid.UUID, _Waiter | None]:
    from headwater._private.cancellation import as_run_id

    run_id = as_run_id(flow_run_id)
    with _lock:
        return run_id, _waiters.get(run_id)


def _resume_local(run_id: uuid.UUID, waiter: _Waiter, run_input: Any) -> None:
    value = _checked_input(run_id, waiter, run_input)
    if not _finish(run_id, waiter, "resumed", value):
        raise ObjectNotFound(f"Flow run {run_id} stopped waiting (timed out or cancelled).")


def resume_flow_run(flow_run_id: uuid.UUID | str, run_input: Any = None) -> None:
    """Resume a paused flow run, in this process or another, giving it ``run_input``.

    A run paused in this process wakes at once. A run paused in another
    process is resumed through the API (``HEADWATER_API_URL``, or the local
    database): its state becomes ``Running`` with the input, and the process
    running it notices within ``HEADWATER_FLOW_RUN_WATCH_INTERVAL`` seconds.

    Args:
        flow_run_id: The paused flow run's id.
        run_input: A dict (or model instance) validated against the paused
            run's ``wait_for_input`` model. For a run in another process it
            must be JSON-serialisable, and is validated there.

    Raises:
        ObjectNotFound: No flow run with this id is paused here, nor is
            recorded in the API.
        NotPausedError: The run (in another process) is not paused.
        RunInputError: The input does not validate (the message lists the
            errors); the run keeps waiting. Also raised when input is given to
            a run that waits for none. For a run in another process, that
            process logs these errors instead, and its run keeps waiting.
    """
    run_id, waiter = _local_waiter(flow_run_id)
    if waiter is not None:
        _resume_local(run_id, waiter, run_input)
        return
    from headwater._private.remote_control import resume_through_api

    resume_through_api(run_id, run_input)


async def resume_flow_run_async(flow_run_id: uuid.UUID | str, run_input: Any = None) -> None:
    """Async twin of `resume_flow_run`: asks the API without blocking the event loop."""
    run_id, waiter = _local_waiter(flow_run_id)
    if waiter is not None:
        _resume_local(run_id, waiter, run_input)
        return
    from headwater._private.remote_control import resume_through_api_async

    await resume_through_api_async(run_id, run_input)


def paused_flow_run_ids() -> list[uuid.UUID]:
    """Return the ids of the flow runs paused in this process."""
    with _lock:
        return list(_waiters)


def resume_from_api(flow_run_id: uuid.UUID, pause_key: Any, state_id: str,
                    details: dict[str, Any]) -> bool:
    """Resume a paused run for a ``RUNNING`` state another process stored (the watcher's call).

    Args:
        flow_run_id: The run.
        pause_key: The key of the pause the stored state resumes; another
            pause (an earlier one, or the next) is left alone.
        state_id: The stored state's id: an input rejected once is not
            looked at again.
        details: The stored state's ``state_details`` (``run_input`` when given).

    Returns:
        True when the run was woken.
    """
    with _lock:
        waiter = _waiters.get(flow_run_id)
    if (waiter is None or waiter.state is None or waiter.pause_key != pause_key
            or state_id in waiter.rejected):
        return False
    try:
        value = _checked_input(flow_run_id, waiter, details.get("run_input"))
    except RunInputError as exc:
        _reject(waiter, state_id, exc)
        return False
    return _finish(flow_run_id, waiter, "resumed", value)


def _reject(waiter: _Waiter, state_id: str, exc: RunInputError) -> None:
    """Keep waiting after invalid input from the API, and record ``Paused`` again."""
    from headwater._private.engine.transitions import details_for, set_state
    from headwater._private.states import Paused

    old, logger = waiter.state, waiter.logger
    assert old is not None and logger is not None  # set before the watcher may see the pause
    message = f"Resumed through the API, but {exc}"
    with _lock:  # not after a timeout or a cancel already moved the run on
        waiter.rejected.add(state_id)
        if waiter.outcome is not None:
            return
        waiter.state = set_state(waiter.run, Paused(
            pause_expiration_time=old.state_details.pause_timeout, pause_key=waiter.pause_key,
            message=message, state_details=details_for(waiter.run)))
    logger.error(message)


def forget_flow_run(flow_run_id: uuid.UUID) -> None:
    """Drop what is remembered about a finished flow run's pauses."""
    with _lock:
        if _pauses.pop(flow_run_id, None) is None:
            return  # never paused: nothing else to forget
        for found in [k for k in _resumed if k[0] == flow_run_id]:
            del _resumed[found]

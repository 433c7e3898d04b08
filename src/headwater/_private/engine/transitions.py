"""State bookkeeping shared by both machines: apply a run's state, turn outcomes into states."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from headwater._private import recording
from headwater._private.collections import collect_upstreams, resolve
from headwater._private.futures import HeadwaterFuture, HeadwaterFutureList
from headwater._private.run_records import FlowRun, TaskRun
from headwater._private.sigterm import termination_requested
from headwater._private.states import (
    TERMINAL_TYPES,
    Cancelled,
    Crashed,
    State,
    StateDetails,
    StateType,
    aggregate_states,
    is_state_iterable,
)
from headwater.exceptions import CancellationRequested, CancelledRun, TerminationSignal


def apply_state(run: TaskRun | FlowRun, state: State[Any]) -> State[Any]:
    """Make ``state`` the run's current state in memory, stamping ids and times.

    The machines call this and yield a ``Record`` step for the outside world.
    """
    details = state.state_details
    if isinstance(run, TaskRun):
        if details.task_run_id is None:
            details.task_run_id = run._id
            details.flow_run_id = run._flow_run_id
    elif details.flow_run_id is None:
        details.flow_run_id = run._id
    run._state = state
    kind = state.type
    if kind is StateType.RUNNING and run._start_time is None:
        run._start_time = state.timestamp
    elif kind in TERMINAL_TYPES:
        run._end_time = state.timestamp
    return state


def set_state(run: TaskRun | FlowRun, state: State[Any]) -> State[Any]:
    """:func:`apply_state`, then record the transition (for code outside the machines)."""
    apply_state(run, state)
    recorder = recording.ACTIVE
    if recorder is not None:
        recorder.state_set(run._id, isinstance(run, TaskRun), state)
    return state


def details_for(run: TaskRun | FlowRun) -> StateDetails:
    """Return fresh state details pointing at ``run``."""
    if isinstance(run, TaskRun):
        return StateDetails(task_run_id=run._id, flow_run_id=run._flow_run_id)
    return StateDetails(flow_run_id=run._id)


def crash_state(exc: BaseException) -> State[Any]:
    """Return the state for a run stopped by its environment rather than its code."""
    if isinstance(exc, CancellationRequested):
        message = exc.reason or "The flow run was cancelled."
        return Cancelled(data=CancelledRun(message), message=message)
    if isinstance(exc, asyncio.CancelledError):
        terminating = termination_requested()
        if terminating is None:
            return Cancelled(data=exc,
                             message="Execution was cancelled by the runtime environment.")
        # SIGTERM cancelled the asyncio task awaiting a top-level async run
        # (see headwater._private.sigterm): a crash, as in a sync run.
        exc = TerminationSignal(terminating.signal)
    if isinstance(exc, KeyboardInterrupt):
        message = "Execution was aborted by an interrupt signal."
    elif isinstance(exc, SystemExit):
        message = "Execution was aborted by Python system exit call."
    elif isinstance(exc, TerminationSignal):
        message = "Execution was aborted by a termination signal."
    else:
        message = f"Execution was interrupted by an unexpected exception: {exc!r}"
    return Crashed(data=exc, message=message)


def returned_futures(value: Any) -> list[HeadwaterFuture[Any]]:
    """Return every future inside a flow's returned value (nested in lists, dicts...)."""
    if isinstance(value, HeadwaterFuture):
        return [value]
    return [f for f, _ in collect_upstreams((value,), {}) if isinstance(f, HeadwaterFuture)]


def resolve_futures_to_states(value: Any, futures: list[HeadwaterFuture[Any]]) -> Any:
    """Return ``value`` with its (final) ``futures`` replaced by their states, as Prefect 2.

    ``futures`` is :func:`returned_futures` of ``value``; with none, ``value``
    is returned untouched. The list ``map()`` returns becomes a plain list.
    """
    if not futures:
        return value

    def state_of(item: Any) -> Any:
        return item.get_state() if isinstance(item, HeadwaterFuture) else item

    resolved = resolve(value, state_of)
    if isinstance(resolved, HeadwaterFutureList):
        return list(resolved)
    return resolved


def returned_state(value: Any) -> State[Any] | None:
    """Return the state a run's returned value stands for (Prefect 2's rule), or None.

    * A State made by the user (no run ids: ``Completed(message=...)``) is
      used as given; its data is the run's result.
    * A State of another run, or a non-empty list, tuple or set of States,
      gives the aggregate state (Completed when all completed, ...) whose
      data is the returned value itself: the caller gets the State(s) back.
    * Anything else is plain data: None.

    Futures are not looked at here: a flow resolves them to their states
    first (:func:`resolve_futures_to_states`); a task returns them as data,
    as in Prefect 2. Plain values cost one or two type checks.
    """
    if isinstance(value, State):
        details = value.state_details
        if details.flow_run_id is None and details.task_run_id is None:
            return value
        return _aggregate([value], value)
    if isinstance(value, (list, tuple, set)) and is_state_iterable(value):
        return _aggregate(list(value), value)
    return None


def _aggregate(states: list[State[Any]], data: Any) -> State[Any]:
    state = aggregate_states(states)
    if state.type is StateType.RUNNING:
        # Some states are not final: Prefect 2 fails the run ("1/1 states are not final.").
        state = State(StateType.FAILED, message=state.message)
    state.data = data
    return state


def timeout_error_factory(cls: type[TimeoutError], kind: str,
                          seconds: float) -> Callable[[], BaseException]:
    """Return a factory for the error a run gets at its deadline (marked as the engine's)."""
    def make() -> BaseException:
        exc = cls(f"{kind} run exceeded timeout of {float(seconds)} seconds")
        exc._headwater_timeout = True  # type: ignore[attr-defined]
        return exc

    return make


def timed_out_message(error: BaseException) -> str:
    """The TimedOut state's message, word for word Prefect 2's.

    Prefect 2 writes its reason, then the ``TimeoutError`` it raises (which
    has no text of its own): ``Task run exceeded timeout of 0.1 seconds
    TimeoutError: ``. headwater's error carries the reason as its text, so
    the reason is not repeated.
    """
    return f"{error} TimeoutError: "


def is_engine_timeout(error: Any) -> bool:
    """Return True for an error made by :func:`timeout_error_factory` (not the user's)."""
    return getattr(error, "_headwater_timeout", False) is True

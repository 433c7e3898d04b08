"""State bookkeeping shared by both machines: apply a run's state, turn outcomes into states."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from headwater._private import recording
from headwater._private.futures import HeadwaterFuture
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


def future_targets(value: Any) -> list[HeadwaterFuture[Any]]:
    """Return the unfinished futures a returned value stands for (a future or a list of them)."""
    if isinstance(value, HeadwaterFuture):
        return [value] if not value.done() else []
    if isinstance(value, (list, tuple, set)) and value and all(
        isinstance(v, (HeadwaterFuture, State)) for v in value
    ):
        return [v for v in value if isinstance(v, HeadwaterFuture) and not v.done()]
    return []


def returned_state(value: Any) -> State[Any] | None:
    """Return the state a returned value stands for, or None for plain data.

    A State is used as is; a future gives its final state; a non-empty list,
    tuple or set of States and futures is aggregated with Prefect 2's rules.
    """
    if isinstance(value, State):
        return value
    if isinstance(value, HeadwaterFuture):
        return value.get_state()
    if isinstance(value, (list, tuple, set)) and value and all(
        isinstance(v, (HeadwaterFuture, State)) for v in value
    ):
        states = [v.get_state() if isinstance(v, HeadwaterFuture) else v for v in value]
        if is_state_iterable(states):
            return aggregate_states(states)
    return None


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

"""The flow run state machine (sans I/O).

Parameters validated -> Running (on_running hooks) -> body called -> every
child run waited for -> final state by Prefect 2's rules:

* the body raised: Failed (TimedOut past ``timeout_seconds``);
* it returned a State, a future, or a list of them: that state, aggregated;
* it returned a value: Completed with that value;
* it returned None: aggregated over every child task and subflow run.

Failed with retries left -> AwaitingRetry -> body again. Then hooks by final
state type. Interrupts give Crashed (on_crashed), asyncio cancellation gives
Cancelled (on_cancellation); both are re-raised after the hooks.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import logging
import uuid
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

from headwater._private.engine.steps import (
    Call,
    PersistResult,
    RunHooks,
    Sleep,
    Step,
    WaitChildren,
    WaitFutures,
)
from headwater._private.engine.transitions import (
    crash_state,
    details_for,
    future_targets,
    is_engine_timeout,
    returned_state,
    set_state,
    timeout_error_factory,
)
from headwater._private.parameters import call_arguments, validate_parameters
from headwater._private.results.plan import flow_result_plan
from headwater._private.states import (
    AwaitingRetry,
    Completed,
    Failed,
    Retrying,
    State,
    StateType,
    aggregate_states,
    now,
)
from headwater.exceptions import (
    CancellationRequested,
    FlowRunTimeoutError,
    ParameterTypeError,
    SerializationError,
    UpstreamTaskError,
)

if TYPE_CHECKING:
    from headwater._private.engine.jobs import FlowJob

Machine = Generator[Step, Any, State[Any]]

_HOOKS_BY_TYPE = {
    StateType.COMPLETED: "on_completion",
    StateType.FAILED: "on_failure",
    StateType.CANCELLED: "on_cancellation",
    StateType.CRASHED: "on_crashed",
}


def flow_machine(job: FlowJob) -> Machine:
    """Drive one flow run from Pending to a final state; see the module docstring."""
    run = job.run
    try:
        state = yield from _run(job)
    except BaseException as exc:
        cancelled = job.cancelled() and isinstance(
            exc, (CancellationRequested, asyncio.CancelledError))
        if cancelled and not isinstance(exc, CancellationRequested):
            exc = CancellationRequested(run.id, job.run_context._scope.reason)
        state = set_state(run, crash_state(exc))
        job.log(logging.ERROR, f"Finished in state {state!r}")
        hooks = getattr(job.flow.options, _HOOKS_BY_TYPE[state.type])
        if hooks:
            yield RunHooks("flow", hooks, (job.flow, run, state))
        if cancelled and not job.parent_cancelled():
            # This run was cancelled, its caller was not: report the Cancelled
            # state (calling the flow raises CancelledRun) instead of stopping
            # the caller with a BaseException.
            return state
        raise
    job.log(logging.INFO if state.type is StateType.COMPLETED else logging.ERROR,
            f"Finished in state {state!r}")
    option = _HOOKS_BY_TYPE.get(state.type)
    hooks = getattr(job.flow.options, option) if option else ()
    if hooks:
        yield RunHooks("flow", hooks, (job.flow, run, state))
    return state


def _run(job: FlowJob) -> Generator[Step, Any, State[Any]]:
    run, opts = job.run, job.flow.options
    if opts.validate_parameters:
        try:
            run._parameters = validate_parameters(job.flow, run._parameters or {})
        except ParameterTypeError as exc:
            job.log(logging.ERROR, str(exc))
            return set_state(run, Failed(
                data=exc, message=f"Validation of flow parameters failed with error: {exc}",
                state_details=details_for(run)))
    args, kwargs = call_arguments(job.flow, run._parameters or {})
    set_state(run, State(StateType.RUNNING, state_details=details_for(run)))
    if opts.on_running:
        yield RunHooks("flow", opts.on_running, (job.flow, run, run._state))
    timeout = opts.timeout_seconds
    on_timeout = (timeout_error_factory(FlowRunTimeoutError, "Flow", timeout)
                  if timeout is not None else None)
    while True:
        run._run_count += 1
        ok, value = yield Call(job.body(), args, kwargs, timeout, on_timeout)
        if not ok and not isinstance(value, Exception):
            raise value  # interrupts and cancellation: crash path in flow_machine
        if job.cancelled():
            # The body may have caught a cancelled task's error: the run is
            # cancelled all the same, once its children have stopped.
            yield WaitChildren(job.run_context._tracker)
            raise CancellationRequested(job.run.id, job.run_context._scope.reason)
        timed_out = not ok and is_engine_timeout(value)
        if not timed_out:
            # Nothing is orphaned: the flow ends after every child run it started.
            yield WaitChildren(job.run_context._tracker)
        if ok:
            state = yield from _state_from_return(job, value)
        elif timed_out:
            state = Failed(data=value, name="TimedOut", message=str(value),
                           state_details=details_for(run))
        else:
            state = Failed(
                data=value,
                message=f"Flow run encountered an exception. {type(value).__name__}: {value}",
                state_details=details_for(run),
            )
            job.log(logging.ERROR, "Encountered exception during execution:", exc=value)
        if state.type is StateType.FAILED and run._run_count <= opts.retries:
            delay = float(opts.retry_delay_seconds or 0)
            set_state(run, AwaitingRetry(now() + _dt.timedelta(seconds=delay),
                                         message=state.message, state_details=details_for(run)))
            job.log(logging.INFO, f"Received non-final state 'AwaitingRetry' when proposing "
                    f"final state {state!r} and will attempt to run again...")
            if delay:
                yield Sleep(delay)
            job.run_context._tracker.reset()
            set_state(run, Retrying(state_details=details_for(run)))
            continue
        return set_state(run, state)


def _completed_with(job: FlowJob, value: Any) -> Generator[Step, Any, State[Any]]:
    """The Completed state for a returned value, persisted if the flow's options say so."""
    state = Completed(data=value, state_details=details_for(job.run))
    plan = flow_result_plan(job.flow.options)
    if plan is None:
        return state
    storage, serializer = plan
    ok, answer = yield PersistResult(value, storage, serializer, uuid.uuid4().hex, None, None,
                                     None)
    if not ok:
        error = SerializationError(
            f"Flow {job.flow.name!r} returned a {type(value).__name__} that could not be "
            f"persisted with the {serializer.type!r} serializer to {storage.url} "
            f"({type(answer).__name__}: {answer}). Set persist_result=False to keep the "
            "result in memory only, or pick another result_serializer.")
        job.log(logging.ERROR, str(error))
        return Failed(data=error, message=f"Flow run encountered an exception. {error}",
                      state_details=details_for(job.run))
    if not job.flow.options.cache_result_in_memory:
        state.data = answer  # the ResultRecord; state.result() loads it on demand
    return state


def _state_from_return(job: FlowJob, value: Any) -> Generator[Step, Any, State[Any]]:
    waiting = future_targets(value)
    if waiting:
        yield WaitFutures(waiting)
    state = returned_state(value)
    if state is None:
        if value is not None:
            return (yield from _completed_with(job, value))
        children = job.run_context._tracker.summaries(job.flow.options.reference_tasks)
        if not children:
            return Completed(state_details=details_for(job.run))
        state = aggregate_states(children)
    if not state.is_final():
        # A flow run must end final: a NotReady or paused result is a failure
        # of this run, and says why.
        reason = state.message or f"a {state.name} state"
        return Failed(data=UpstreamTaskError(reason), state_details=details_for(job.run),
                      message=f"Flow run did not reach a final state: {reason}")
    return state.copy(state_details=details_for(job.run))

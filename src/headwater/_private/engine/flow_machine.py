"""The flow run state machine (sans I/O).

Parameters validated -> Running (on_running hooks) -> body called -> every
child run waited for -> final state by Prefect 2's rules:

* the body raised: Failed (TimedOut past ``timeout_seconds``);
* it returned a State made by the user (``Completed(message=...)``): that state;
* it returned a State of a run, a future, or a list of them: their aggregate,
  whose result is what was returned, futures replaced by their states (the
  caller gets the State(s) back, as in Prefect 2);
* it returned a value: Completed with that value (futures inside it replaced
  by their states);
* it returned None: aggregated over every child task and subflow run.

Failed with retries left -> AwaitingRetry -> body again. Then hooks by final
state type. Interrupts give Crashed (on_crashed), asyncio cancellation gives
Cancelled (on_cancellation); both are re-raised after the hooks.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import logging
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

from headwater._private.engine.said_once import (
    encountered_line,
    finished_line,
    mark_said,
    was_said,
)
from headwater._private.engine.steps import (
    Call,
    Log,
    PersistResult,
    PlanResult,
    Record,
    RunHooks,
    Sleep,
    Step,
    WaitChildren,
    WaitFutures,
)
from headwater._private.engine.transitions import (
    apply_state,
    crash_state,
    details_for,
    is_engine_timeout,
    resolve_futures_to_states,
    returned_futures,
    returned_state,
    timed_out_message,
    timeout_error_factory,
)
from headwater._private.parameters import call_arguments, validate_parameters
from headwater._private.results.plan import flow_persists
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
from headwater._private.suspending import suspension_for
from headwater.exceptions import (
    CancellationRequested,
    FlowRunSuspended,
    FlowRunTimeoutError,
    ParameterTypeError,
    SerializationError,
    UpstreamTaskError,
)

if TYPE_CHECKING:
    from headwater._private.engine.specs import FlowRunSpec

Machine = Generator[Step, Any, State[Any]]
Steps = Generator[Step, Any, State[Any]]

_HOOKS_BY_TYPE = {
    StateType.COMPLETED: "on_completion",
    StateType.FAILED: "on_failure",
    StateType.CANCELLED: "on_cancellation",
    StateType.CRASHED: "on_crashed",
}


def flow_machine(spec: FlowRunSpec) -> Machine:
    """Drive one flow run from Pending to a final state; see the module docstring."""
    try:
        state = yield from _run(spec)
    except GeneratorExit:
        raise  # closed by its driver: there is no one to tell
    except BaseException as exc:
        cancelled = _cancelled(spec) and isinstance(
            exc, (CancellationRequested, asyncio.CancelledError))
        suspended = suspension_for(spec.run.id) if cancelled else None
        if suspended is not None:  # suspended from another process (see suspending.py)
            return (yield from _suspended(spec, suspended))
        if cancelled and not isinstance(exc, CancellationRequested):
            exc = CancellationRequested(spec.run.id, _reason(spec))
        state = apply_state(spec.run, crash_state(exc))
        yield Record(spec, state, logging.ERROR)
        yield from _hooks(spec, state)
        parent = spec.parent_scope
        if cancelled and not (parent is not None and parent.cancelled):
            # This run was cancelled, its caller was not: report the Cancelled
            # state (calling the flow raises CancelledRun) instead of stopping
            # the caller with a BaseException.
            return state
        raise
    if state.type is StateType.PAUSED:
        return (yield from _suspended(spec, state))
    yield Record(spec, state, logging.INFO if state.type is StateType.COMPLETED
                 else logging.ERROR, finished_line(state))
    yield from _hooks(spec, state)
    return state


def _suspended(spec: FlowRunSpec, state: State[Any]) -> Steps:
    """End here for a suspended run: its state is stored already (through the API), and a
    resume starts the run again in a new process; no hooks (Prefect 2 runs none)."""
    state = apply_state(spec.run, state)
    yield Log(spec, logging.INFO, f"Flow run suspended ({state.name}); a resume "
              "reschedules it and its deployment's runner starts it again.")
    return state


def _hooks(spec: FlowRunSpec, state: State[Any]) -> Generator[Step, Any, None]:
    option = _HOOKS_BY_TYPE.get(state.type)
    hooks = getattr(spec.flow.options, option) if option else ()
    if hooks:
        yield RunHooks("flow", hooks, (spec.flow, spec.run, state))


def _cancelled(spec: FlowRunSpec) -> bool:
    return spec.scope is not None and bool(spec.scope.cancelled)


def _reason(spec: FlowRunSpec) -> str | None:
    return spec.scope.reason if spec.scope is not None else None


def _run(spec: FlowRunSpec) -> Steps:
    run, opts = spec.run, spec.flow.options
    if opts.validate_parameters:
        try:
            run._parameters = validate_parameters(spec.flow, run._parameters or {})
        except ParameterTypeError as exc:
            yield Log(spec, logging.ERROR, str(exc))
            mark_said(exc)
            return apply_state(run, Failed(
                data=exc, message=f"Validation of flow parameters failed with error: {exc}",
                state_details=details_for(run)))
    args, kwargs = call_arguments(spec.flow, run._parameters or {})
    running = apply_state(run, State(StateType.RUNNING, state_details=details_for(run)))
    yield Record(spec, running)
    if opts.on_running:
        yield RunHooks("flow", opts.on_running, (spec.flow, run, running))
    timeout = opts.timeout_seconds
    on_timeout = (timeout_error_factory(FlowRunTimeoutError, "Flow", timeout)
                  if timeout is not None else None)
    while True:
        run._run_count += 1
        ok, value = yield Call(spec.body, args, kwargs, timeout, on_timeout)
        state = yield from _outcome(spec, ok, value)
        if state.type is StateType.FAILED and run._run_count <= opts.retries:
            yield from _wait_for_retry(spec, state)
            continue
        return apply_state(run, state)


def _outcome(spec: FlowRunSpec, ok: bool, value: Any) -> Steps:
    """The state the body's answer stands for, once every child run has stopped."""
    if not ok and isinstance(value, FlowRunSuspended) and value.state is not None:
        # suspend_flow_run() in the body: tasks already started finish first.
        yield WaitChildren(spec.tracker)
        suspended: State[Any] = value.state
        return suspended
    if not ok and not isinstance(value, Exception):
        raise value  # interrupts and cancellation: crash path in flow_machine
    if _cancelled(spec):
        # The body may have caught a cancelled task's error: the run is
        # cancelled all the same, once its children have stopped.
        yield WaitChildren(spec.tracker)
        raise CancellationRequested(spec.run.id, _reason(spec))
    timed_out = not ok and is_engine_timeout(value)
    if not timed_out:
        # Nothing is orphaned: the flow ends after every child run it started.
        yield WaitChildren(spec.tracker)
    if ok:
        return (yield from _state_from_return(spec, value))
    if timed_out:
        return Failed(data=value, name="TimedOut", message=timed_out_message(value),
                      state_details=details_for(spec.run))
    if was_said(value):  # a task run logged it with its fix
        yield Log(spec, logging.ERROR, encountered_line(value))
    else:
        yield Log(spec, logging.ERROR, "Encountered exception during execution:", value)
    return Failed(
        data=value,
        message=f"Flow run encountered an exception. {type(value).__name__}: {value}",
        state_details=details_for(spec.run))


def _wait_for_retry(spec: FlowRunSpec, state: State[Any]) -> Generator[Step, Any, None]:
    """AwaitingRetry, sleep the retry delay, forget the children, Retrying."""
    run = spec.run
    delay = float(spec.flow.options.retry_delay_seconds or 0)
    waiting = apply_state(run, AwaitingRetry(now() + _dt.timedelta(seconds=delay),
                                             message=state.message,
                                             state_details=details_for(run)))
    yield Record(spec, waiting, logging.INFO, f"Received non-final state 'AwaitingRetry' when "
                 f"proposing final state {state!r} and will attempt to run again...")
    if delay:
        yield Sleep(delay)
    spec.tracker.reset()
    yield Record(spec, apply_state(run, Retrying(state_details=details_for(run))))


def _completed_with(spec: FlowRunSpec, value: Any) -> Steps:
    """The Completed state for a returned value, persisted if the flow's options say so."""
    state = Completed(data=value, state_details=details_for(spec.run))
    if not flow_persists(spec.flow.options, spec.settings.persist_by_default):
        return state
    ok, plan = yield PlanResult(spec)
    if not ok:
        raise plan  # result options that cannot be used crash the run
    if plan is None:
        return state
    ok, answer = yield PersistResult(value, plan.storage, plan.serializer, None, None, None)
    if not ok:
        error = SerializationError(
            f"Flow {spec.flow.name!r} returned a {type(value).__name__} that could not be "
            f"persisted with the {plan.serializer.type!r} serializer to {plan.storage.url} "
            f"({type(answer).__name__}: {answer}). Set persist_result=False to keep the "
            "result in memory only, or pick another result_serializer.")
        yield Log(spec, logging.ERROR, str(error))
        mark_said(error)
        return Failed(data=error, message=f"Flow run encountered an exception. {error}",
                      state_details=details_for(spec.run))
    if not plan.in_memory:
        state.data = answer  # the ResultRecord; state.result() loads it on demand
    return state


def _state_from_return(spec: FlowRunSpec, value: Any) -> Steps:
    futures = returned_futures(value)
    waiting = [f for f in futures if not f.done()]
    if waiting:
        yield WaitFutures(waiting)
    value = resolve_futures_to_states(value, futures)
    state = returned_state(value)
    if state is None:
        if value is not None:
            return (yield from _completed_with(spec, value))
        children = spec.tracker.summaries(spec.flow.options.reference_tasks)
        if not children:
            return Completed(state_details=details_for(spec.run))
        state = aggregate_states(children)
    if not state.is_final():
        # A flow run must end final: a NotReady or paused result is a failure
        # of this run, and says why.
        reason = state.message or f"a {state.name} state"
        return Failed(data=UpstreamTaskError(reason), state_details=details_for(spec.run),
                      message=f"Flow run did not reach a final state: {reason}")
    return state.copy(state_details=details_for(spec.run))

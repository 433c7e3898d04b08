"""The task run state machine (sans I/O).

Pending -> (upstreams final; any not completed -> NotReady, unless
allow_failure) -> Running -> Completed | Failed -> (retry left and allowed ->
AwaitingRetry -> Retrying -> ...) -> hooks -> final. An interrupt (Ctrl-C,
SIGTERM, SystemExit) gives Crashed and is re-raised; asyncio cancellation
gives Cancelled and is re-raised.
"""

from __future__ import annotations

import datetime as _dt
import logging
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

from headwater._private.annotations import BaseAnnotation
from headwater._private.caching import CACHE
from headwater._private.clock import get_clock
from headwater._private.collections import resolve
from headwater._private.context import TaskRunContext
from headwater._private.engine.retries import delay_before_retry
from headwater._private.engine.steps import Call, RunHooks, Sleep, Step, WaitFutures
from headwater._private.engine.transitions import (
    crash_state,
    details_for,
    future_targets,
    is_engine_timeout,
    returned_state,
    set_state,
    timeout_error_factory,
)
from headwater._private.futures import HeadwaterFuture
from headwater._private.states import (
    AwaitingRetry,
    Completed,
    Failed,
    Retrying,
    State,
    StateType,
    get_state_result,
    now,
)
from headwater.exceptions import TaskRunTimeoutError, UpstreamTaskError

if TYPE_CHECKING:
    from headwater._private.engine.jobs import TaskJob

Machine = Generator[Step, Any, State[Any]]


def task_machine(job: TaskJob) -> Machine:
    """Drive one task run from Pending to a final state; see the module docstring."""
    run = job.run
    try:
        state = yield from _run(job)
    except BaseException as exc:
        state = set_state(run, crash_state(exc))
        job.log(logging.ERROR, f"Crashed: {state.message}")
        raise
    hooks = job.task.options.on_completion if state.type is StateType.COMPLETED else (
        job.task.options.on_failure if state.type is StateType.FAILED else ()
    )
    if hooks:
        yield RunHooks("task", hooks, (job.task, run, state))
    return state


def _run(job: TaskJob) -> Generator[Step, Any, State[Any]]:
    run = job.run
    opts = job.task.options
    args, kwargs = job.args, job.kwargs
    if job.upstreams:
        waiting = [u for u, _ in job.upstreams if isinstance(u, HeadwaterFuture) and not u.done()]
        if waiting:
            yield WaitFutures(waiting)
        blocked = _first_blocking_upstream(job)
        if blocked is not None:
            return _not_ready(job, blocked)
        args = resolve(args, _upstream_value)
        kwargs = resolve(kwargs, _upstream_value)
        # Parameters (runtime.task_run.parameters, hooks) show resolved values.
        job.args, job.kwargs = args, kwargs
    cache_key = _cache_key(job, args, kwargs) if opts.cache_key_fn is not None else None
    if cache_key is not None and not _refresh_cache(job):
        hit, value, expires = CACHE.get(cache_key, now())
        if hit:
            details = details_for(run)
            details.cache_key, details.cache_expiration = cache_key, expires
            state = set_state(run, Completed(data=value, name="Cached", state_details=details))
            job.log(logging.INFO, f"Finished in state {state!r}")
            return state
    timeout = opts.timeout_seconds
    on_timeout = (timeout_error_factory(TaskRunTimeoutError, "Task", timeout)
                  if timeout is not None else None)
    while True:
        run._run_count += 1
        if run._run_count == 1:
            set_state(run, State(StateType.RUNNING, state_details=details_for(run)))
        ok, value = yield Call(job.task.fn, args, kwargs, timeout, on_timeout)
        if not ok and not isinstance(value, Exception):
            raise value  # interrupts and cancellation: crash path above
        if ok:
            state = yield from _state_from_return(job, value)
        elif is_engine_timeout(value):
            state = Failed(data=value, name="TimedOut", message=str(value),
                           state_details=details_for(run))
        else:
            state = Failed(
                data=value,
                message=f"Task run encountered an exception {type(value).__name__}: {value}",
                state_details=details_for(run),
            )
        if state.type is StateType.FAILED and _should_retry(job, state):
            delay = delay_before_retry(opts.retry_delay_seconds, opts.retries, run._run_count,
                                       opts.retry_jitter_factor, get_clock())
            set_state(run, AwaitingRetry(now() + _dt.timedelta(seconds=delay),
                                         message=state.message, state_details=details_for(run)))
            job.log(logging.INFO, f"Task run failed: {state.message} - Retry "
                    f"{run._run_count}/{opts.retries} will start "
                    f"{'immediately' if not delay else f'{delay:g} second(s) from now'}")
            if delay:
                yield Sleep(delay)
            set_state(run, Retrying(state_details=details_for(run)))
            continue
        if cache_key is not None and state.type is StateType.COMPLETED:
            expires = now() + opts.cache_expiration if opts.cache_expiration else None
            state.state_details.cache_key = cache_key
            state.state_details.cache_expiration = expires
            CACHE.put(cache_key, state.data, expires)
        set_state(run, state)
        if not ok and state.name != "TimedOut":
            # The traceback is logged once, for the attempt that failed the run;
            # attempts that were retried get one line each (above).
            job.log(logging.ERROR, "Encountered exception during execution:", exc=value)
        job.log(logging.INFO if state.type is not StateType.COMPLETED else logging.DEBUG,
                f"Finished in state {state!r}")
        return state


def _state_from_return(job: TaskJob, value: Any) -> Generator[Step, Any, State[Any]]:
    waiting = future_targets(value)
    if waiting:
        yield WaitFutures(waiting)
    state = returned_state(value)
    if state is None:
        return Completed(data=value, state_details=details_for(job.run))
    if state.state_details.task_run_id != job.run.id:
        state = state.copy(state_details=details_for(job.run))
    return state


def _cache_key(job: TaskJob, args: Any, kwargs: Any) -> str | None:
    fn = job.task.options.cache_key_fn
    assert fn is not None
    try:
        ctx = TaskRunContext(job.task, job.run, job.is_async, job.loop, job.log_prints)
        key = fn(ctx, job.task.bind(args, kwargs))
    except Exception as exc:
        job.log(logging.WARNING, "cache_key_fn raised, so this run is not cached; fix the "
                "function or remove cache_key_fn.", exc=exc)
        return None
    if key is not None and not isinstance(key, str):
        job.log(logging.WARNING, f"cache_key_fn returned {type(key).__name__}, not a string; "
                "this run is not cached.")
        return None
    return key


def _refresh_cache(job: TaskJob) -> bool:
    refresh = job.task.options.refresh_cache
    if refresh is not None:
        return refresh
    from headwater._private.settings import get_current_settings

    return get_current_settings().tasks.refresh_cache


def _should_retry(job: TaskJob, state: State[Any]) -> bool:
    opts = job.task.options
    if job.run._run_count > opts.retries:
        return False
    condition = opts.retry_condition_fn
    if condition is None:
        return True
    try:
        return bool(condition(job.task, job.run, state))
    except Exception as exc:
        job.log(logging.ERROR, "retry_condition_fn raised; the task will not be retried.", exc=exc)
        return False


def _first_blocking_upstream(job: TaskJob) -> Any:
    for upstream, allowed in job.upstreams:
        if isinstance(upstream, BaseAnnotation):
            continue  # a quote/allow_failure wrapper around plain values
        state = upstream.get_state() if isinstance(upstream, HeadwaterFuture) else upstream
        if state.type is not StateType.COMPLETED and not (allowed and state.is_final()):
            return upstream
    return None


def _not_ready(job: TaskJob, upstream: Any) -> State[Any]:
    name = upstream.task_run.name if isinstance(upstream, HeadwaterFuture) else "given as a State"
    kind = (upstream.get_state() if isinstance(upstream, HeadwaterFuture) else upstream).type
    message = (f"Upstream task run {name!r} did not reach a 'COMPLETED' state "
               f"(it is {kind.value}).")
    state: State[Any] = State(StateType.PENDING, name="NotReady", message=message,
                  data=UpstreamTaskError(message), state_details=details_for(job.run))
    set_state(job.run, state)
    job.log(logging.INFO, f"Finished in state {state!r}")
    return state


def _upstream_value(upstream: Any) -> Any:
    state: State[Any] = (
        upstream.get_state() if isinstance(upstream, HeadwaterFuture) else upstream)
    return get_state_result(state, raise_on_failure=False)

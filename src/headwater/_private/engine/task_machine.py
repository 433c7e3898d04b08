"""The task run state machine (sans I/O).

Pending -> (upstreams final; any not completed -> NotReady, unless
allow_failure) -> Running -> Completed | Failed -> (retry left and allowed ->
AwaitingRetry -> Retrying -> ...) -> hooks -> final. An interrupt (Ctrl-C,
SIGTERM, SystemExit) gives Crashed and is re-raised; asyncio cancellation
gives Cancelled and is re-raised.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import logging
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

from headwater._private.annotations import BaseAnnotation
from headwater._private.clock import get_clock
from headwater._private.collections import resolve
from headwater._private.engine.control import cancel_reason, checkpoint, trigger_state
from headwater._private.engine.retries import delay_before_retry
from headwater._private.engine.steps import (
    AcquireSlots,
    Call,
    LoadCached,
    PersistResult,
    RunHooks,
    Sleep,
    Step,
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
from headwater._private.futures import HeadwaterFuture
from headwater._private.results.plan import ResultPlan, plan_for, render_storage_key
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
from headwater.exceptions import (
    CancellationRequested,
    InvalidOptionError,
    SerializationError,
    Signal,
    TaskRunTimeoutError,
    UpstreamTaskError,
)

if TYPE_CHECKING:
    from headwater._private.engine.jobs import TaskJob
    from headwater._private.results.storage import CacheLock
    from headwater._private.signal_states import SignalOutcome

Machine = Generator[Step, Any, State[Any]]


def task_machine(job: TaskJob) -> Machine:
    """Drive one task run from Pending to a final state; see the module docstring."""
    run = job.run
    try:
        state = yield from _run(job)
    except BaseException as exc:
        reason = cancel_reason(job) if isinstance(exc, asyncio.CancelledError) else None
        # A task cancelled because its flow run was: Cancelled, with the reason.
        cause = CancellationRequested(run.flow_run_id, reason) if reason is not None else exc
        state = set_state(run, crash_state(cause))
        job.log(logging.ERROR, f"Finished in state {state!r}")
        raise
    finally:
        if job.lease is not None:
            job.lease.release()  # slots are leases: freed however the run ends
            job.lease = None
    hooks = job.task.options.on_completion if state.type is StateType.COMPLETED else (
        job.task.options.on_failure if state.type is StateType.FAILED else ()
    )
    if hooks:
        yield RunHooks("task", hooks, (job.task, run, state))
    return state


def _run(job: TaskJob) -> Generator[Step, Any, State[Any]]:
    args, kwargs = job.args, job.kwargs
    checkpoint(job)
    trigger = job.task.options.trigger
    if job.upstreams or trigger is not None:
        waiting = [u for u, _ in job.upstreams if isinstance(u, HeadwaterFuture) and not u.done()]
        if waiting:
            yield WaitFutures(waiting)
        if trigger is None:
            blocked = _first_blocking_upstream(job)
            if blocked is not None:
                return _not_ready(job, blocked)
        else:
            # A trigger decides on the upstreams' final states; failed ones
            # then pass their exception, as with allow_failure.
            decided = trigger_state(job)
            if decided is not None:
                return decided
        args = resolve(args, _upstream_value)
        kwargs = resolve(kwargs, _upstream_value)
        # Parameters (runtime.task_run.parameters, hooks) show resolved values.
        job.args, job.kwargs = args, kwargs
    tags = job.run._tags
    if tags and job.lease is None:
        ok, lease = yield AcquireSlots(tags, str(job.run.id))
        if not ok:
            return _failed_before_start(job, lease)
        job.lease = lease
        checkpoint(job)  # the wait for a slot may have outlived the flow run
    try:
        plan = plan_for(job)
    except Exception as exc:  # a result_storage or result_serializer that cannot be used
        return _failed_before_start(job, exc)
    if plan is None:  # the fast path: nothing cached, nothing persisted
        return (yield from _attempts(job, args, kwargs, None, None, None))
    from headwater._private.caching import CACHE, compute_cache_key

    cache_key = lock = None
    if plan.policy is not None:
        cache_key, warning = compute_cache_key(job, args, kwargs)
        if warning is not None:
            job.log(logging.WARNING, warning)
    if cache_key is not None and not _refresh_cache(job):
        if plan.persist:
            assert plan.storage is not None
            found = yield LoadCached(cache_key, plan.storage)
            if found.warning is not None:
                job.log(logging.WARNING, f"The cached result for key {cache_key!r} is not "
                        f"usable ({found.warning}); running the task instead.")
            if found.hit:
                assert found.record is not None
                return _cached(job, cache_key, found.value if plan.in_memory else found.record,
                               found.record.expiration)
            lock = found.lock
            del found
        else:
            hit, value, expires = CACHE.get(cache_key, now())
            if hit:
                return _cached(job, cache_key, value, expires)
    try:
        return (yield from _attempts(job, args, kwargs, plan, cache_key, lock))
    finally:
        if lock is not None:
            lock.release()  # idempotent; PersistResult releases it on the happy path


def _attempts(job: TaskJob, args: Any, kwargs: Any, plan: ResultPlan | None,
              cache_key: str | None, lock: CacheLock | None,
              ) -> Generator[Step, Any, State[Any]]:
    """Call the function until it completes or runs out of retries; store the result."""
    run = job.run
    opts = job.task.options
    timeout = opts.timeout_seconds
    on_timeout = (timeout_error_factory(TaskRunTimeoutError, "Task", timeout)
                  if timeout is not None else None)
    free_attempts = 0  # attempts that did not use up a retry (Retry(start_time=...))
    while True:
        if run._run_count:
            checkpoint(job)
        run._run_count += 1
        if run._run_count == 1:
            set_state(run, State(StateType.RUNNING, state_details=details_for(run)))
        ok, value = yield Call(job.task.fn, args, kwargs, timeout, on_timeout)
        if not ok and not isinstance(value, Exception):
            raise value  # interrupts and cancellation: crash path above
        if not ok and isinstance(value, Signal):
            outcome = _signal_outcome(job, value, run._run_count - free_attempts)
            if outcome.retry:
                if not outcome.counts_as_retry:
                    free_attempts += 1
                set_state(run, outcome.state)
                job.log(logging.INFO, f"{type(value).__name__} signal: "
                        f"{outcome.state.message or ''} - attempt {run._run_count + 1} will start "
                        f"{f'{outcome.delay:g} second(s) from now' if outcome.delay else 'now'}")
                if outcome.delay:
                    yield Sleep(outcome.delay)
                set_state(run, Retrying(state_details=details_for(run)))
                continue
            state = outcome.state
            if outcome.consults_retries and _should_retry(job, state, free_attempts):
                yield from _wait_for_retry(job, state)
                continue
        elif ok:
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
        if (state.type is StateType.FAILED and not isinstance(value, Signal)
                and _should_retry(job, state, free_attempts)):
            yield from _wait_for_retry(job, state)
            continue
        if plan is not None and state.type is StateType.COMPLETED:
            expires = (now() + opts.cache_expiration
                       if cache_key is not None and opts.cache_expiration else None)
            if plan.persist:
                state = yield from _persist(job, plan, state, cache_key, expires, lock)
            elif cache_key is not None:
                from headwater._private.caching import CACHE

                CACHE.put(cache_key, state.data, expires)
            if cache_key is not None and state.type is StateType.COMPLETED:
                state.state_details.cache_key = cache_key
                state.state_details.cache_expiration = expires
        set_state(run, state)
        if not ok and state.name != "TimedOut" and not isinstance(value, Signal):
            # The traceback is logged once, for the attempt that failed the run;
            # attempts that were retried get one line each (above).
            job.log(logging.ERROR, "Encountered exception during execution:", exc=value)
        job.log(logging.INFO if state.type is not StateType.COMPLETED else logging.DEBUG,
                f"Finished in state {state!r}")
        return state


def _wait_for_retry(job: TaskJob, state: State[Any]) -> Generator[Step, Any, State[Any]]:
    """AwaitingRetry, sleep the retry delay, Retrying."""
    run, opts = job.run, job.task.options
    delay = delay_before_retry(opts.retry_delay_seconds, opts.retries, run._run_count,
                               opts.retry_jitter_factor, get_clock())
    set_state(run, AwaitingRetry(now() + _dt.timedelta(seconds=delay),
                                 message=state.message, state_details=details_for(run)))
    job.log(logging.INFO, f"Task run failed: {state.message} - Retry "
            f"{run._run_count}/{opts.retries} will start "
            f"{'immediately' if not delay else f'{delay:g} second(s) from now'}")
    if delay:
        yield Sleep(delay)
    return set_state(run, Retrying(state_details=details_for(run)))


def _signal_outcome(job: TaskJob, signal: Signal, counted_attempts: int) -> SignalOutcome:
    from headwater._private.signal_states import signal_to_state

    opts = job.task.options
    default = delay_before_retry(opts.retry_delay_seconds, opts.retries, counted_attempts,
                                 opts.retry_jitter_factor, get_clock())
    return signal_to_state(signal, run_count=counted_attempts, retries=opts.retries,
                           default_delay=default, details=details_for(job.run))


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


def _cached(job: TaskJob, cache_key: str, data: Any, expires: Any) -> State[Any]:
    details = details_for(job.run)
    details.cache_key, details.cache_expiration = cache_key, expires
    state = set_state(job.run, Completed(data=data, name="Cached", state_details=details))
    # DEBUG like Completed: a cache hit is a completed run, and hits can be many.
    job.log(logging.DEBUG, f"Finished in state {state!r}")
    return state


def _persist(job: TaskJob, plan: ResultPlan, state: State[Any], cache_key: str | None,
             expires: Any, lock: CacheLock | None) -> Generator[Step, Any, State[Any]]:
    """Write the result to storage; keep only the record unless it stays in memory."""
    assert plan.storage is not None and plan.serializer is not None
    try:
        storage_key = render_storage_key(plan.storage_key, job, cache_key)
    except Exception as exc:
        return _persist_failed(job, InvalidOptionError(
            f"result_storage_key {plan.storage_key!r} of task {job.task.name!r} could not be "
            f"filled in: {type(exc).__name__}: {exc}. It may use {{parameters[name]}}, "
            "{flow_run.<field>} and {task_run.<field>}."))
    ok, answer = yield PersistResult(state.data, plan.storage, plan.serializer, storage_key,
                                     cache_key, expires, lock)
    if not ok:
        return _persist_failed(job, _persist_error(job, plan, state.data, answer))
    if not plan.in_memory:
        state.data = answer  # the ResultRecord; state.result() loads it on demand
    return state


def _persist_error(job: TaskJob, plan: ResultPlan, value: Any,
                   error: BaseException) -> Exception:
    assert plan.serializer is not None and plan.storage is not None
    if isinstance(error, SerializationError):
        new = SerializationError(
            f"Task {job.task.name!r} returned a {type(value).__name__} that the "
            f"{plan.serializer.type!r} result serializer cannot serialize ({error}). Its "
            "results are persisted; set persist_result=False to keep them in memory only, "
            "or pick another result_serializer (such as 'json', or your own registered "
            "with headwater.serializers.register_serializer).")
    else:
        new = SerializationError(
            f"Task {job.task.name!r} could not write its result to {plan.storage.url}: "
            f"{type(error).__name__}: {error}. Check the result_storage, or set "
            "persist_result=False to keep results in memory only.")
    new.__cause__ = error.__cause__ or error
    return new


def _persist_failed(job: TaskJob, error: Exception) -> State[Any]:
    job.log(logging.ERROR, str(error))
    return Failed(data=error, message=f"Task run encountered an exception "
                  f"{type(error).__name__}: {error}", state_details=details_for(job.run))


def _failed_before_start(job: TaskJob, error: Exception) -> State[Any]:
    state = set_state(job.run, _persist_failed(job, error))
    job.log(logging.INFO, f"Finished in state {state!r}")
    return state


def _refresh_cache(job: TaskJob) -> bool:
    refresh = job.task.options.refresh_cache
    if refresh is not None:
        return refresh
    from headwater._private.settings import get_current_settings

    return get_current_settings().tasks.refresh_cache


def _should_retry(job: TaskJob, state: State[Any], free_attempts: int = 0) -> bool:
    opts = job.task.options
    if job.run._run_count - free_attempts > opts.retries:
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

"""The task run state machine (sans I/O): it decides, its driver acts.

Pending -> (upstreams final; any not completed -> NotReady, unless
allow_failure) -> Running -> Completed | Failed -> (retry left and allowed ->
AwaitingRetry -> Retrying -> ...) -> hooks -> final. An interrupt (Ctrl-C,
SIGTERM, SystemExit) gives Crashed and is re-raised; asyncio cancellation
gives Cancelled and is re-raised.

The machine sees a :class:`TaskRunSpec` and the call's inputs, and keeps the
run record's in-memory state; everything else (recording a state, logging,
planning results, cache keys and lookups, slots, the call itself) is a step
it yields. An ordinary run (no cache, nothing persisted, no tags) yields
three: ``Record`` Running, ``Call``, ``Record`` final. With the flow run's
version lock on, a ``ClaimRun`` comes before the first attempt; a refused
start ends Failed with the ``VersionLockError``, in memory only (the record
is the winner's) and without hooks.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import logging
from collections.abc import Generator, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from headwater._private.clock import get_clock
from headwater._private.collections import resolve
from headwater._private.engine.control import (
    cancel_reason,
    checkpoint,
    not_ready_state,
    trigger_state,
    unfinished,
    upstream_value,
)
from headwater._private.engine.retries import delay_before_retry
from headwater._private.engine.said_once import finished_line, mark_said
from headwater._private.engine.steps import (
    AcquireSlots,
    Call,
    ClaimRun,
    ComputeCacheKey,
    LoadCached,
    Log,
    PersistResult,
    PlanResult,
    Record,
    RunHooks,
    Sleep,
    Step,
    WaitFutures,
)
from headwater._private.engine.transitions import (
    apply_state,
    crash_state,
    details_for,
    is_engine_timeout,
    returned_state,
    timed_out_message,
    timeout_error_factory,
)
from headwater._private.results.plan import ResultPlan, needs_plan
from headwater._private.states import (
    AwaitingRetry,
    Completed,
    Failed,
    Retrying,
    State,
    StateType,
    now,
)
from headwater.exceptions import (
    CancellationRequested,
    InvalidOptionError,
    SerializationError,
    Signal,
    TaskRunTimeoutError,
    VersionLockError,
)

if TYPE_CHECKING:
    from headwater._private.collections import Upstream
    from headwater._private.engine.specs import TaskRunSpec
    from headwater._private.results.storage import CacheLock
    from headwater._private.signal_states import SignalOutcome

Machine = Generator[Step, Any, State[Any]]
Steps = Generator[Step, Any, State[Any]]


def task_machine(spec: TaskRunSpec, args: Any, kwargs: Any,
                 upstreams: Sequence[Upstream] = (), lease: Any = None) -> Machine:
    """Drive one task run from Pending to a final state; see the module docstring.

    Args:
        spec: The run's description.
        args: The call's positional arguments (futures and states not resolved yet).
        kwargs: The call's keyword arguments (same).
        upstreams: The futures and states the run waits for (arguments and ``wait_for``).
        lease: Concurrency slots already taken for the run; released when it ends.
    """
    leases = [lease]
    try:
        state = yield from _run(spec, args, kwargs, upstreams, leases)
    except GeneratorExit:
        raise  # closed by its driver: there is no one to tell
    except BaseException as exc:
        reason = cancel_reason(spec) if isinstance(exc, asyncio.CancelledError) else None
        # A task cancelled because its flow run was: Cancelled, with the reason.
        cause = CancellationRequested(spec.run.flow_run_id, reason) if reason is not None else exc
        state = apply_state(spec.run, crash_state(cause))
        yield Record(spec, state, logging.ERROR)
        raise
    finally:
        if leases[0] is not None:
            leases[0].release()  # slots are leases: freed however the run ends
    opts = spec.task.options
    hooks = opts.on_completion if state.type is StateType.COMPLETED else (
        opts.on_failure if state.type is StateType.FAILED else ())
    if hooks and spec.settings.version_lock and isinstance(state.data, VersionLockError):
        hooks = ()  # a refused start ran nothing: its hooks do not run either
    if hooks:
        yield RunHooks("task", hooks, (spec.task, spec.run, state))
    return state


def _run(spec: TaskRunSpec, args: Any, kwargs: Any, upstreams: Sequence[Upstream],
         leases: list[Any]) -> Steps:
    """Wait for upstreams, take slots, look up the cache, then run the attempts."""
    checkpoint(spec)
    if upstreams or spec.task.options.trigger is not None:
        waiting = unfinished(upstreams)
        if waiting:
            yield WaitFutures(waiting)
        decided = (not_ready_state(spec, upstreams) if spec.task.options.trigger is None
                   else trigger_state(spec, upstreams))
        if decided is not None:
            return (yield from _end_early(spec, decided))
        args, kwargs = resolve(args, upstream_value), resolve(kwargs, upstream_value)
        # Parameters (runtime.task_run.parameters, hooks) show resolved values.
        spec.run._param_source = partial(spec.task.bind, args, kwargs)
    tags = spec.run._tags
    if tags and leases[0] is None:
        ok, lease = yield AcquireSlots(tags, str(spec.run.id))
        if not ok:
            return (yield from _failed_before_start(spec, lease))
        leases[0] = lease
        checkpoint(spec)  # the wait for a slot may have outlived the flow run
    plan = None
    if needs_plan(spec.task.options, spec.flow_options, spec.settings.persist_by_default):
        ok, plan = yield PlanResult(spec)
        if not ok:  # a result_storage or result_serializer that cannot be used
            return (yield from _failed_before_start(spec, plan))
    if plan is None:  # the fast path: nothing cached, nothing persisted
        return (yield from _attempts(spec, args, kwargs, None, None, None))
    return (yield from _cached_or_attempts(spec, args, kwargs, plan))


def _cached_or_attempts(spec: TaskRunSpec, args: Any, kwargs: Any, plan: ResultPlan) -> Steps:
    """Complete from the cache on a hit; otherwise run the attempts (holding the key's lock)."""
    cache_key = lock = None
    if plan.policy is not None:
        cache_key, warning = yield ComputeCacheKey(spec, args, kwargs)
        if warning is not None:
            yield Log(spec, logging.WARNING, warning)
    if cache_key is not None and not _refresh_cache(spec):
        found = yield LoadCached(cache_key, plan.storage if plan.persist else None)
        if found.warning is not None:
            yield Log(spec, logging.WARNING, f"The cached result for key {cache_key!r} is not "
                      f"usable ({found.warning}); running the task instead.")
        if found.hit:
            data = found.value if plan.in_memory or found.record is None else found.record
            return (yield from _cached(spec, cache_key, data, found.expiration))
        lock = found.lock
        del found
    try:
        return (yield from _attempts(spec, args, kwargs, plan, cache_key, lock))
    finally:
        if lock is not None:
            lock.release()  # idempotent; PersistResult releases it on the happy path


def _attempts(spec: TaskRunSpec, args: Any, kwargs: Any, plan: ResultPlan | None,
              cache_key: str | None, lock: CacheLock | None) -> Steps:
    """Call the function until it completes or runs out of retries; store the result."""
    run, opts = spec.run, spec.task.options
    timeout = opts.timeout_seconds
    on_timeout = (timeout_error_factory(TaskRunTimeoutError, "Task", timeout)
                  if timeout is not None else None)
    free_attempts = 0  # attempts that did not use up a retry (Retry(start_time=...))
    if spec.settings.version_lock and not run._run_count:
        ok, refused = yield ClaimRun(run.id)
        if not ok:  # another process started it: the body does not run here
            return _refused(spec, refused)
    while True:
        if run._run_count:
            checkpoint(spec)
        run._run_count += 1
        if run._run_count == 1:
            yield Record(spec, apply_state(run, State(StateType.RUNNING,
                                                      state_details=details_for(run))))
        ok, value = yield Call(spec.task.fn, args, kwargs, timeout, on_timeout)
        if not ok and not isinstance(value, Exception):
            raise value  # interrupts and cancellation: crash path in task_machine
        if not ok and isinstance(value, Signal):
            outcome = _signal_outcome(spec, value, run._run_count - free_attempts)
            if outcome.retry:
                if not outcome.counts_as_retry:
                    free_attempts += 1
                yield from _retry_on_signal(spec, value, outcome)
                continue
            state = outcome.state
            if outcome.consults_retries and (yield from _should_retry(spec, state,
                                                                      free_attempts)):
                yield from _wait_for_retry(spec, state)
                continue
        elif ok:
            state = _state_from_return(spec, value)
        else:
            state = _failed_state(spec, value)
        if (state.type is StateType.FAILED and not isinstance(value, Signal)
                and (yield from _should_retry(spec, state, free_attempts))):
            yield from _wait_for_retry(spec, state)
            continue
        if plan is not None and state.type is StateType.COMPLETED:
            state = yield from _store(spec, plan, state, cache_key, lock)
        apply_state(run, state)
        if not ok and state.name != "TimedOut" and not isinstance(value, Signal):
            # The traceback is logged once, for the attempt that failed the run;
            # attempts that were retried get one line each.
            yield Log(spec, logging.ERROR, "Encountered exception during execution:", value)
        yield Record(spec, state, _final_level(state), finished_line(state))
        return state


def _refused(spec: TaskRunSpec, error: Exception) -> State[Any]:
    """The state of a start the version lock refused: Failed with the error, in memory only.

    Nothing is recorded (the run's record is the winner's) and no hook runs.
    """
    return apply_state(spec.run, Failed(message=str(error), data=error))


def _final_level(state: State[Any]) -> int:
    """The level of "Finished in state ...": ERROR unless Completed, as in Prefect 2.

    Completed is DEBUG, not Prefect 2's INFO: one line per task run drowns the
    console (docs/migration.md).
    """
    return logging.DEBUG if state.type is StateType.COMPLETED else logging.ERROR


def _failed_state(spec: TaskRunSpec, error: Exception) -> State[Any]:
    """Failed (named TimedOut past the deadline) for an error the function raised."""
    if is_engine_timeout(error):
        return Failed(data=error, name="TimedOut", message=timed_out_message(error),
                      state_details=details_for(spec.run))
    return Failed(
        data=error,
        message=f"Task run encountered an exception {type(error).__name__}: {error}",
        state_details=details_for(spec.run))


def _retry_on_signal(spec: TaskRunSpec, signal: Signal, outcome: SignalOutcome) -> Steps:
    """A signal asked for another attempt: its state, the delay, Retrying."""
    run = spec.run
    delay = outcome.delay
    yield Record(spec, apply_state(run, outcome.state), logging.INFO,
                 f"{type(signal).__name__} signal: {outcome.state.message or ''} - attempt "
                 f"{run._run_count + 1} will start "
                 f"{f'{delay:g} second(s) from now' if delay else 'now'}")
    if delay:
        yield Sleep(delay)
    state = apply_state(run, Retrying(state_details=details_for(run)))
    yield Record(spec, state)
    return state


def _wait_for_retry(spec: TaskRunSpec, state: State[Any]) -> Steps:
    """AwaitingRetry, sleep the retry delay, Retrying."""
    run, opts = spec.run, spec.task.options
    delay = delay_before_retry(opts.retry_delay_seconds, opts.retries, run._run_count,
                               opts.retry_jitter_factor, get_clock())
    waiting = apply_state(run, AwaitingRetry(now() + _dt.timedelta(seconds=delay),
                                             message=state.message,
                                             state_details=details_for(run)))
    yield Record(spec, waiting, logging.INFO,
                 f"Task run failed: {state.message} - Retry {run._run_count}/{opts.retries} "
                 f"will start {'immediately' if not delay else f'{delay:g} second(s) from now'}")
    if delay:
        yield Sleep(delay)
    retrying = apply_state(run, Retrying(state_details=details_for(run)))
    yield Record(spec, retrying)
    return retrying


def _signal_outcome(spec: TaskRunSpec, signal: Signal, counted_attempts: int) -> SignalOutcome:
    from headwater._private.signal_states import signal_to_state

    opts = spec.task.options
    default = delay_before_retry(opts.retry_delay_seconds, opts.retries, counted_attempts,
                                 opts.retry_jitter_factor, get_clock())
    return signal_to_state(signal, run_count=counted_attempts, retries=opts.retries,
                           default_delay=default, details=details_for(spec.run))


def _should_retry(spec: TaskRunSpec, state: State[Any],
                  free_attempts: int = 0) -> Generator[Step, Any, bool]:
    """True when a retry is left and ``retry_condition_fn`` (if any) allows it."""
    opts = spec.task.options
    if spec.run._run_count - free_attempts > opts.retries:
        return False
    condition = opts.retry_condition_fn
    if condition is None:
        return True
    try:
        return bool(condition(spec.task, spec.run, state))
    except Exception as exc:
        yield Log(spec, logging.ERROR, "retry_condition_fn raised; the task will not be "
                  "retried.", exc)
        return False


def _state_from_return(spec: TaskRunSpec, value: Any) -> State[Any]:
    """Completed with the value, or the state it stands for (``returned_state``).

    Futures in the value are data, as in Prefect 2 (only a flow resolves them).
    """
    state = returned_state(value)
    if state is None:
        return Completed(data=value, state_details=details_for(spec.run))
    return state.copy(state_details=details_for(spec.run))


def _cached(spec: TaskRunSpec, cache_key: str, data: Any, expires: Any) -> Steps:
    details = details_for(spec.run)
    details.cache_key, details.cache_expiration = cache_key, expires
    state = apply_state(spec.run, Completed(data=data, name="Cached", state_details=details))
    # DEBUG like Completed: a cache hit is a completed run, and hits can be many.
    yield Record(spec, state, logging.DEBUG)
    return state


def _store(spec: TaskRunSpec, plan: ResultPlan, state: State[Any], cache_key: str | None,
           lock: CacheLock | None) -> Steps:
    """Persist the result (or keep it in the in-process cache); stamp the cache key."""
    opts = spec.task.options
    expires = (now() + opts.cache_expiration
               if cache_key is not None and opts.cache_expiration else None)
    if plan.persist:
        state = yield from _persist(spec, plan, state, cache_key, expires, lock)
    elif cache_key is not None:
        yield PersistResult(state.data, None, None, None, cache_key, expires)
    if cache_key is not None and state.type is StateType.COMPLETED:
        state.state_details.cache_key = cache_key
        state.state_details.cache_expiration = expires
    return state


def _persist(spec: TaskRunSpec, plan: ResultPlan, state: State[Any], cache_key: str | None,
             expires: Any, lock: CacheLock | None) -> Steps:
    """Write the result to storage; keep only the record unless it stays in memory."""
    assert plan.storage is not None and plan.serializer is not None
    ok, answer = yield PersistResult(state.data, plan.storage, plan.serializer,
                                     plan.storage_key, cache_key, expires, lock, spec.run)
    if not ok:
        return (yield from _persist_failed(spec, _persist_error(spec, plan, state.data, answer)))
    if not plan.in_memory:
        state.data = answer  # the ResultRecord; state.result() loads it on demand
    return state


def _persist_error(spec: TaskRunSpec, plan: ResultPlan, value: Any,
                   error: BaseException) -> Exception:
    assert plan.serializer is not None and plan.storage is not None
    if isinstance(error, InvalidOptionError):
        return error  # the storage key template could not be filled in
    name = spec.task.name
    if isinstance(error, SerializationError):
        new = SerializationError(
            f"Task {name!r} returned a {type(value).__name__} that the "
            f"{plan.serializer.type!r} result serializer cannot serialize ({error}). Its "
            "results are persisted; set persist_result=False to keep them in memory only, "
            "or pick another result_serializer (such as 'json', or your own registered "
            "with headwater.serializers.register_serializer).")
    else:
        new = SerializationError(
            f"Task {name!r} could not write its result to {plan.storage.url}: "
            f"{type(error).__name__}: {error}. Check the result_storage, or set "
            "persist_result=False to keep results in memory only.")
    new.__cause__ = error.__cause__ or error
    return new


def _persist_failed(spec: TaskRunSpec, error: Exception) -> Steps:
    yield Log(spec, logging.ERROR, str(error))
    mark_said(error)
    return Failed(data=error, message=f"Task run encountered an exception "
                  f"{type(error).__name__}: {error}", state_details=details_for(spec.run))


def _failed_before_start(spec: TaskRunSpec, error: Exception) -> Steps:
    state = yield from _persist_failed(spec, error)
    return (yield from _end_early(spec, state))


def _end_early(spec: TaskRunSpec, state: State[Any]) -> Steps:
    """End the run in ``state`` without calling the function (NotReady, a trigger, an error)."""
    yield Record(spec, apply_state(spec.run, state), _final_level(state), finished_line(state))
    return state


def _refresh_cache(spec: TaskRunSpec) -> bool:
    refresh = spec.task.options.refresh_cache
    return spec.settings.refresh_cache if refresh is None else refresh

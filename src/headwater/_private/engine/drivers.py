"""The engine's drivers: a table from step type to the function that carries it out.

:func:`run_machine` and :func:`run_machine_async` run a machine with the one
step loop pair (``headwater._private.driving``), which throws any error raised
while carrying out a step (Ctrl-C during a wait, say) back into the machine;
the machine turns it into a Crashed or Cancelled state and re-raises. The
decisions live in the machines; the two tables below differ only where
waiting differs (a thread blocks, a coroutine awaits). Steps that never wait
(``Record``, ``Log``, ``ComputeCacheKey``) share one function in both.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable, Coroutine, Generator
from typing import Any

from headwater._private import background
from headwater._private.clock import get_clock
from headwater._private.driving import drive, drive_async
from headwater._private.engine.calls import call_async, call_sync
from headwater._private.engine.reporting import log, record
from headwater._private.engine.specs import TaskRunSpec
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
    WaitChildren,
    WaitFutures,
)
from headwater._private.states import State

_log = logging.getLogger("headwater.engine")

Outcome = tuple[bool, Any]
Machine = Generator[Step, Any, State[Any]]


def run_machine(machine: Machine) -> State[Any]:
    """Run ``machine`` to its final state in the calling thread."""
    return drive(machine, _carry_out)


async def run_machine_async(machine: Machine) -> State[Any]:
    """Run ``machine`` to its final state on the running event loop."""
    return await drive_async(machine, _carry_out_async)


def _carry_out(step: Step) -> Any:
    return _SYNC[type(step)](step)


def _carry_out_async(step: Step) -> Coroutine[Any, Any, Any]:
    return _ASYNC[type(step)](step)


# ------------------------------------------------------------------ steps that never wait
def _plan(step: PlanResult) -> Outcome:
    from headwater._private.results.plan import flow_result_plan, plan_for

    about = step.about
    try:
        if isinstance(about, TaskRunSpec):
            return True, plan_for(about.task.options, about.flow_options,
                                  about.settings.persist_by_default)
        return True, flow_result_plan(about.flow.options, about.settings.persist_by_default)
    except Exception as exc:
        return False, exc


def _cache_key(step: ComputeCacheKey) -> tuple[str | None, str | None]:
    from headwater._private.caching import compute_cache_key

    about = step.about
    return compute_cache_key(about.task, about.run, about.flow_run, step.args, step.kwargs)


def _log_hook_error(hook: Callable[..., Any], step: RunHooks) -> None:
    _log.exception(
        "An error was encountered while running hook %r in response to state %r; "
        "the run's state is unchanged.", getattr(hook, "__name__", repr(hook)), step.args[-1],
    )


# ---------------------------------------------------------------------- in a thread
def _wait_futures(step: WaitFutures) -> None:
    for future in step.futures:
        future.wait()


def _wait_children(step: WaitChildren) -> None:
    while jobs := step.tracker.inflight():
        for job in jobs:
            job.wait_done()


def _sleep(step: Sleep) -> None:
    get_clock().sleep(step.seconds)


def _hooks(step: RunHooks) -> None:
    for hook in step.hooks:
        _hook(hook, step)


def _hook(hook: Callable[..., Any], step: RunHooks) -> None:
    try:
        value = hook(*step.args)
        if inspect.isawaitable(value):
            if background.in_loop_thread():
                raise RuntimeError("an async hook cannot be awaited from the background loop")
            background.run(_awaiting(value))
    except Exception:
        _log_hook_error(hook, step)


def _awaiting(awaitable: Any) -> Callable[[], Coroutine[Any, Any, Any]]:
    async def wrapper() -> Any:
        return await awaitable

    return wrapper


def _load_cached(step: LoadCached) -> Any:
    from headwater._private.results.io import load_cached

    return load_cached(step.key, step.storage, step.lock)


def _persist(step: PersistResult) -> Any:
    from headwater._private.results.io import persist_result

    return persist_result(step.value, step.storage, step.serializer, step.key_template,
                          step.cache_key, step.expiration, step.lock, step.run)


def _acquire(step: AcquireSlots) -> Outcome:
    from headwater._private.concurrency import acquire_tag_slots
    from headwater.exceptions import ConcurrencySlotAcquisitionError

    try:
        return True, acquire_tag_slots(step.tags, holder=step.holder)
    except ConcurrencySlotAcquisitionError as exc:
        return False, exc


def _claim(step: ClaimRun) -> Outcome:
    from headwater._private.version_lock import claim
    from headwater.exceptions import VersionLockError

    try:
        claim("task_run", step.run_id)
    except VersionLockError as exc:
        return False, exc
    return True, None


_SYNC: dict[type, Callable[[Any], Any]] = {
    Call: call_sync,
    Record: record,
    Log: log,
    WaitFutures: _wait_futures,
    WaitChildren: _wait_children,
    Sleep: _sleep,
    RunHooks: _hooks,
    PlanResult: _plan,
    ComputeCacheKey: _cache_key,
    LoadCached: _load_cached,
    PersistResult: _persist,
    AcquireSlots: _acquire,
    ClaimRun: _claim,
}


# ---------------------------------------------------------------------- on an event loop
def _now(carry_out: Callable[[Any], Any]) -> Callable[[Any], Coroutine[Any, Any, Any]]:
    """Wrap a step function that never waits for the async table."""
    async def at_once(step: Any) -> Any:
        return carry_out(step)

    return at_once


def _in_executor(carry_out: Callable[[Any], Any]) -> Callable[[Any], Coroutine[Any, Any, Any]]:
    """Wrap a blocking step function: storage I/O and lock waits never run on the loop."""
    async def off_loop(step: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(None, carry_out, step)

    return off_loop


async def _wait_futures_async(step: WaitFutures) -> None:
    for future in step.futures:
        await future.wait_async()


async def _wait_children_async(step: WaitChildren) -> None:
    while jobs := step.tracker.inflight():
        for job in jobs:
            await job.wait_done_async()


async def _sleep_async(step: Sleep) -> None:
    await get_clock().sleep_async(step.seconds)


async def _hooks_async(step: RunHooks) -> None:
    for hook in step.hooks:
        await _hook_async(hook, step)


async def _hook_async(hook: Callable[..., Any], step: RunHooks) -> None:
    try:
        value = hook(*step.args)
        if inspect.isawaitable(value):
            await value
    except Exception:
        _log_hook_error(hook, step)


async def _acquire_async(step: AcquireSlots) -> Outcome:
    from headwater._private.concurrency import acquire_tag_slots_async
    from headwater.exceptions import ConcurrencySlotAcquisitionError

    try:
        return True, await acquire_tag_slots_async(step.tags, holder=step.holder)
    except ConcurrencySlotAcquisitionError as exc:
        return False, exc


_ASYNC: dict[type, Callable[[Any], Coroutine[Any, Any, Any]]] = {
    Call: call_async,
    Record: _now(record),
    Log: _now(log),
    WaitFutures: _wait_futures_async,
    WaitChildren: _wait_children_async,
    Sleep: _sleep_async,
    RunHooks: _hooks_async,
    PlanResult: _now(_plan),
    ComputeCacheKey: _now(_cache_key),
    LoadCached: _in_executor(_load_cached),
    PersistResult: _in_executor(_persist),
    AcquireSlots: _acquire_async,
    ClaimRun: _in_executor(_claim),
}

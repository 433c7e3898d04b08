"""The two drivers: carry out a machine's steps in a thread, or on an event loop.

Each driver is a loop that sends each step's answer back into the machine.
An exception raised while carrying out a step (Ctrl-C during a wait, say) is
thrown into the machine, which turns it into a Crashed state and re-raises.
"""

from __future__ import annotations

import asyncio
import contextvars
import ctypes
import inspect
import logging
import threading
from collections.abc import Callable, Coroutine, Generator
from typing import Any

from headwater._private.clock import get_clock
from headwater._private.engine.steps import (
    AcquireSlots,
    Call,
    LoadCached,
    PersistResult,
    RunHooks,
    Sleep,
    Step,
    WaitChildren,
    WaitFutures,
)
from headwater._private.loop_thread import on_runtime_loop, run_coroutine
from headwater._private.states import State

_log = logging.getLogger("headwater.engine")

Outcome = tuple[bool, Any]


# ---------------------------------------------------------------------- sync driver
def drive_sync(machine: Generator[Step, Any, State[Any]]) -> State[Any]:
    """Run ``machine`` to its final state in the calling thread."""
    answer: Any = None
    error: BaseException | None = None
    while True:
        try:
            step = machine.throw(error) if error is not None else machine.send(answer)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        error = None
        try:
            answer = _SYNC[type(step)](step)
        except BaseException as exc:
            error = exc


def _call_sync(step: Call) -> Outcome:
    if step.timeout is not None:
        return _call_with_deadline(step)
    try:
        return True, step.fn(*step.args, **step.kwargs)
    except BaseException as exc:
        return False, exc


def _call_with_deadline(step: Call) -> Outcome:
    """Run the call in a helper thread and stop waiting at the deadline.

    A sync function cannot be stopped from outside. At the deadline the engine
    moves on (the run is TimedOut) and asks the helper thread to raise the
    timeout error at its next Python bytecode; a function blocked inside a C
    call (a socket read, ``time.sleep``) keeps its thread until the call
    returns, and its result is then thrown away.
    """
    assert step.on_timeout is not None
    box: list[Outcome] = []
    done = threading.Event()
    ctx = contextvars.copy_context()

    def target() -> None:
        try:
            box.append((True, ctx.run(step.fn, *step.args, **step.kwargs)))
        except BaseException as exc:
            box.append((False, exc))
        finally:
            done.set()

    thread = threading.Thread(target=target, name="headwater-deadline", daemon=True)
    thread.start()
    if done.wait(step.timeout):
        return box[0]
    error = step.on_timeout()
    _raise_in_thread(thread, type(error))
    return False, error


def _raise_in_thread(thread: threading.Thread, exc_type: type[BaseException]) -> None:
    if thread.ident is not None:
        ctypes.pythonapi.PyThreadState_SetAsyncExc(
            ctypes.c_ulong(thread.ident), ctypes.py_object(exc_type)
        )


def _wait_futures_sync(step: WaitFutures) -> None:
    for future in step.futures:
        future.wait()


def _wait_children_sync(step: WaitChildren) -> None:
    while jobs := step.tracker.inflight():
        for job in jobs:
            job.wait_done()


def _sleep_sync(step: Sleep) -> None:
    get_clock().sleep(step.seconds)


def _hooks_sync(step: RunHooks) -> None:
    for hook in step.hooks:
        _hook_sync(hook, step)


def _hook_sync(hook: Callable[..., Any], step: RunHooks) -> None:
    try:
        value = hook(*step.args)
        if inspect.isawaitable(value):
            if on_runtime_loop():
                raise RuntimeError("an async hook cannot be awaited from the runtime loop")
            run_coroutine(_awaiting(value))
    except Exception:
        _log_hook_error(hook, step)


def _awaiting(awaitable: Any) -> Callable[[], Coroutine[Any, Any, Any]]:
    async def wrapper() -> Any:
        return await awaitable

    return wrapper


def _log_hook_error(hook: Callable[..., Any], step: RunHooks) -> None:
    state = step.args[-1]
    _log.exception(
        "An error was encountered while running hook %r in response to state %r; "
        "the run's state is unchanged.", getattr(hook, "__name__", repr(hook)), state,
    )


def _load_cached_sync(step: LoadCached) -> Any:
    from headwater._private.results.io import load_cached

    return load_cached(step)


def _persist_sync(step: PersistResult) -> Any:
    from headwater._private.results.io import persist_result

    return persist_result(step)


def _acquire_sync(step: AcquireSlots) -> Outcome:
    from headwater._private.concurrency import acquire_tag_slots
    from headwater.exceptions import ConcurrencySlotAcquisitionError

    try:
        return True, acquire_tag_slots(step.tags, holder=step.holder)
    except ConcurrencySlotAcquisitionError as exc:
        return False, exc


_SYNC: dict[type, Callable[[Any], Any]] = {
    Call: _call_sync,
    WaitFutures: _wait_futures_sync,
    WaitChildren: _wait_children_sync,
    Sleep: _sleep_sync,
    RunHooks: _hooks_sync,
    LoadCached: _load_cached_sync,
    PersistResult: _persist_sync,
    AcquireSlots: _acquire_sync,
}


# ---------------------------------------------------------------------- async driver
async def drive_async(machine: Generator[Step, Any, State[Any]]) -> State[Any]:
    """Run ``machine`` to its final state on the running event loop."""
    answer: Any = None
    error: BaseException | None = None
    while True:
        try:
            step = machine.throw(error) if error is not None else machine.send(answer)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        error = None
        try:
            answer = await _ASYNC[type(step)](step)
        except BaseException as exc:
            error = exc


async def _call_async(step: Call) -> Outcome:
    try:
        value = step.fn(*step.args, **step.kwargs)
        if not inspect.isawaitable(value):
            return True, value
        if step.timeout is None:
            return True, await value
        return await _await_with_deadline(value, step)
    except BaseException as exc:
        return False, exc


async def _await_with_deadline(awaitable: Any, step: Call) -> Outcome:
    """Await with a deadline; at the deadline cancel the work and move on regardless."""
    assert step.on_timeout is not None
    task = asyncio.ensure_future(awaitable)
    done, _ = await asyncio.wait({task}, timeout=step.timeout)
    if task in done:
        return True, task.result()
    task.cancel()
    # Don't wait for the cancellation to land: a coroutine stuck in blocking
    # code would hold the run. Collect its outcome later so nothing warns.
    task.add_done_callback(lambda t: t.cancelled() or t.exception())
    return False, step.on_timeout()


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


async def _load_cached_async(step: LoadCached) -> Any:
    # Storage I/O (and waiting on another process's cache lock) happens in
    # an executor thread, never on the loop.
    return await asyncio.get_running_loop().run_in_executor(None, _load_cached_sync, step)


async def _persist_async(step: PersistResult) -> Any:
    return await asyncio.get_running_loop().run_in_executor(None, _persist_sync, step)


async def _acquire_async(step: AcquireSlots) -> Outcome:
    from headwater._private.concurrency import acquire_tag_slots_async
    from headwater.exceptions import ConcurrencySlotAcquisitionError

    try:
        return True, await acquire_tag_slots_async(step.tags, holder=step.holder)
    except ConcurrencySlotAcquisitionError as exc:
        return False, exc


_ASYNC: dict[type, Callable[[Any], Coroutine[Any, Any, Any]]] = {
    Call: _call_async,
    WaitFutures: _wait_futures_async,
    WaitChildren: _wait_children_async,
    Sleep: _sleep_async,
    RunHooks: _hooks_async,
    LoadCached: _load_cached_async,
    PersistResult: _persist_async,
    AcquireSlots: _acquire_async,
}

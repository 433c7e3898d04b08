"""The runtime loop: one background event loop for async work started from sync code.

An async task called or submitted from a sync flow, an async subflow called
from a sync flow and an async hook of a sync run all run here. The loop
starts lazily on first use (``import headwater`` starts nothing) and lives in
a daemon thread, so it never keeps the interpreter alive.

This is the only sync -> async bridge in the package: ``run_coroutine`` blocks
the calling thread, ``submit_coroutine`` returns at once.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import os
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from headwater.exceptions import TerminationSignal

T = TypeVar("T")

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_thread: threading.Thread | None = None


def _serve(loop: asyncio.AbstractEventLoop, ready: threading.Event) -> None:
    asyncio.set_event_loop(loop)
    loop.call_soon(ready.set)
    loop.run_forever()


def get_runtime_loop() -> asyncio.AbstractEventLoop:
    """Return the runtime loop, starting its thread on first call."""
    global _loop, _thread
    loop = _loop
    if loop is not None:
        return loop
    with _lock:
        if _loop is None:
            new_loop = asyncio.new_event_loop()
            ready = threading.Event()
            thread = threading.Thread(
                target=_serve, args=(new_loop, ready), name="headwater-runtime-loop", daemon=True
            )
            thread.start()
            ready.wait()
            _loop, _thread = new_loop, thread
        return _loop


def _after_fork() -> None:
    """In a forked child the loop's thread does not exist: start a new one on first use.

    The inherited loop object is dropped, not closed: its selector shares
    file descriptors with the parent's loop.
    """
    global _lock, _loop, _thread
    _lock, _loop, _thread = threading.Lock(), None, None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)


def on_runtime_loop() -> bool:
    """Return True when the caller runs in the runtime loop's thread."""
    return _thread is not None and threading.current_thread() is _thread


def schedule_on_loop(
    loop: asyncio.AbstractEventLoop,
    factory: Callable[[], Coroutine[Any, Any, T]],
    context: contextvars.Context | None = None,
    started: Callable[[asyncio.Task[T]], None] | None = None,
) -> concurrent.futures.Future[T]:
    """Start ``factory()`` as a task on ``loop`` from any thread; return a thread-safe future.

    The coroutine runs in a copy of ``context`` (the caller's by default), so
    run contexts and tags follow the work onto the loop. ``started`` is
    called with the task, on the loop, as soon as it exists.
    """
    ctx = context if context is not None else contextvars.copy_context()
    result: concurrent.futures.Future[T] = concurrent.futures.Future()

    def start() -> None:
        task = ctx.run(loop.create_task, factory())
        if started is not None:
            started(task)

        def done(t: asyncio.Task[T]) -> None:
            if t.cancelled():
                result.cancel()
            elif (exc := t.exception()) is not None:
                result.set_exception(exc)
            else:
                result.set_result(t.result())

        task.add_done_callback(done)

    loop.call_soon_threadsafe(start)
    return result


def run_coroutine(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run ``factory()`` on the runtime loop and block the calling thread for its result.

    Called from the runtime loop's own thread (where waiting would stop the
    loop that must run the coroutine), it runs the coroutine on a private loop
    in a helper thread instead.
    """
    if on_runtime_loop():
        # Sync code running on the runtime loop (a sync task called directly by an
        # async task) cannot wait for that same loop: run this coroutine on a
        # private loop in a helper thread instead. Rare, and slower, but correct.
        return _run_on_private_loop(factory)
    loop = get_runtime_loop()
    tasks: list[asyncio.Task[T]] = []
    future = schedule_on_loop(loop, factory, started=tasks.append)
    try:
        return future.result()
    except TerminationSignal:
        # SIGTERM interrupted the wait in the main thread (a top-level sync
        # run, see headwater._private.signals): interrupt the coroutine too,
        # and let its runs end Crashed, with their hooks, before the caller's.
        loop.call_soon_threadsafe(_cancel_all, tasks)
        try:
            future.exception()  # waits (wait() would miss a cancelled future)
        except concurrent.futures.CancelledError:
            pass
        raise


def _cancel_all(tasks: list[asyncio.Task[T]]) -> None:
    for task in tasks:
        task.cancel("Received signal SIGTERM")


def _run_on_private_loop(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    ctx = contextvars.copy_context()
    result: concurrent.futures.Future[T] = concurrent.futures.Future()

    def target() -> None:
        try:
            result.set_result(ctx.run(asyncio.run, factory()))
        except BaseException as exc:
            result.set_exception(exc)

    thread = threading.Thread(target=target, name="headwater-nested-loop", daemon=True)
    thread.start()
    return result.result()

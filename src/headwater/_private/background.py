"""The background loop: one event loop in one daemon thread, and one thread for blocking calls.

Everything headwater does behind the user's back runs as a task on this one
loop: the recorder, the log shipper, the concurrency link, the flow-run
watcher, the heartbeats of running flow runs; so does async work started from sync code
(an async task called or submitted from a sync flow, async hooks of a sync
run, the blocking API client). Blocking calls those tasks need (SQLite
writes and reads) run in order on one worker thread, `run_blocking`, so the
loop never waits on a disk.

Threads: ``headwater-loop`` and ``headwater-io``, both daemons (an exit is
never held up by a write stuck on another process's lock: exit flushes are
bounded instead), both started on first use (``import headwater`` starts
nothing), both started afresh in a forked child, where the parent's threads
do not exist.

Crossing between the two worlds takes exactly these calls:

- sync -> loop: `run` (block for the result), `submit` (a thread-safe
  future), `spawn` (fire and forget, errors logged), `call_soon`;
- loop -> blocking: `run_blocking` (awaitable, in the io thread);
- waking a waiting loop task from any thread: `Waker`.

Sync code that runs *on* the loop's own thread (a sync task called directly
by an async task that runs here) must not block for work this loop has to
do: `run` then runs the coroutine on a short-lived helper thread with an
event loop of its own, which is correct but slower; `in_loop_thread` lets
other callers choose a non-blocking path.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import logging
import os
import queue
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from headwater.exceptions import TerminationSignal

__all__ = [
    "Waker",
    "call_soon",
    "get_loop",
    "in_loop_thread",
    "run",
    "run_blocking",
    "schedule_on_loop",
    "spawn",
    "submit",
]

T = TypeVar("T")

LOOP_THREAD_NAME = "headwater-loop"
IO_THREAD_NAME = "headwater-io"

_log = logging.getLogger("headwater.background")
_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_thread: threading.Thread | None = None
_io: _IoThread | None = None
_services: set[asyncio.Task[Any]] = set()  # spawned tasks, kept alive until done


# ---------------------------------------------------------------------- the loop
def _serve(loop: asyncio.AbstractEventLoop, ready: threading.Event) -> None:
    asyncio.set_event_loop(loop)
    loop.call_soon(ready.set)
    loop.run_forever()


def get_loop() -> asyncio.AbstractEventLoop:
    """Return the background loop, starting its thread on first call."""
    global _loop, _thread
    loop = _loop
    if loop is not None:
        return loop
    with _lock:
        if _loop is None:
            new_loop = asyncio.new_event_loop()
            ready = threading.Event()
            thread = threading.Thread(target=_serve, args=(new_loop, ready),
                                      name=LOOP_THREAD_NAME, daemon=True)
            thread.start()
            ready.wait()
            _loop, _thread = new_loop, thread
        return _loop


def in_loop_thread() -> bool:
    """True when the caller runs in the background loop's thread."""
    return _thread is not None and threading.current_thread() is _thread


def call_soon(fn: Callable[[], Any]) -> None:
    """Run ``fn()`` on the loop soon, from any thread (on the loop: after the current step)."""
    get_loop().call_soon_threadsafe(fn)


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
        task.add_done_callback(lambda t: _settle_future(result, t))

    loop.call_soon_threadsafe(start)
    return result


def _settle_future(result: concurrent.futures.Future[T], task: asyncio.Task[T]) -> None:
    if task.cancelled():
        result.cancel()
    elif (exc := task.exception()) is not None:
        result.set_exception(exc)
    else:
        result.set_result(task.result())


def submit(factory: Callable[[], Coroutine[Any, Any, T]],
           context: contextvars.Context | None = None,
           started: Callable[[asyncio.Task[T]], None] | None = None,
           ) -> concurrent.futures.Future[T]:
    """Start ``factory()`` on the background loop; return a thread-safe future."""
    return schedule_on_loop(get_loop(), factory, context, started)


def run(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run ``factory()`` on the background loop and block the calling thread for its result.

    Called from the loop's own thread (where waiting would stop the loop that
    must run the coroutine), it runs the coroutine on a private loop in a
    short-lived helper thread instead: rare (sync code called by an async
    task that runs here), slower, but correct.
    """
    if in_loop_thread():
        return _run_in_helper_thread(factory)
    tasks: list[asyncio.Task[T]] = []
    future = submit(factory, started=tasks.append)
    try:
        return future.result()
    except TerminationSignal:
        # SIGTERM interrupted the wait in the main thread (a top-level sync
        # run, see headwater._private.sigterm): interrupt the coroutine too,
        # and let its runs end Crashed, with their hooks, before the caller's.
        get_loop().call_soon_threadsafe(_cancel_all, tasks)
        try:
            future.exception()  # waits (wait() would miss a cancelled future)
        except concurrent.futures.CancelledError:
            pass
        raise


def _cancel_all(tasks: list[asyncio.Task[T]]) -> None:
    for task in tasks:
        task.cancel("Received signal SIGTERM")


def _run_in_helper_thread(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    ctx = contextvars.copy_context()
    result: concurrent.futures.Future[T] = concurrent.futures.Future()

    def target() -> None:
        try:
            result.set_result(ctx.run(asyncio.run, factory()))
        except BaseException as exc:
            result.set_exception(exc)

    threading.Thread(target=target, name="headwater-nested-loop", daemon=True).start()
    return result.result()


def spawn(factory: Callable[[], Awaitable[Any]], what: str) -> concurrent.futures.Future[Any]:
    """Start a background service ``factory()`` on the loop, from any thread.

    The task is kept alive until it ends; an error it raises is logged with
    ``what`` (a service must never fail silently, nor take the loop down).
    The returned future lets a caller wait for the service to end.
    """
    done: concurrent.futures.Future[Any] = concurrent.futures.Future()

    def start() -> None:
        task = asyncio.ensure_future(factory())
        _services.add(task)
        task.add_done_callback(lambda t: _service_done(t, what, done))

    if in_loop_thread():
        start()
    else:
        call_soon(start)
    return done


def _service_done(task: asyncio.Task[Any], what: str,
                  done: concurrent.futures.Future[Any]) -> None:
    _services.discard(task)
    if not task.cancelled() and (exc := task.exception()) is not None:
        _log.error("headwater's %s stopped on an error: %r", what, exc, exc_info=exc)
    _settle_future(done, task)


class Waker:
    """Wakes one task waiting on the background loop, from any thread, cheaply.

    ``set()`` costs one ``call_soon_threadsafe`` only when the waiter is not
    already woken; ``wait(timeout)`` returns when set or when the timeout
    passes, and clears the flag.
    """

    __slots__ = ("_event", "_pending")

    def __init__(self) -> None:
        self._event: asyncio.Event | None = None
        self._pending = False

    def set(self) -> None:
        """Wake the waiter (from any thread; before its first wait, that wait returns at once)."""
        if self._pending:
            return
        self._pending = True
        event = self._event
        if event is None:
            return  # the first wait() sees _pending
        if in_loop_thread():
            event.set()
            return
        loop = _loop
        if loop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # the loop is stopping at exit
                pass

    async def wait(self, timeout: float | None) -> bool:
        """Wait (on the loop) until set or ``timeout`` seconds; return whether it was set."""
        if self._event is None:
            self._event = asyncio.Event()
        if self._pending:  # set before this wait (or its call_soon is on its way)
            self._event.set()
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
            woken = True
        except asyncio.TimeoutError:
            woken = False
        # In this order: a set() between the two lines schedules one more
        # (harmless) wake instead of being lost.
        self._pending = False
        self._event.clear()
        return woken


# ---------------------------------------------------------------------- blocking calls
class _IoThread:
    """One daemon thread running blocking calls in order, answering through loop futures."""

    def __init__(self) -> None:
        self._calls: queue.SimpleQueue[tuple[Any, ...] | None] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._serve, name=IO_THREAD_NAME, daemon=True)
        self.thread.start()

    def put(self, loop: asyncio.AbstractEventLoop, done: asyncio.Future[Any],
            fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        self._calls.put((loop, done, fn, args))

    def _serve(self) -> None:
        while (call := self._calls.get()) is not None:
            loop, done, fn, args = call
            try:
                outcome: tuple[bool, Any] = (True, fn(*args))
            except BaseException as exc:
                outcome = (False, exc)
            try:
                loop.call_soon_threadsafe(_settle_io, done, outcome)
            except RuntimeError:  # the loop closed meanwhile (exit): nobody waits
                pass
            del call, fn, args, outcome  # the batch is not kept alive until the next one


def _settle_io(done: asyncio.Future[Any], outcome: tuple[bool, Any]) -> None:
    if done.cancelled():
        return
    ok, value = outcome
    if ok:
        done.set_result(value)
    else:
        done.set_exception(value)


def _io_thread() -> _IoThread:
    global _io
    io = _io
    if io is None:
        with _lock:
            if _io is None:
                _io = _IoThread()
            io = _io
    return io


async def run_blocking(fn: Callable[..., T], *args: Any) -> T:
    """Run ``fn(*args)`` on the io thread, in order with the other blocking calls; await it.

    The calling loop is free meanwhile. One thread, so writes keep their
    order and one SQLite connection is never used by two threads at once.
    """
    loop = asyncio.get_running_loop()
    done: asyncio.Future[T] = loop.create_future()
    _io_thread().put(loop, done, fn, args)
    return await done


def headwater_threads() -> list[threading.Thread]:
    """The long-lived threads this module started that are alive (for tests and tools)."""
    return [t for t in (_thread, _io.thread if _io is not None else None)
            if t is not None and t.is_alive()]


def _after_fork() -> None:
    """In a forked child the threads do not exist: start new ones on first use.

    The inherited loop object is dropped, not closed: its selector shares
    file descriptors with the parent's loop.
    """
    global _lock, _loop, _thread, _io
    _lock, _loop, _thread, _io = threading.Lock(), None, None, None
    _services.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)

"""HeadwaterFuture: a handle on a submitted task run, and the functions that wait on many.

Blocking methods (``wait``, ``result``) block the calling thread; their async
twins (``wait_async``, ``result_async``) suspend the calling coroutine and
never block its loop. A future never holds its task's inputs: once the run
ends it keeps only the final State.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, TypeVar

from headwater._private.context import in_async_run_on_loop
from headwater._private.states import State, get_state_result
from headwater.exceptions import AsyncContextError, DeadlockError

if TYPE_CHECKING:
    from headwater._private.protocols import RunnableJob
    from headwater._private.run_records import TaskRun

R = TypeVar("R")

# One lock for every future's bookkeeping: critical sections are a few
# attribute writes, so one shared lock is cheaper than one lock per future.
_LOCK = threading.Lock()


class HeadwaterFuture(Generic[R]):
    """The eventual final state of a task run submitted with ``.submit()`` or ``.map()``.

    ``submit()`` returns it at once; it is never awaited. Sync code calls
    ``wait()`` / ``result()``; async code awaits ``wait_async()`` /
    ``result_async()``.
    """

    __slots__ = ("__weakref__", "_callbacks", "_event", "_job", "_state", "_task_run")

    def __init__(self, task_run: TaskRun, job: RunnableJob | None) -> None:
        self._task_run = task_run
        self._job = job
        self._state: State[R] | None = None
        self._event: threading.Event | None = None
        self._callbacks: list[Callable[[HeadwaterFuture[R]], None]] | None = None

    # ------------------------------------------------------------------ identity
    @property
    def task_run_id(self) -> uuid.UUID:
        """The id of the task run behind this future."""
        return self._task_run.id

    @property
    def task_run(self) -> TaskRun:
        """The task run record behind this future."""
        return self._task_run

    @property
    def state(self) -> State[R]:
        """The run's current state (final once ``done()``)."""
        return self.get_state()

    def get_state(self) -> State[R]:
        """Return the current state without waiting."""
        state = self._state
        if state is not None:
            return state
        current = self._task_run.state
        assert current is not None
        return current

    def done(self) -> bool:
        """Return True once the run has reached its final state."""
        return self._state is not None

    # ------------------------------------------------------------------ completion
    def _finish(self, state: State[R]) -> None:
        """Set the final state, wake waiters, run callbacks (called once, by the engine)."""
        with _LOCK:
            self._state = state
            self._job = None
            event, callbacks = self._event, self._callbacks
            self._callbacks = None
        if event is not None:
            event.set()
        if callbacks:
            for callback in callbacks:
                _safe_call(callback, self)

    def add_done_callback(self, fn: Callable[[HeadwaterFuture[R]], None]) -> None:
        """Call ``fn(future)`` when the run is final (at once if it already is).

        The callback runs in whichever thread finishes the run; exceptions it
        raises are logged, not propagated.
        """
        with _LOCK:
            if self._state is None:
                if self._callbacks is None:
                    self._callbacks = []
                self._callbacks.append(fn)
                return
        _safe_call(fn, self)

    # ------------------------------------------------------------------ sync waiting
    def wait(self, timeout: float | None = None) -> State[R] | None:
        """Block until the run is final; return its state, or None on timeout.

        Raises:
            AsyncContextError: Called from async flow or task code; use
                ``await future.wait_async()`` there.
            DeadlockError: The run needs the event loop of the calling thread.
        """
        if self._state is not None and not in_async_run_on_loop():
            return self._state
        self._check_may_block("wait")
        return self._block(timeout)

    def result(self, timeout: float | None = None, raise_on_failure: bool = True) -> R:
        """Block until the run is final and return its result.

        Args:
            timeout: Seconds to wait at most; ``TimeoutError`` after that.
            raise_on_failure: If False, return a failed run's exception instead
                of raising it.

        Raises:
            TimeoutError: The run did not finish within ``timeout``.
            AsyncContextError: Called from async flow or task code; use
                ``await future.result_async()`` there.
        """
        if self._state is None or in_async_run_on_loop():
            self._check_may_block("result")
            if self._block(timeout) is None:
                raise TimeoutError(
                    f"Task run {self._task_run.name!r} did not finish within {timeout} seconds."
                )
        assert self._state is not None
        return get_state_result(self._state, raise_on_failure)  # type: ignore[no-any-return]

    def _check_may_block(self, method: str) -> None:
        if in_async_run_on_loop():
            raise AsyncContextError(
                f"HeadwaterFuture.{method}() blocks the calling thread and is not for async "
                f"code; use 'await future.{method}_async()' instead (the Prefect 2 idiom "
                f"'await future.{method}()' becomes 'await future.{method}_async()')."
            )
        job = self._job
        if job is not None and job.needs_current_loop():
            raise DeadlockError(
                f"future.{method}() would block the event loop that has to run task run "
                f"{self._task_run.name!r}, and wait forever. In async code, wait with "
                f"'await future.{method}_async()'; to pass the result to a sync task called "
                "directly, await it first (value = await future.result_async()) or .submit() "
                "the sync task instead."
            )

    def _block(self, timeout: float | None) -> State[R] | None:
        job = self._job
        if timeout is None and job is not None and job.help():
            # The job was not started yet, so this thread ran it: no worker
            # thread sits blocked on work queued behind it.
            pass
        if self._state is not None:
            return self._state
        with _LOCK:
            if self._state is None and self._event is None:
                self._event = threading.Event()
            event = self._event
        if event is not None and not event.wait(timeout):
            return None
        return self._state

    # ------------------------------------------------------------------ async waiting
    async def wait_async(self, timeout: float | None = None) -> State[R] | None:
        """Async twin of `wait`: suspend until final; None on timeout."""
        if self._state is not None:
            return self._state
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()

        def wake(_: HeadwaterFuture[R]) -> None:
            def set_done() -> None:
                if not waiter.done():
                    waiter.set_result(None)

            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is loop:
                set_done()
            else:
                loop.call_soon_threadsafe(set_done)

        self.add_done_callback(wake)
        if timeout is None:
            await waiter
        else:
            try:
                await asyncio.wait_for(waiter, timeout)
            except asyncio.TimeoutError:
                return None
        return self._state

    async def result_async(self, timeout: float | None = None,
                           raise_on_failure: bool = True) -> R:
        """Async twin of `result`."""
        if await self.wait_async(timeout) is None:
            raise TimeoutError(
                f"Task run {self._task_run.name!r} did not finish within {timeout} seconds."
            )
        assert self._state is not None
        return get_state_result(self._state, raise_on_failure)  # type: ignore[no-any-return]

    def __await__(self) -> Any:
        raise AsyncContextError(
            "A HeadwaterFuture is not awaitable: submit() and map() return at once, so drop "
            "the 'await' before task.submit(...). To wait for the run, use "
            "'await future.wait_async()' or 'await future.result_async()'."
        )

    def __repr__(self) -> str:
        return f"HeadwaterFuture({self._task_run.name!r}, state={self.get_state()!r})"


def _safe_call(fn: Callable[[Any], None], arg: Any) -> None:
    try:
        fn(arg)
    except Exception:
        import logging

        logging.getLogger("headwater.futures").exception(
            "A done callback raised an exception; it was ignored."
        )


class DoneAndNotDoneFutures(NamedTuple):
    """The result of `wait`: the futures that finished and those that did not."""

    done: set[HeadwaterFuture[Any]]
    not_done: set[HeadwaterFuture[Any]]


class HeadwaterFutureList(list[HeadwaterFuture[R]]):
    """The list ``Task.map`` returns, with helpers to wait on all of it."""

    def wait(self, timeout: float | None = None) -> None:
        """Block until every future is final or ``timeout`` passes."""
        wait(self, timeout)

    def result(self, timeout: float | None = None, raise_on_failure: bool = True) -> list[R]:
        """Block for every result, in order."""
        deadline = None if timeout is None else time.monotonic() + timeout
        out = []
        for future in self:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            out.append(future.result(left, raise_on_failure))
        return out

    async def wait_async(self, timeout: float | None = None) -> None:
        """Async twin of `wait`."""
        await wait_async(self, timeout)

    async def result_async(self, timeout: float | None = None,
                           raise_on_failure: bool = True) -> list[R]:
        """Async twin of `result`."""
        await wait_async(self, timeout)
        return [await f.result_async(0 if timeout is not None else None, raise_on_failure)
                for f in self]


def wait(futures: Iterable[HeadwaterFuture[R]],
         timeout: float | None = None) -> DoneAndNotDoneFutures:
    """Block until every future is final or ``timeout`` passes.

    Returns:
        ``(done, not_done)``: two sets of futures.
    """
    unique = list(dict.fromkeys(futures))
    deadline = None if timeout is None else time.monotonic() + timeout
    for future in unique:
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        if future.wait(left) is None:
            break
    done = {f for f in unique if f.done()}
    return DoneAndNotDoneFutures(done, set(unique) - done)


async def wait_async(futures: Iterable[HeadwaterFuture[R]],
                     timeout: float | None = None) -> DoneAndNotDoneFutures:
    """Async twin of `wait`."""
    unique = list(dict.fromkeys(futures))
    pending = [f.wait_async() for f in unique if not f.done()]
    if pending:
        gathered = asyncio.gather(*pending)
        try:
            await asyncio.wait_for(gathered, timeout)
        except asyncio.TimeoutError:
            pass
    done = {f for f in unique if f.done()}
    return DoneAndNotDoneFutures(done, set(unique) - done)


def as_completed(futures: Iterable[HeadwaterFuture[R]],
                 timeout: float | None = None) -> Iterator[HeadwaterFuture[R]]:
    """Yield futures as they finish, first finished first.

    Raises:
        TimeoutError: Some futures were not final after ``timeout`` seconds.
    """
    unique = list(dict.fromkeys(futures))
    finished: list[HeadwaterFuture[R]] = []
    cond = threading.Condition()

    def on_done(f: HeadwaterFuture[R]) -> None:
        with cond:
            finished.append(f)
            cond.notify()

    for future in unique:
        future.add_done_callback(on_done)
    deadline = None if timeout is None else time.monotonic() + timeout
    yielded = 0
    while yielded < len(unique):
        with cond:
            while not finished:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise TimeoutError(
                        f"{len(unique) - yielded} (of {len(unique)}) futures unfinished "
                        f"after {timeout} seconds."
                    )
                cond.wait(left)
            batch = finished[:]
            finished.clear()
        for future in batch:
            yielded += 1
            yield future


async def as_completed_async(futures: Iterable[HeadwaterFuture[R]],
                             timeout: float | None = None) -> AsyncIterator[HeadwaterFuture[R]]:
    """Async twin of `as_completed`."""
    unique = list(dict.fromkeys(futures))

    async def waiter(f: HeadwaterFuture[R]) -> HeadwaterFuture[R]:
        await f.wait_async()
        return f

    tasks = [asyncio.ensure_future(waiter(f)) for f in unique]
    try:
        for next_done in asyncio.as_completed(tasks, timeout=timeout):
            yield await next_done
    except asyncio.TimeoutError:
        raise TimeoutError(f"Futures unfinished after {timeout} seconds.") from None
    finally:
        for t in tasks:
            t.cancel()

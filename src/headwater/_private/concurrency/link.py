"""`ApiLink`: the API concurrency backend's bridge to the background loop, and its client.

Slots are taken, renewed and released through the API (or the embedded
SQLite file) by tasks on the background loop (`headwater._private.background`),
so that waiting for a slot never needs the caller's loop, and renewals go
on while the caller's threads are busy running tasks. The client is built
on that loop, on first use.

The link tracks the tasks it starts, so that closing one backend cancels
its own queue and renewals, never another service's tasks on the shared loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from headwater._private import background
from headwater.exceptions import DeadlockError

if TYPE_CHECKING:
    from headwater.client import HeadwaterClient

T = TypeVar("T")

_logger = logging.getLogger("headwater.concurrency")


class ApiLink:
    """The background loop as one backend uses it, and the client it owns.

    Args:
        client_factory: Builds the client, called once, on the background loop.
    """

    def __init__(self, client_factory: Callable[[], HeadwaterClient]) -> None:
        self._factory = client_factory
        self._client: HeadwaterClient | None = None
        self._pending: set[asyncio.Task[Any]] = set()  # spawned: drain() waits for them
        self._tasks: set[asyncio.Task[Any]] = set()  # started: close() cancels them

    def client(self) -> HeadwaterClient:
        """The client; call it on the loop only."""
        if self._client is None:
            self._client = self._factory()
        return self._client

    # ------------------------------------------------------------------ crossing over
    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Start ``coro`` on the loop; return a thread-safe future."""
        return asyncio.run_coroutine_threadsafe(coro, background.get_loop())

    def call(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run ``coro`` on the loop and block until it is done (never from the loop)."""
        self.refuse_on_loop(coro)
        return self.submit(coro).result(timeout)

    @staticmethod
    def refuse_on_loop(coro: Coroutine[Any, Any, Any] | None = None) -> None:
        """Raise instead of blocking the loop that must answer (sync code running on it)."""
        if background.in_loop_thread():
            if coro is not None:
                coro.close()
            raise DeadlockError(
                "A blocking call for concurrency slots was made on headwater's background "
                "loop (a sync task with a limited tag, called directly by an async task that "
                "a sync flow runs): it would wait for the loop it blocks. Submit the sync "
                "task with .submit(), or make it async.")

    def call_soon(self, fn: Callable[[], None]) -> None:
        """Run ``fn()`` on the loop, from any thread."""
        background.call_soon(fn)

    def start(self, coro: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        """Start ``coro`` as a task of this link (on the loop); `close` cancels it."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def spawn(self, factory: Callable[[], Awaitable[Any]]) -> None:
        """Start ``factory()`` on the loop without waiting; `drain` waits for it."""
        def start() -> None:
            task = asyncio.ensure_future(factory())
            self._pending.add(task)
            task.add_done_callback(self._spawned_done)

        if background.in_loop_thread():
            start()
        else:
            self.call_soon(start)

    def _spawned_done(self, task: asyncio.Task[Any]) -> None:
        self._pending.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            _logger.warning("Concurrency slot bookkeeping failed: %s", exc)

    async def drain(self) -> None:
        """Wait for what `spawn` started (on the loop)."""
        while self._pending:
            await asyncio.wait(set(self._pending))

    def close(self, timeout: float = 5.0) -> None:
        """Finish spawned work, cancel this link's tasks and close the client (idempotent)."""
        async def shutdown() -> None:
            await self.drain()
            others = list(self._tasks)
            for task in others:  # waiters' queue, renewals: nobody is left to serve
                task.cancel()
            await asyncio.gather(*others, return_exceptions=True)
            if self._client is not None:
                await self._client.aclose()
                self._client = None

        if not (self._pending or self._tasks or self._client is not None):
            return
        if background.in_loop_thread():
            background.spawn(shutdown, "concurrency link shutdown")
            return
        try:
            self.submit(shutdown()).result(timeout)
        except Exception as exc:  # exiting anyway: say so, do not raise
            _logger.warning("Could not release concurrency slots cleanly: %s", exc)

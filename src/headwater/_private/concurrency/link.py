"""`ApiLink`: the API backend's own event loop thread and API client.

Slots are taken, renewed and released through the API from this thread, so
that waiting for a slot never needs the caller's loop, and renewals go on
while the caller's threads are busy running tasks. The thread is a daemon,
started on first use; the client is built inside it (an embedded app lives
on this loop).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from headwater.client import HeadwaterClient

T = TypeVar("T")

_logger = logging.getLogger("headwater.concurrency")


class ApiLink:
    """A background loop and the client it owns.

    Args:
        client_factory: Builds the client, called once, inside the loop's thread.
    """

    def __init__(self, client_factory: Callable[[], HeadwaterClient]) -> None:
        self._factory = client_factory
        self._client: HeadwaterClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._pending: set[asyncio.Task[Any]] = set()

    # ------------------------------------------------------------------ the loop
    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The loop, started on first use."""
        loop = self._loop
        if loop is not None:
            return loop
        with self._lock:
            if self._loop is None:
                new_loop = asyncio.new_event_loop()
                ready = threading.Event()
                thread = threading.Thread(target=self._serve, args=(new_loop, ready),
                                          name="headwater-concurrency", daemon=True)
                thread.start()
                ready.wait()
                self._loop, self._thread = new_loop, thread
            return self._loop

    @staticmethod
    def _serve(loop: asyncio.AbstractEventLoop, ready: threading.Event) -> None:
        asyncio.set_event_loop(loop)
        loop.call_soon(ready.set)
        loop.run_forever()

    def on_loop(self) -> bool:
        """True when called from the loop's own thread."""
        return self._thread is not None and threading.current_thread() is self._thread

    def client(self) -> HeadwaterClient:
        """The client; call it on the loop only."""
        if self._client is None:
            self._client = self._factory()
        return self._client

    # ------------------------------------------------------------------ crossing over
    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Start ``coro`` on the loop; return a thread-safe future."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def call(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run ``coro`` on the loop and block until it is done (never from the loop)."""
        if self.on_loop():
            coro.close()
            raise RuntimeError("ApiLink.call would block its own loop")
        return self.submit(coro).result(timeout)

    def call_soon(self, fn: Callable[[], None]) -> None:
        """Run ``fn()`` on the loop, from any thread."""
        self.loop.call_soon_threadsafe(fn)

    def spawn(self, factory: Callable[[], Awaitable[Any]]) -> None:
        """Start ``factory()`` on the loop without waiting; `drain` waits for it."""
        def start() -> None:
            task = asyncio.ensure_future(factory())
            self._pending.add(task)
            task.add_done_callback(self._spawned_done)

        if self.on_loop():
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
        """Finish spawned work, close the client and stop the loop (idempotent)."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None or loop.is_closed() or not thread.is_alive():
            return

        async def shutdown() -> None:
            await self.drain()
            others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in others:  # waiters' queue, renewals: nobody is left to serve
                task.cancel()
            await asyncio.gather(*others, return_exceptions=True)
            if self._client is not None:
                await self._client.aclose()
                self._client = None

        try:
            self.submit(shutdown()).result(timeout)
        except Exception as exc:  # exiting anyway: say so, do not raise
            _logger.warning("Could not release concurrency slots cleanly: %s", exc)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        if not thread.is_alive():
            loop.close()
        with self._lock:
            self._loop = self._thread = None

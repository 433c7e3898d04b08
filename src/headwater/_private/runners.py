"""Task runners: where submitted task runs execute.

A runner receives *jobs* whose upstream futures are already final (the engine
holds a job back until then), so a worker never sits blocked on work queued
behind it and a bounded pool cannot deadlock on data dependencies. A job is
run by calling ``job.execute()`` in a worker thread (sync tasks) or by
awaiting ``job.execute_async()`` on an event loop (async tasks).

To plug in another runner (a distributed one), subclass `TaskRunner`
and implement ``submit`` (and ``start``/``shutdown`` if it holds resources).
"""

from __future__ import annotations

import abc
import asyncio
import concurrent.futures
import contextvars
import threading
from typing import TYPE_CHECKING, Any

from typing_extensions import Self

from headwater._private import background

if TYPE_CHECKING:
    from headwater._private.protocols import RunnableJob

DEFAULT_MAX_WORKERS = 100


class TaskRunner(abc.ABC):
    """Runs submitted task runs. One instance per flow run (see `duplicate`)."""

    @property
    def name(self) -> str:
        """A short name for logs: the class name without ``TaskRunner``, lower-cased."""
        return type(self).__name__.replace("TaskRunner", "").lower() or "taskrunner"

    def duplicate(self) -> Self:
        """Return a fresh, unstarted runner with the same settings (one per flow run)."""
        return type(self)()

    def start(self) -> None:  # noqa: B027 - optional hook, empty by design
        """Acquire resources before the flow run submits work."""

    def shutdown(self) -> None:  # noqa: B027 - optional hook, empty by design
        """Release resources once every submitted job has finished."""

    @abc.abstractmethod
    def submit(self, job: RunnableJob) -> None:
        """Start ``job`` now, or queue it; must not block on the job's completion."""

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown()

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def submit_async_job(job: RunnableJob) -> None:
    """Start an async job on its loop: the flow's loop, or the background loop for sync flows."""
    loop = job.loop
    if loop is None:
        loop = job.loop = background.get_loop()
    try:
        on_loop = asyncio.get_running_loop() is loop
    except RuntimeError:
        on_loop = False
    if on_loop:
        job.async_task = _context_of(job).run(loop.create_task, job.execute_async())
    else:
        background.schedule_on_loop(loop, job.execute_async, job.context)


class ThreadPoolTaskRunner(TaskRunner):
    """Runs sync tasks in a pool of threads and async tasks on an event loop.

    Args:
        max_workers: The most threads running sync tasks at once in one flow
            run. Defaults to the ``HEADWATER_TASK_RUNNER_THREAD_POOL_MAX_WORKERS``
            setting, or 100.
    """

    def __init__(self, max_workers: int | None = None) -> None:
        if max_workers is not None and (
            isinstance(max_workers, bool) or not isinstance(max_workers, int) or max_workers < 1
        ):
            raise ValueError(f"max_workers must be a whole number >= 1, got {max_workers!r}.")
        self.max_workers = max_workers
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def duplicate(self) -> Self:
        """Return a fresh runner with the same ``max_workers``."""
        return type(self)(self.max_workers)

    def _pool(self) -> concurrent.futures.ThreadPoolExecutor:
        executor = self._executor
        if executor is None:
            with self._lock:
                if self._executor is None:
                    self._executor = concurrent.futures.ThreadPoolExecutor(
                        max_workers=self.max_workers or _default_max_workers(),
                        thread_name_prefix="headwater-task",
                    )
                executor = self._executor
        return executor

    def submit(self, job: RunnableJob) -> None:
        """Queue a sync job on the pool, or start an async job on its loop."""
        if job.is_async:
            submit_async_job(job)
        else:
            self._pool().submit(_run_if_unclaimed, job)

    def shutdown(self) -> None:
        """Let the pool's threads exit; the flow has already waited for its jobs."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False)

    def __repr__(self) -> str:
        return f"ThreadPoolTaskRunner(max_workers={self.max_workers!r})"


ConcurrentTaskRunner = ThreadPoolTaskRunner
"""Prefect 2's name for `ThreadPoolTaskRunner`."""


class SequentialTaskRunner(TaskRunner):
    """Runs each submitted task to completion before ``submit()`` returns.

    Sync tasks run in the calling thread; async tasks submitted from async
    code run one after another on the flow's loop.
    """

    def __init__(self) -> None:
        self._previous: Any = None

    def submit(self, job: RunnableJob) -> None:
        """Run ``job`` now (sync), or chain it after the previous async job."""
        if not job.is_async:
            if job.try_claim():
                job.execute()
            return
        if job.loop is None or not _on_loop(job.loop):
            # Sync caller: run the async task to completion before returning.
            if job.try_claim():
                background.run(job.execute_async_claimed)
            return
        previous = self._previous

        async def chained() -> None:
            if previous is not None:
                await asyncio.wait({previous})
            await job.execute_async()

        self._previous = job.async_task = _context_of(job).run(job.loop.create_task, chained())


def _context_of(job: RunnableJob) -> contextvars.Context:
    """The context the job was submitted in (a copy of the caller's for direct calls)."""
    return job.context if job.context is not None else contextvars.copy_context()


def _on_loop(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False


def _run_if_unclaimed(job: RunnableJob) -> None:
    # A thread waiting on this job's future may have run it already (see
    # Job.help); claiming makes sure it runs exactly once.
    if job.try_claim():
        job.execute()


def _default_max_workers() -> int:
    from headwater._private.settings import get_current_settings

    configured = get_current_settings().task_runner.thread_pool_max_workers
    return configured if configured is not None else DEFAULT_MAX_WORKERS

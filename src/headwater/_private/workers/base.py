"""`BaseWorker`: what every worker type shares; a type says only how to start and stop a run.

One round of a worker (`BaseWorker.run_once`):

1. its heartbeat (``POST /work_pools/{pool}/workers/heartbeat``), every
   ``HEADWATER_WORKER_HEARTBEAT_SECONDS``, with its labels and host;
2. its runs: a run whose execution ended is reported (a run left in a
   non-final state by its process is marked Crashed, or Cancelled if it was
   Cancelling, with the exit code in the message); a run that someone asked
   to cancel (state CANCELLING) is sent `terminate`, and `kill` once
   ``HEADWATER_WORKER_CANCEL_GRACE_SECONDS`` have passed;
3. new runs: ``get_scheduled_flow_runs`` claims up to the free capacity
   (``limit``) of the runs this worker may take (queues, labels, limits:
   the server decides, atomically) and each is `launch`\\ ed.

A worker type subclasses `BaseWorker` and implements `launch`,
`exit_code`, `terminate` and `kill` (see ``docs/workers.md`` for a Docker
or Kubernetes sketch). Times come from the injected clock.
"""

from __future__ import annotations

import abc
import asyncio
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from headwater._private.clock import Clock, get_clock
from headwater._private.labels import as_labels
from headwater._private.version_lock import VERSION_LOCKED_EXIT_CODE

__all__ = ["BaseWorker", "WorkerRun"]

_logger = logging.getLogger("headwater.worker")
_FINAL = frozenset({"COMPLETED", "FAILED", "CANCELLED", "CRASHED"})
#: Seconds between two looks of a running worker at its runs (exits, cancels).
SUPERVISE_SECONDS = 1.0
_detached: list[Any] = []  # handles of runs left running by a stopped worker, kept for the process


@dataclass
class WorkerRun:
    """A run this worker launched, while it supervises it."""

    flow_run_id: uuid.UUID
    handle: Any
    terminated_at: float | None = None  # the clock's time when `terminate` was sent
    killed: bool = False


class BaseWorker(abc.ABC):
    """A worker of one work pool. Use it as an async context manager, then `start` or `run_once`.

    Args:
        work_pool_name: The pool it takes runs from (created, of this worker's
            type, if it does not exist).
        work_queues: Only these queues of the pool (None: all of them).
        name: Its name in the pool (default: ``<type>-<8 hex digits>``).
        labels: What it offers; it takes runs whose labels are a subset. A
            list: a single string is an error.
        limit: At most this many runs at once (None: no limit of its own).
        client: A `HeadwaterClient` (default: one for the current target,
            closed with the worker).
        clock: The clock of its intervals (tests pass a `FakeClock`).
    """

    type: ClassVar[str] = "base"

    def __init__(self, work_pool_name: str, *, work_queues: Sequence[str] | None = None,
                 name: str | None = None, labels: Sequence[str] | None = None,
                 limit: int | None = None, client: Any = None,
                 clock: Clock | None = None) -> None:
        from headwater._private.settings import get_current_settings

        if limit is not None and limit < 1:
            raise ValueError(f"limit must be at least 1 (or None for no limit), not {limit}.")
        self.work_pool_name = work_pool_name
        self.work_queues = (as_labels(work_queues, "work_queues")
                            if work_queues is not None else None)
        self.name = name or f"{self.type}-{uuid.uuid4().hex[:8]}"
        self.labels = as_labels(labels)
        self.limit = limit
        self.clock = clock or get_clock()
        settings = get_current_settings().worker
        self.heartbeat_seconds = settings.heartbeat_seconds
        self.query_seconds = settings.query_seconds
        self.cancel_grace_seconds = settings.cancel_grace_seconds
        self._client = client
        self._own_client = client is None
        self._last_heartbeat: float | None = None
        self.runs: dict[uuid.UUID, WorkerRun] = {}

    # ------------------------------------------------------------------ what a type implements
    @abc.abstractmethod
    async def launch(self, flow_run: dict[str, Any]) -> Any:
        """Start executing a claimed flow run (already PENDING); return a handle to it."""

    @abc.abstractmethod
    def exit_code(self, handle: Any) -> int | None:
        """The execution's exit code once it has ended; None while it runs."""

    @abc.abstractmethod
    def terminate(self, handle: Any) -> None:
        """Ask the execution to stop (SIGTERM to a process group)."""

    @abc.abstractmethod
    def kill(self, handle: Any) -> None:
        """Stop the execution now (SIGKILL to a process group)."""

    # ------------------------------------------------------------------ lifecycle
    @property
    def client(self) -> Any:
        """The API client (set when the worker is entered)."""
        if self._client is None:
            raise RuntimeError("Enter the worker first: `async with worker: ...`")
        return self._client

    async def __aenter__(self) -> BaseWorker:
        if self._client is None:
            from headwater._private.target import current_target

            self._client = current_target().client()
        await self._ensure_pool()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        for run in self.runs.values():
            _logger.info("Worker %r stops; flow run %s keeps running (its own heartbeats tell "
                         "whether it lives).", self.name, run.flow_run_id)
        _detached.extend(run.handle for run in self.runs.values())
        self.runs.clear()
        if self._own_client and self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _ensure_pool(self) -> None:
        from headwater.client import APIError

        try:
            await self.client.read_work_pool(self.work_pool_name)
        except APIError as exc:
            if exc.status_code != 404:
                raise
            try:
                await self.client.create_work_pool(self.work_pool_name, type=self.type)
            except APIError as again:
                if again.status_code != 409:  # another worker created it meanwhile
                    raise
            _logger.info("Created work pool %r (%s).", self.work_pool_name, self.type)

    async def start(self, stop: asyncio.Event | None = None) -> None:
        """Run rounds until ``stop`` is set.

        Its runs are supervised every second (a cancel stops its process
        group within about a second); new runs are claimed every
        ``HEADWATER_WORKER_QUERY_SECONDS``. Runs still executing when it
        returns keep running (each in its own process group, sending its own
        heartbeats).
        """
        stop = stop or asyncio.Event()
        _logger.info("Worker %r started: pool %r, queues %s, labels %s, limit %s.", self.name,
                     self.work_pool_name, self.work_queues or "all", self.labels or "none",
                     self.limit or "none")
        last_claim: float | None = None
        while not stop.is_set():
            now = self.clock.monotonic()
            claim = last_claim is None or now - last_claim >= self.query_seconds
            try:
                await self.heartbeat()
                await self.supervise()
                if claim:
                    last_claim = now
                    await self.get_and_submit_flow_runs()
            except Exception as exc:  # the API may be down: try again next round
                _logger.warning("Worker %r: this round failed: %r", self.name, exc)
            try:
                await asyncio.wait_for(stop.wait(), min(self.query_seconds, SUPERVISE_SECONDS))
            except asyncio.TimeoutError:
                pass

    async def run_once(self) -> list[dict[str, Any]]:
        """One round (see the module docs); returns the runs launched."""
        await self.heartbeat()
        await self.supervise()
        return await self.get_and_submit_flow_runs()

    # ------------------------------------------------------------------ one round
    async def heartbeat(self, force: bool = False) -> bool:
        """Send the worker's heartbeat if one is due; return whether it was sent."""
        now = self.clock.monotonic()
        if (not force and self._last_heartbeat is not None
                and now - self._last_heartbeat < self.heartbeat_seconds):
            return False
        from headwater._private.storage.processes import local_host

        await self.client.send_worker_heartbeat(
            self.work_pool_name, self.name, heartbeat_interval_seconds=self.heartbeat_seconds,
            labels=self.labels, host=local_host())
        self._last_heartbeat = now
        return True

    async def get_and_submit_flow_runs(self) -> list[dict[str, Any]]:
        """Claim what this worker may take now and launch it."""
        capacity = None if self.limit is None else self.limit - len(self.runs)
        if capacity is not None and capacity <= 0:
            return []
        claimed = await self.client.get_scheduled_flow_runs_for_work_pool(
            self.work_pool_name, work_queue_names=self.work_queues, limit=capacity,
            worker_name=self.name, labels=self.labels)
        launched = [item["flow_run"] for item in claimed]
        return [run for run in launched if await self.submit(run)]

    async def submit(self, flow_run: dict[str, Any]) -> bool:
        """Launch a claimed run and supervise it; a launch that fails crashes the run."""
        run_id = uuid.UUID(str(flow_run["id"]))
        try:
            handle = await self.launch(flow_run)
        except Exception as exc:
            _logger.error("Worker %r could not launch flow run %s: %r", self.name, run_id, exc)
            await self._finish(run_id, "CRASHED", f"Worker {self.name!r} could not start the "
                               f"flow run: {type(exc).__name__}: {exc}")
            return False
        self.runs[run_id] = WorkerRun(run_id, handle)
        _logger.info("Worker %r launched flow run %s.", self.name, run_id)
        return True

    async def supervise(self) -> None:
        """Report the runs whose execution ended; stop the ones asked to cancel."""
        for ended in list(self.runs.values()):
            code = self.exit_code(ended.handle)
            if code is not None:
                del self.runs[ended.flow_run_id]
                await self.report_exit(ended, code)
        if not self.runs:
            return
        cancelling = await self.client.read_flow_runs_by_id(list(self.runs),
                                                            state_types=["CANCELLING"])
        now = self.clock.monotonic()
        for found in cancelling:
            asked = self.runs.get(uuid.UUID(str(found["id"])))
            if asked is None:
                continue
            run = asked
            if run.terminated_at is None:
                _logger.info("Worker %r: flow run %s is cancelling: SIGTERM to its process "
                             "group.", self.name, run.flow_run_id)
                self.terminate(run.handle)
                run.terminated_at = now
            elif not run.killed and now - run.terminated_at >= self.cancel_grace_seconds:
                _logger.info("Worker %r: flow run %s still runs %.0f s after SIGTERM: SIGKILL.",
                             self.name, run.flow_run_id, self.cancel_grace_seconds)
                self.kill(run.handle)
                run.killed = True

    async def report_exit(self, run: WorkerRun, code: int) -> None:
        """The execution of ``run`` ended with ``code``: a run it left unfinished ends here."""
        current = await self.client.read_flow_run(run.flow_run_id)
        state = str((current.get("state") or {}).get("type") or current.get("state_type"))
        _logger.info("Worker %r: flow run %s's process exited with code %s (%s).", self.name,
                     run.flow_run_id, code, state)
        if state in _FINAL or code == VERSION_LOCKED_EXIT_CODE:
            return  # a start the version lock refused: the run is its holder's
        if state == "CANCELLING" or run.terminated_at is not None:
            await self._finish(run.flow_run_id, "CANCELLED",
                               f"Cancelled: worker {self.name!r} stopped its process "
                               f"(exit code {code}).")
        else:
            await self._finish(run.flow_run_id, "CRASHED",
                               f"The flow run's process exited with code {code} without "
                               f"reporting a final state (worker {self.name!r}).")

    async def _finish(self, run_id: uuid.UUID, type_: str, message: str) -> None:
        await self.client.set_flow_run_state(run_id, {"type": type_, "message": message},
                                             force=True)

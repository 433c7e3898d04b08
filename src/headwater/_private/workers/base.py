"""`BaseWorker`: what every worker type shares; a type says only how to start and stop a run.

One round of a worker (`BaseWorker.run_once`):

1. its heartbeat (``POST /work_pools/{pool}/workers/heartbeat``), every
   ``HEADWATER_WORKER_HEARTBEAT_SECONDS``, with its labels and host;
2. its runs: a run whose execution ended is reported (a run left in a
   non-final state by its process is marked Crashed, or Cancelled if it was
   Cancelling, with the exit code in the message; one left Paused, or
   Scheduled, was suspended and is left alone); a run that someone asked
   to cancel (state CANCELLING) is sent `terminate`, and `kill` once
   ``HEADWATER_WORKER_CANCEL_GRACE_SECONDS`` have passed;
3. new runs: ``get_scheduled_flow_runs`` claims up to the free capacity
   (``limit``) of the runs this worker may take (queues, labels, limits:
   the server decides, atomically) and each is `launch`\\ ed.

The worker supervises its runs, and they do not outlive it: leaving the
``async with`` block (a stop, Ctrl-C, SIGTERM) stops the runs still
executing (`stop_runs`: SIGTERM, SIGKILL after the grace period, a run left
unfinished ends Crashed), and a worker process that dies without that
(``kill -9``) takes its runs down through their lifelines
(:mod:`~headwater._private.lifeline`; the zombie check then marks them
Crashed and Lazarus reschedules them). `wait_for_runs` lets runs finish
first (``worker start --run-once``).

A worker type subclasses `BaseWorker` and implements `launch`,
`exit_code`, `terminate` and `kill`, and `release` if a run holds
resources in the worker (see ``docs/workers.md`` for a Docker or
Kubernetes sketch). Times come from the injected clock.
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
#: Seconds between two looks at runs' processes while a worker waits for them to end.
_POLL_SECONDS = 0.1
#: Seconds a stopping worker waits for a killed execution to end before it leaves it.
_KILLED_SECONDS = 10.0


@dataclass
class WorkerRun:
    """A run this worker launched, while it supervises it."""

    flow_run_id: uuid.UUID
    handle: Any
    terminated_at: float | None = None  # the clock's time when `terminate` was sent
    killed: bool = False
    cancelled: bool = False  # stopped because its run was cancelling
    beaten_at: float | None = None  # the clock's time of the worker's last beat for it


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
        self.run_heartbeat_seconds = get_current_settings().flow_run.heartbeat_seconds
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

    def release(self, handle: Any) -> None:  # noqa: B027 - optional hook, empty by design
        """The execution ended and was reported: free what the worker held for it."""

    def pid_of(self, handle: Any) -> int | None:
        """The pid of the execution's process on this host (None: not a local process).

        With it the worker sends the heartbeats of its runs until they are Running
        (then their process sends its own), so a run whose process dies while
        Pending (its worker was killed) is found by the zombie check too.
        """
        return None

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
        try:
            await self.stop_runs()
        finally:
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
        returns are stopped when the worker is left (`stop_runs`).
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
            await self._pause(stop, min(self.query_seconds, SUPERVISE_SECONDS))

    async def wait_for_runs(self, stop: asyncio.Event | None = None) -> None:
        """Supervise the runs (heartbeats, cancels, exits) until none is left or ``stop`` is set.

        New runs are not claimed meanwhile.
        """
        stop = stop or asyncio.Event()
        while self.runs and not stop.is_set():
            try:
                await self.heartbeat()
                await self.supervise()
            except Exception as exc:  # the API may be down: try again next round
                _logger.warning("Worker %r: this round failed: %r", self.name, exc)
            if self.runs:
                await self._pause(stop, SUPERVISE_SECONDS)

    async def stop_runs(self) -> None:
        """Stop the runs still executing: the worker is going away and they go with it.

        Each gets `terminate` (a flow run ends Crashed on SIGTERM, running its
        hooks), then `kill` once ``HEADWATER_WORKER_CANCEL_GRACE_SECONDS`` have
        passed; a run its process left unfinished is reported Crashed (or
        Cancelled if it was cancelling). Does not return before every run's
        execution has ended.
        """
        if not self.runs:
            return
        _logger.info("Worker %r stops: stopping its %d flow run(s) (SIGTERM, SIGKILL after "
                     "%g s).", self.name, len(self.runs), self.cancel_grace_seconds)
        started = self.clock.monotonic()
        for run in self.runs.values():
            if run.terminated_at is None:
                self.terminate(run.handle)
                run.terminated_at = started
        while self.runs:
            for run in list(self.runs.values()):
                code = self.exit_code(run.handle)
                waited = self.clock.monotonic() - started
                if code is None:
                    if not run.killed and waited >= self.cancel_grace_seconds:
                        self.kill(run.handle)
                        run.killed = True
                    elif run.killed and waited >= self.cancel_grace_seconds + _KILLED_SECONDS:
                        _logger.error("Worker %r: flow run %s's execution did not end after "
                                      "kill; the worker leaves it.", self.name,
                                      run.flow_run_id)
                        del self.runs[run.flow_run_id]
                        self.release(run.handle)
                    continue
                del self.runs[run.flow_run_id]
                try:
                    await self.report_exit(run, code, stopping=True)
                except Exception as exc:  # the API may be down: the zombie check ends it
                    _logger.warning("Worker %r could not report flow run %s: %r", self.name,
                                    run.flow_run_id, exc)
                finally:
                    self._ended(run)
            if self.runs:  # real time: processes end in it (the grace is the clock's)
                await asyncio.sleep(_POLL_SECONDS)

    def _ended(self, run: WorkerRun) -> None:
        """A run's execution ended: what it left behind goes too if it was stopped; release it.

        A run asked to stop (cancel, worker stop) may end its main process on
        SIGTERM while a child of it ignores the signal: the group is killed,
        so nothing of a cancelled run keeps running.
        """
        if run.terminated_at is not None:
            self.kill(run.handle)
        self.release(run.handle)

    def kill_runs(self) -> None:
        """`kill` every run now (a second Ctrl-C while the worker stops them)."""
        for run in self.runs.values():
            if not run.killed:
                self.kill(run.handle)
                run.killed = True

    @staticmethod
    async def _pause(stop: asyncio.Event, seconds: float) -> None:
        try:
            await asyncio.wait_for(stop.wait(), seconds)
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
        run = self.runs[run_id] = WorkerRun(run_id, handle)
        _logger.info("Worker %r launched flow run %s.", self.name, run_id)
        await self._beat_for(run)
        return True

    async def _beat_for(self, run: WorkerRun) -> None:
        """A heartbeat for a run not Running yet, with its process's pid, if one is due."""
        pid = self.pid_of(run.handle)
        now = self.clock.monotonic()
        if (pid is None or not self.run_heartbeat_seconds
                or (run.beaten_at is not None
                    and now - run.beaten_at < self.run_heartbeat_seconds)):
            return
        from headwater._private.storage.processes import local_host, process_start_token

        try:
            await self.client.send_flow_run_heartbeats(
                [run.flow_run_id], host=local_host(), pid=pid,
                process_start=process_start_token(pid), interval=self.run_heartbeat_seconds)
        except Exception as exc:  # the next round tries again
            _logger.warning("Worker %r: the heartbeat of flow run %s failed: %r", self.name,
                            run.flow_run_id, exc)
            return
        run.beaten_at = now

    async def supervise(self) -> None:
        """Report the runs whose execution ended; stop the ones asked to cancel."""
        for ended in list(self.runs.values()):
            code = self.exit_code(ended.handle)
            if code is not None:
                del self.runs[ended.flow_run_id]
                try:
                    await self.report_exit(ended, code)
                finally:
                    self._ended(ended)
        if not self.runs:
            return
        found_runs = await self.client.read_flow_runs_by_id(
            list(self.runs), state_types=["CANCELLING", "PENDING"])
        now = self.clock.monotonic()
        for found in found_runs:
            asked = self.runs.get(uuid.UUID(str(found["id"])))
            if asked is None:
                continue
            run = asked
            if found.get("state_type") == "PENDING":
                await self._beat_for(run)
                continue
            if run.terminated_at is None:
                _logger.info("Worker %r: flow run %s is cancelling: SIGTERM to its process "
                             "group.", self.name, run.flow_run_id)
                self.terminate(run.handle)
                run.terminated_at = now
                run.cancelled = True
            elif not run.killed and now - run.terminated_at >= self.cancel_grace_seconds:
                _logger.info("Worker %r: flow run %s still runs %.0f s after SIGTERM: SIGKILL.",
                             self.name, run.flow_run_id, self.cancel_grace_seconds)
                self.kill(run.handle)
                run.killed = True

    async def report_exit(self, run: WorkerRun, code: int, *, stopping: bool = False) -> None:
        """The execution of ``run`` ended with ``code``: a run it left unfinished ends here.

        ``stopping``: the worker stopped it because the worker stops.
        """
        current = await self.client.read_flow_run(run.flow_run_id)
        state = str((current.get("state") or {}).get("type") or current.get("state_type"))
        _logger.info("Worker %r: flow run %s's process exited with code %s (%s).", self.name,
                     run.flow_run_id, code, state)
        # A run stopped on a cancel request ends Cancelled, even if its process reported
        # Crashed on the SIGTERM; one that completed or failed meanwhile keeps its state.
        if state in _FINAL and not (run.cancelled and state == "CRASHED"):
            return
        if code == VERSION_LOCKED_EXIT_CODE:
            return  # a start the version lock refused: the run is its holder's
        if not run.cancelled and (state == "PAUSED" or (state == "SCHEDULED" and code == 0)):
            return  # suspended (and maybe resumed already): a resume runs it again
        if stopping and state != "CANCELLING" and not run.cancelled:
            await self._finish(run.flow_run_id, "CRASHED",
                               f"Worker {self.name!r} stopped, and stopped the flow run's "
                               f"process with it (exit code {code}).")
        elif state == "CANCELLING" or run.cancelled:
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

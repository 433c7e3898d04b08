"""``DaskTaskRunner``: a flow run's submitted tasks run on Dask's distributed scheduler.

The flow's process keeps everything a task run's future, its flow run and
its dispatch need (upstream waits, concurrency slots, the futures, the
flow's bookkeeping); only calls travel (see ``engine/remote.py``). A call
goes out as one Dask task of :func:`~.worker.run_on_worker`, keyed by the
task run's id. Calls wait in an outbox until the flow process's records
(the runs' creation) are stored, since workers record the runs' states
themselves, then go in one ``client.map``. A coroutine on the client's loop
waits for each, and a single thread applies the outcomes in the order they
arrive, so the client's loop never runs user code or engine bookkeeping.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import contextvars
import logging
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from typing_extensions import Self

from headwater._private.dask.cluster import check_options, open_client
from headwater._private.dask.shipping import (
    pack_call,
    pack_flow_run,
    pack_task,
    settings_snapshot,
)
from headwater._private.dask.worker import flush_worker, log_topic, run_on_worker
from headwater._private.engine.remote import fail_here, finish_remote, prepare_remote
from headwater._private.runners import TaskRunner
from headwater._private.states import Cancelled, Crashed, Failed
from headwater.exceptions import CancellationRequested, SerializationError

if TYPE_CHECKING:
    from headwater._private.engine.task_job import TaskJob
    from headwater._private.protocols import RunnableJob

_log = logging.getLogger("headwater.task_runners.dask")


class DaskTaskRunner(TaskRunner):
    """Runs submitted task runs on a Dask cluster (``pip install "headwater[dask]"``).

    Each task run is carried out by the same engine as on the thread runner,
    in a Dask worker process: retries, timeouts, caching, hooks, triggers,
    ``wait_for`` and ``allow_failure`` behave the same, and the worker
    records the run's states and logs to the same database or API as the
    flow. Only the call (task, arguments with upstream results in place)
    and the final state travel. Concurrency limits are taken in the flow's
    process before a run is sent.

    Args:
        address: A running Dask scheduler to connect to (``tcp://host:8786``).
            Without one, a temporary cluster is made for the flow run and
            closed at its end.
        cluster_class: The cluster to make: a class, its import path
            (``"dask_kubernetes.KubeCluster"``), or a callable returning a
            cluster, called at the flow run's start (so it can read
            ``headwater.runtime.flow_run.parameters``). Default:
            ``distributed.LocalCluster`` with worker processes.
        cluster_kwargs: Keyword arguments for ``cluster_class``.
        adapt_kwargs: If given, ``cluster.adapt(**adapt_kwargs)`` (adaptive scaling).
        client_kwargs: Keyword arguments for ``distributed.Client``
            (``set_as_default`` defaults to False).

    Raises:
        ValueError: ``address`` together with cluster options.
        TypeError: An option of the wrong type.
    """

    def __init__(self, address: str | None = None, cluster_class: Any = None,
                 cluster_kwargs: Mapping[str, Any] | None = None,
                 adapt_kwargs: Mapping[str, Any] | None = None,
                 client_kwargs: Mapping[str, Any] | None = None) -> None:
        check_options(address, cluster_class, cluster_kwargs, adapt_kwargs, client_kwargs)
        self.address = address
        self.cluster_class = cluster_class
        self.cluster_kwargs = dict(cluster_kwargs or {})
        self.adapt_kwargs = dict(adapt_kwargs or {})
        self.client_kwargs = dict(client_kwargs or {})
        self._session: _Session | None = None

    def duplicate(self) -> Self:
        """A fresh, unstarted runner with the same options (one per flow run)."""
        return type(self)(self.address, self.cluster_class, self.cluster_kwargs,
                          self.adapt_kwargs, self.client_kwargs)

    @property
    def client(self) -> Any:
        """The ``distributed.Client`` of the running flow run.

        Raises:
            RuntimeError: The runner has not been started (outside its flow run).
        """
        if self._session is None:
            raise RuntimeError("This DaskTaskRunner is not running: its client exists only "
                               "while a flow run that uses it is running.")
        return self._session.client

    def start(self) -> None:
        """Make or connect to the cluster (in the flow run's context, at its start)."""
        if self._session is not None:
            return
        from headwater._private.context import flow_run_ctx

        ctx = flow_run_ctx.get()
        client, cluster = _in_helper_thread(lambda: open_client(
            self.address, self.cluster_class, self.cluster_kwargs, self.adapt_kwargs,
            self.client_kwargs))
        session = _Session(client, cluster)
        self._session = session
        if ctx is not None:
            session.follow(str(ctx.flow_run.id), ctx._scope)

    def submit(self, job: RunnableJob) -> None:
        """Send ``job`` to the cluster (or end it here when it needs no call)."""
        session = self._session
        if session is None:
            raise RuntimeError("The DaskTaskRunner was not started: it runs task runs "
                               "submitted inside a flow run that uses it.")
        if not job.try_claim():
            return
        task_job = cast("TaskJob", job)  # the one RunnableJob
        try:
            session.send(task_job)
        except Exception as exc:  # claimed above: nobody else would end the run
            if task_job.future is None or not task_job.future.done():
                message = (f"The DaskTaskRunner could not send the run: "
                           f"{type(exc).__name__}: {exc}")
                fail_here(task_job, Crashed(data=exc, message=message), message, exc)

    def shutdown(self) -> None:
        """Store the workers' records, then close the client (and the cluster we made)."""
        session, self._session = self._session, None
        if session is not None:
            _in_helper_thread(session.close)

    def __repr__(self) -> str:
        given = {"address": self.address, "cluster_class": self.cluster_class,
                 "cluster_kwargs": self.cluster_kwargs or None,
                 "adapt_kwargs": self.adapt_kwargs or None,
                 "client_kwargs": self.client_kwargs or None}
        shown = ", ".join(f"{k}={v!r}" for k, v in given.items() if v is not None)
        return f"DaskTaskRunner({shown})"


class _Session:
    """One flow run's Dask client, its outstanding runs and the thread applying outcomes."""

    def __init__(self, client: Any, cluster: Any) -> None:
        self.client = client
        self.cluster = cluster
        self.settings = settings_snapshot()
        self.pending: dict[str, tuple[TaskJob, Any]] = {}
        self.lock = threading.Lock()
        self.tasks: dict[int, tuple[Any, bytes]] = {}
        self.outbox: list[tuple[str, bytes, bytes]] = []
        self.flow_run_bytes: bytes | None = None  # one flow run per session
        self.waiters: set[asyncio.Future[None]] = set()
        self.closed = False
        self.topic: str | None = None
        self.stop_following: Any = None
        # One thread applies outcomes in arrival order: unpickling results
        # and finishing jobs (which dispatches their downstream runs) never
        # runs on the client's event loop.
        self.apply = concurrent.futures.ThreadPoolExecutor(
            1, thread_name_prefix="headwater-dask-outcomes")

    def follow(self, flow_run_id: str, scope: Any) -> None:
        """Print the flow run's worker log lines here; cancel its Dask tasks with it."""
        self.topic = log_topic(flow_run_id)
        self.client.subscribe_topic(self.topic, _print_worker_line)
        if scope is not None:
            self.stop_following = scope.add_callback(self.cancel_all)

    # ---------------------------------------------------------------- sending
    def send(self, job: TaskJob) -> None:
        try:
            call = prepare_remote(job)
        except CancellationRequested:
            return  # the machine ended the run Cancelled here
        if call is None:
            return
        try:
            task_bytes = self._task_bytes(job.task)
            if call.flow_run is not None and self.flow_run_bytes is None:
                self.flow_run_bytes = pack_flow_run(call.flow_run, job.task)
            call_bytes = pack_call(call, job.task)
        except SerializationError as exc:
            fail_here(job, Failed(data=exc, message=f"Task run encountered an exception "
                                                    f"SerializationError: {exc}"), str(exc))
            return
        key = f"{job.task.name}-{job.run.id.hex}"
        with self.lock:
            self.pending[key] = (job, None)
            self.outbox.append((key, task_bytes, call_bytes))
            first = len(self.outbox) == 1
        if first:
            self.client.loop.add_callback(self._drain)

    async def _drain(self) -> None:
        """Submit what is in the outbox, once the flow process's records are stored.

        A worker records its run's states as they happen; the run itself
        (created by the flow's process) must be stored first. Runs sent
        while the records are written wait here and go together, in one
        ``client.map``.
        """
        from headwater._private import recording

        recorder = recording.ACTIVE
        if recorder is not None:
            await recorder.flush_async(30.0)
        with self.lock:
            batch, self.outbox = self.outbox, []
            batch = [item for item in batch if item[0] in self.pending]  # not cancelled
        if not batch:
            return
        keys, tasks, calls = (list(column) for column in zip(*batch, strict=True))
        n = len(keys)
        futures = self.client.map(run_on_worker, tasks, [self.flow_run_bytes] * n, calls,
                                  [self.settings] * n, key=keys, pure=False)
        dropped = []
        with self.lock:
            for key, future in zip(keys, futures, strict=True):
                entry = self.pending.get(key)
                if entry is None:  # cancelled meanwhile
                    dropped.append(future)
                    continue
                self.pending[key] = (entry[0], future)
                waiter = asyncio.ensure_future(self._wait(key, future))
                self.waiters.add(waiter)
                waiter.add_done_callback(self.waiters.discard)
        if dropped:
            await self._cancel(dropped)

    def _task_bytes(self, task: Any) -> bytes:
        cached = self.tasks.get(id(task))
        if cached is None or cached[0] is not task:
            cached = (task, pack_task(task))  # the task is kept, so its id is not reused
            self.tasks[id(task)] = cached
        return cached[1]

    # ---------------------------------------------------------------- coming back
    async def _wait(self, key: str, future: Any) -> None:
        try:
            outcome: Any = (True, await self.client.gather(future, asynchronous=True))
        except (asyncio.CancelledError, concurrent.futures.CancelledError):
            outcome = None
        except Exception as exc:
            outcome = (False, exc)
        if not self.closed:
            with contextlib.suppress(RuntimeError):  # closed meanwhile: nobody waits for it
                self.apply.submit(self._apply, key, outcome)

    def _apply(self, key: str, outcome: tuple[bool, Any] | None) -> None:
        import cloudpickle

        with self.lock:
            entry = self.pending.pop(key, None)
        if entry is None:
            return  # finished already (the flow run was cancelled)
        job = entry[0]
        if job.future is not None and job.future.done():
            return  # ended by the flow's process (it was interrupted)
        if outcome is None:
            state: Any = Cancelled(message="The Dask task of this run was cancelled.")
            fail_here(job, state, "The Dask task of this run was cancelled.")
        elif outcome[0]:
            finish_remote(job, cloudpickle.loads(outcome[1]))
        else:
            exc = outcome[1]
            message = (f"The Dask task of this run did not finish: {type(exc).__name__}: "
                       f"{exc}")
            fail_here(job, Crashed(data=exc, message=message), message)

    # ---------------------------------------------------------------- ending
    def cancel_all(self) -> None:
        """The flow run was cancelled: cancel its Dask tasks; their runs end Cancelled."""
        with self.lock:
            entries, self.pending = list(self.pending.values()), {}
        futures = [f for _, f in entries if f is not None]
        if futures:
            # From any thread, without waiting: the scheduler drops the queued
            # tasks; a task already running on a worker stops at its next checkpoint.
            self.client.loop.add_callback(self._cancel, futures)
        for job, _ in entries:
            state = Cancelled(message="The flow run was cancelled.")
            fail_here(job, state, "The flow run was cancelled; its Dask task was cancelled.")

    async def _cancel(self, futures: list[Any]) -> None:
        try:
            await self.client.cancel(futures, asynchronous=True)
        except Exception:
            _log.warning("Could not cancel the Dask tasks of a cancelled flow run.",
                         exc_info=True)

    def close(self) -> None:
        """Stop following the flow run; store the workers' records; close client and cluster.

        Runs still on the cluster here (their flow run was interrupted and
        ended them) are cancelled, so a shared cluster does not keep them.
        """
        if self.stop_following is not None:
            self.stop_following()
        with self.lock:
            left = [future for _, future in self.pending.values() if future is not None]
            self.closed = True
        if left:
            try:
                self.client.cancel(left)
            except Exception:
                _log.warning("Could not cancel the Dask tasks left by the flow run.",
                             exc_info=True)
        self.apply.shutdown(wait=True)
        try:
            # The workers' recorders store what they hold before the cluster goes.
            self.client.run(flush_worker)
        except Exception:
            _log.warning("Could not flush the run records of the Dask workers.", exc_info=True)
        finally:
            if self.topic is not None:
                self.client.unsubscribe_topic(self.topic)
            self.client.close()
            if self.cluster is not None:
                self.cluster.close()


def _print_worker_line(event: tuple[float, dict[str, Any]]) -> None:
    """Re-emit a worker's log line here, for the console (it is stored already)."""
    wire = dict(event[1])
    logger = logging.getLogger(str(wire.get("name") or "headwater.task_runs"))
    if not logger.isEnabledFor(int(wire.get("levelno") or logging.INFO)):
        return
    wire.update(args=None, send_to_api=False)
    record = logging.makeLogRecord(wire)
    logger.handle(record)


def _in_helper_thread(fn: Any) -> Any:
    """Call ``fn`` in a fresh thread: Dask's blocking calls must not run on a running event loop.

    It runs in a copy of the caller's context, so a cluster factory reads
    the flow run (``headwater.runtime.flow_run``).
    """
    box: list[tuple[bool, Any]] = []
    context = contextvars.copy_context()

    def target() -> None:
        try:
            box.append((True, context.run(fn)))
        except BaseException as exc:
            box.append((False, exc))

    thread = threading.Thread(target=target, name="headwater-dask-setup", daemon=True)
    thread.start()
    thread.join()
    ok, value = box[0]
    if not ok:
        raise value
    return value

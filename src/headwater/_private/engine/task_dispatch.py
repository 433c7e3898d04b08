"""Getting a submitted task run to a worker: after its upstreams, with its slots, once.

A submitted job is not handed to the task runner right away: it waits (on
done callbacks, holding no thread) until every upstream future is final and,
for tagged runs, until its concurrency slots are granted. A thread about to
block on a job's future first runs the job itself if nobody has claimed it
(:meth:`DispatchedJob.help`), so a bounded pool whose workers wait on queued
work still makes progress.
"""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING, Any

from headwater._private.engine.job import CLAIM_LOCK, Job
from headwater._private.engine.transitions import set_state
from headwater._private.futures import HeadwaterFuture
from headwater._private.states import Cancelled, Crashed, State

if TYPE_CHECKING:
    from headwater._private.collections import Upstream
    from headwater._private.context import FlowRunContext
    from headwater._private.run_records import TaskRun
    from headwater._private.runners import TaskRunner


class DispatchedJob(Job, abc.ABC):
    """The dispatch half of a task job; :class:`~.task_job.TaskJob` adds the running half."""

    __slots__ = ("_deps_left", "deps_ready", "future", "lease", "parent", "run", "runner",
                 "slot_request", "upstreams")

    def __init__(self, is_async: bool, parent: FlowRunContext | None, run: TaskRun,
                 upstreams: list[Upstream]) -> None:
        super().__init__(is_async)
        self.parent = parent
        self.run = run
        self.upstreams = upstreams
        self.future: HeadwaterFuture[Any] | None = None
        self.runner: TaskRunner | None = None
        self.lease: Any = None  # concurrency slots held for this run (released at its end)
        self.slot_request: Any = None
        self.deps_ready = False
        self._deps_left = 0

    @abc.abstractmethod
    def execute(self) -> State[Any]:
        """Run the claimed job to its final state in the calling thread (see TaskJob)."""

    @abc.abstractmethod
    def finish(self, state: State[Any] | None) -> None:
        """Let go of the run's inputs and hand ``state`` to the future (see TaskJob)."""

    def dispatch(self) -> None:
        """Hand the job to its runner once every upstream future is final."""
        pending = [u for u, _ in self.upstreams
                   if isinstance(u, HeadwaterFuture) and not u.done()]
        if not pending:
            self._ready()
            return
        with CLAIM_LOCK:
            self._deps_left = len(pending)
        for future in pending:
            future.add_done_callback(self._upstream_done)

    def _upstream_done(self, _: HeadwaterFuture[Any]) -> None:
        with CLAIM_LOCK:
            self._deps_left -= 1
            ready = self._deps_left == 0
        if ready:
            self._ready()

    def _ready(self) -> None:
        if self.run._tags and self._wait_for_slots():
            return
        self._dispatch()

    def _wait_for_slots(self) -> bool:
        """Ask for the run's slots; True when it must wait for them (dispatched on grant)."""
        from headwater._private.concurrency import request_tag_slots
        from headwater.exceptions import ConcurrencySlotAcquisitionError

        try:
            request = request_tag_slots(self.run._tags, self._granted,
                                        holder=str(self.run._id))
        except ConcurrencySlotAcquisitionError:
            return False  # the machine meets the same error and fails the run
        if request is None:
            return False
        with CLAIM_LOCK:
            waiting = self.lease is None  # not granted on the spot
            if waiting:
                self.slot_request = request
        if waiting:
            # Waiting for a slot holds neither a slot nor a worker thread.
            scope = self.parent._scope if self.parent is not None else None
            if scope is not None:
                scope.add_callback(self._cancel_waiting)
        return waiting

    def _granted(self, lease: Any) -> None:
        with CLAIM_LOCK:
            self.lease = lease
            later = self.slot_request is not None  # granted in the releasing thread
            self.slot_request = None
        if later:
            self._dispatch()

    def _cancel_waiting(self) -> None:
        """The flow run was cancelled while this run waited for a slot: end it Cancelled."""
        request = self.slot_request
        if request is not None and request.cancel() and self.try_claim():
            state = set_state(self.run, Cancelled(
                message="The flow run was cancelled before this task run got its slot."))
            self.finish(state)

    def _dispatch(self) -> None:
        self.deps_ready = True
        assert self.runner is not None
        try:
            self.runner.submit(self)  # type: ignore[arg-type]
        except BaseException as exc:
            if self.try_claim():
                state = Crashed(data=exc, message=f"The task runner could not start the run: "
                                f"{type(exc).__name__}: {exc}")
                set_state(self.run, state)
                self.finish(state)
            if not isinstance(exc, Exception):
                raise

    def help(self) -> bool:
        """Run this job in the calling thread if nobody has started it; True if it did.

        A thread about to block on this job's future calls it first, so a
        bounded pool whose workers wait on queued work still makes progress.
        """
        if self.is_async or self.claimed:
            return False
        if not self.deps_ready:
            for upstream, _ in list(self.upstreams):
                if isinstance(upstream, HeadwaterFuture) and (job := upstream._job) is not None:
                    job.help()
            if not self.deps_ready:
                return False
        if not self.try_claim():
            return False
        self.execute()
        return True

    def wait_done(self) -> None:
        """Block until the run is final (helping it along if it has not started)."""
        if self.future is not None:
            self.future._block(None)

    async def wait_done_async(self) -> None:
        """Suspend until the run is final."""
        if self.future is not None:
            await self.future.wait_async()

"""Task jobs: one task run, from the call (or ``submit()``, or an item of ``map()``) to its future.

A job carries the call's arguments until the run needs them and lets go of
them (and of everything else heavy) the moment the run is final; its future
then holds only the final state. Running it means: set the task run context,
name the run if a callable names it, describe the run to the task machine
(:class:`~headwater._private.engine.specs.TaskRunSpec`) and drive the
machine in the calling thread or on the running loop.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
import uuid
from typing import TYPE_CHECKING, Any

from headwater._private import background, recording
from headwater._private.collections import collect_upstreams
from headwater._private.context import TaskRunContext, tags_ctx, task_run_ctx
from headwater._private.engine.drivers import run_machine, run_machine_async
from headwater._private.engine.job import call_namer, engine_settings, env_log_prints
from headwater._private.engine.reporting import log_for
from headwater._private.engine.specs import TaskRunSpec
from headwater._private.engine.task_dispatch import DispatchedJob
from headwater._private.engine.task_machine import task_machine
from headwater._private.engine.transitions import set_state
from headwater._private.ids import new_uuid
from headwater._private.names import task_run_name
from headwater._private.run_logging import ensure_logging_configured, install_print_capture
from headwater._private.run_records import TaskRun
from headwater._private.states import Failed, State, StateDetails, StateType, now

if TYPE_CHECKING:
    from headwater._private.context import FlowRunContext
    from headwater._private.engine.task_machine import Machine
    from headwater._private.options import TaskDefinition


class TaskJob(DispatchedJob):
    """One task run: created by a call, ``submit()`` or ``map()``."""

    __slots__ = ("args", "async_task", "kwargs", "log_prints", "reused", "slot", "task",
                 "tracked")

    def __init__(self, task: TaskDefinition, args: tuple[Any, ...], kwargs: dict[str, Any],
                 wait_for: Any, parent: FlowRunContext | None) -> None:
        upstreams = collect_upstreams(args, kwargs)
        if wait_for:
            upstreams.extend(collect_upstreams(tuple(wait_for), {}))
        run, reused, self.slot = _new_run(task, args, kwargs, parent)
        super().__init__(task.is_async, parent, run, upstreams)
        # The final state of this run completed by an earlier attempt of a
        # retried flow run: the run ends in it at once, without running again.
        self.reused = reused
        self.task = task
        self.args: Any = args
        self.kwargs: Any = kwargs
        self.async_task: Any = None
        self.tracked = False
        opts = task.options
        if opts.log_prints is not None:
            self.log_prints = opts.log_prints
        else:
            self.log_prints = parent._log_prints if parent is not None else env_log_prints()
        if parent is not None and parent._is_async:
            self.loop = parent._loop
        run._param_source = self._parameters
        recorder = recording.ACTIVE
        if recorder is not None and reused is None and not callable(opts.task_run_name):
            recorder.task_run_created(run)  # named by a callable: recorded once named

    def _parameters(self) -> dict[str, Any]:
        if self.args is None:
            return {}
        return self.task.bind(self.args, self.kwargs)

    def spec(self) -> TaskRunSpec:
        """Describe the run to its machine (settings read once per flow run)."""
        parent = self.parent
        if parent is None:
            return TaskRunSpec(self.task, self.run, settings=engine_settings(None))
        flow_run = parent._flow_run
        return TaskRunSpec(self.task, self.run, flow_run, parent._flow.options, parent._scope,
                           engine_settings(flow_run._id, flow_run._version_lock))

    def machine(self, spec: TaskRunSpec) -> Machine:
        """The task machine for this run, fed the call's inputs and any slots already held."""
        lease, self.lease = self.lease, None  # the machine releases it
        return task_machine(spec, self.args, self.kwargs, self.upstreams, lease)

    def needs_current_loop(self) -> bool:
        """Return True when this async job runs on the calling thread's event loop."""
        if not self.is_async or self.future is None or self.future.done():
            return False
        if self.loop is None:
            return background.in_loop_thread()
        try:
            return asyncio.get_running_loop() is self.loop
        except RuntimeError:
            return False

    # ------------------------------------------------------------------ running
    def execute(self) -> State[Any]:
        """Run a claimed sync job to its final state in the calling thread."""
        ctx = self.context
        if ctx is not None:
            return ctx.run(self._execute_here)
        return self._execute_here()

    def _execute_here(self) -> State[Any]:
        spec = self.spec()
        token, early = self._enter(spec, None)
        try:
            state = early if early is not None else run_machine(self.machine(spec))
        except BaseException:
            self.finish(self.run._state)
            raise
        finally:
            task_run_ctx.reset(token)
        self.finish(state)
        return state

    async def execute_async(self) -> None:
        """Run an async job on the running loop, unless another caller claimed it."""
        if self.try_claim():
            await self.execute_async_claimed()

    async def execute_async_claimed(self) -> State[Any]:
        """Run a claimed async job to its final state on the running loop."""
        loop = asyncio.get_running_loop()
        spec = self.spec()
        token, early = self._enter(spec, loop)
        task = asyncio.current_task()
        # Cancelling the flow run cancels this task at its next await.
        unregister = (spec.scope.add_async_task(task, loop)
                      if spec.scope is not None and task is not None else None)
        try:
            state = (early if early is not None
                     else await run_machine_async(self.machine(spec)))
        except BaseException:
            self.finish(self.run._state)
            raise
        finally:
            task_run_ctx.reset(token)
            if unregister is not None:
                unregister()
        self.finish(state)
        return state

    def _enter(self, spec: TaskRunSpec, loop: asyncio.AbstractEventLoop | None,
               ) -> tuple[contextvars.Token[Any], State[Any] | None]:
        """Set the task run context; return it and, if the run ends without starting, its state.

        That is a run reused from an earlier attempt of its flow run, or one
        whose ``task_run_name`` callable failed.
        """
        ensure_logging_configured()
        if self.log_prints:
            install_print_capture()
        if loop is not None:
            self.loop = loop
        token = task_run_ctx.set(
            TaskRunContext(self.task, self.run, loop is not None, loop, self.log_prints))
        if self.reused is not None:
            return token, self.reused
        return token, self.name_run(spec)

    def name_run(self, spec: TaskRunSpec) -> State[Any] | None:
        """Call the ``task_run_name`` callable, if any, and record the named run.

        Returns:
            None, or the Failed state the run ends in when the callable failed.
        """
        namer = self.task.options.task_run_name
        if not callable(namer):
            return None
        try:
            self.run._name = call_namer(namer, "task_run_name", self.task.name)
        except Exception as exc:
            _record_created(self.run)
            log_for(spec, logging.ERROR, "The task_run_name callable failed:", exc)
            return set_state(self.run, Failed(
                data=exc, message=f"The task_run_name callable failed: {exc}"))
        _record_created(self.run)
        return None

    def finish(self, state: State[Any] | None) -> None:
        """Let go of the run's inputs and hand its final ``state`` to the flow run and future."""
        assert state is not None
        if self.lease is not None:  # never handed to a machine (the run did not start)
            self.lease.release()
            self.lease = None
        self.run._param_source = None
        if self.run._parameters is None:
            self.run._parameters = {}
        self.args = self.kwargs = None
        self.upstreams = []
        self.async_task = None
        parent = self.parent
        if parent is not None:
            parent._tracker.finished(self if self.tracked else None, state, self.task.task_key,
                                     self.run, self.slot)
        future = self.future
        if future is not None:
            future._finish(state)


_orphan_lock = threading.Lock()
_orphan_counter = 0


def _next_orphan_key() -> int:
    global _orphan_counter
    with _orphan_lock:
        _orphan_counter += 1
        return _orphan_counter - 1


def _new_run(task: TaskDefinition, args: tuple[Any, ...], kwargs: dict[str, Any],
             parent: FlowRunContext | None) -> tuple[TaskRun, State[Any] | None, int]:
    """The run record of a call, its reused final state, and its place among its flow's children.

    A new run is Pending. In a retry of a flow run, the run of the same task
    and dynamic key that completed in an earlier attempt is returned instead,
    with its final state (Prefect 2 finds it by the same key and does not run
    it again). The place (-1 outside a flow) orders the child states of a
    flow that returns None as Prefect 2 does: by creation.
    """
    if parent is not None:
        key, slot = parent._tracker.reserve(task.task_key)
        kept = parent._tracker.completed_run(task.task_key, key)
        if kept is not None:
            return kept[0], kept[1], slot
        flow_run_id: uuid.UUID | None = parent._flow_run._id
    else:
        key = _next_orphan_key()
        slot = -1
        flow_run_id = None
    run = TaskRun(new_uuid(), task_run_name(task, key, args, kwargs), task.name,
                  task.task_key, str(key), flow_run_id, task.options.tags | tags_ctx.get(), now())
    run._state = State(StateType.PENDING,
                       state_details=StateDetails(task_run_id=run._id, flow_run_id=flow_run_id))
    return run, None, slot


def _record_created(run: TaskRun) -> None:
    recorder = recording.ACTIVE
    if recorder is not None:
        recorder.task_run_created(run)

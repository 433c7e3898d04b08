"""Running a task run in another process: what is sent, what runs there, what comes back.

A distributed task runner (``DaskTaskRunner``) hands each claimed job to
:func:`prepare_remote`. A run that ends without calling its function (reused
from an earlier attempt of its flow run, cancelled before it started, a
``task_run_name`` callable that failed, an upstream that did not complete, a
trigger that says no) ends here, in the flow's process, through the same
machine as on the thread runner. Every other run becomes a
:class:`RemoteCall`: the task, its arguments with upstream results in place,
copies of the run records, the flow's result defaults and the settings read
for the flow run. The other process drives the same task machine with it
(:func:`run_remote`), records the run's states and logs to the same target
itself, and sends back a :class:`RemoteOutcome`: the final state (with the
result) and the run's counters. :func:`finish_remote` applies them to the
job, which hands the state to its future.

There is no second engine: the worker runs :func:`task_machine` with the
drivers of ``drivers.py``, as a thread does.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import logging
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from headwater._private.collections import resolve
from headwater._private.context import (
    FlowRunContext,
    RunTracker,
    TaskRunContext,
    flow_run_ctx,
    task_run_ctx,
)
from headwater._private.engine.control import not_ready_state, trigger_state, upstream_value
from headwater._private.engine.drivers import run_machine, run_machine_async
from headwater._private.engine.reporting import log_for
from headwater._private.engine.specs import EngineSettings, TaskRunSpec
from headwater._private.engine.task_machine import task_machine
from headwater._private.engine.transitions import set_state
from headwater._private.ids import new_uuid
from headwater._private.run_logging import ensure_logging_configured, install_print_capture
from headwater._private.run_records import FlowRun, TaskRun
from headwater._private.states import Cancelled, State, StateType

if TYPE_CHECKING:
    from headwater._private.engine.task_job import TaskJob
    from headwater._private.options import TaskDefinition
    from headwater._private.runners import TaskRunner


@dataclass(frozen=True)
class FlowResultDefaults:
    """The flow options a remote task run reads (``FlowOptionsView``): result defaults, version.

    The flow's own options hold its task runner (and with it a Dask client),
    which must not travel.
    """

    version: str | None = None
    persist_result: bool | None = None
    result_storage: Any = None
    result_serializer: Any = None


@dataclass(frozen=True)
class _FlowView:
    """The flow as a remote task run's context shows it: its name and result defaults."""

    name: str
    options: FlowResultDefaults


class _NestedRunKeys(RunTracker):
    """The bookkeeping of the flow run as a remote task run sees it: nested runs' keys.

    A task called inside a task run on a worker is numbered here, away from
    the flow's process, which numbers its own runs 0, 1, 2...: a negative
    random key cannot collide with those (nor with another worker's), and
    names the run ``task-3fa`` as a run outside numbering is named.
    """

    def reserve(self, task_key: str) -> tuple[int, int]:
        """A key no other run of the flow run has (negative: the name gets a random suffix)."""
        _, place = super().reserve(task_key)
        return -1 - (new_uuid().int & _KEY_BITS), place


_KEY_BITS = (1 << 62) - 1


@dataclass
class RemoteCall:
    """One task run, ready to travel: everything the machine needs in the other process.

    Attributes:
        task: The task (pickled once per task by the runner, so it is None in transit).
        args: Positional arguments, upstream futures replaced by their results.
        kwargs: Keyword arguments, same.
        run: A copy of the task run record (the worker's machine keeps it up to date).
        flow_run: A copy of the flow run record, if the run belongs to one.
        flow_name: The flow's name.
        flow_options: The flow's result defaults.
        settings: The engine settings read for the flow run.
        log_prints: Whether ``print()`` in the run goes to the run logger.
        is_async: Whether the task is a coroutine function.
        slots_held: Concurrency slots for the run's tags are held by the flow's process.
        upstreams: The upstream states (without their data) a trigger looks at.
    """

    task: TaskDefinition | None
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    run: TaskRun
    flow_run: FlowRun | None
    flow_name: str
    flow_options: FlowResultDefaults
    settings: EngineSettings
    log_prints: bool
    is_async: bool
    slots_held: bool
    upstreams: list[tuple[Any, bool]] = field(default_factory=list)


@dataclass
class RemoteOutcome:
    """What comes back: the final state (with the result) and the run's counters."""

    state: State[Any]
    run_count: int
    start_time: _dt.datetime | None
    end_time: _dt.datetime | None


class _HeldByCaller:
    """The lease a remote machine gets when the flow's process holds the run's slots."""

    __slots__ = ()

    def release(self) -> None:
        """Nothing to do here: the flow's process releases the slots when the run is final."""


# ---------------------------------------------------------------------- the flow's side
def prepare_remote(job: TaskJob) -> RemoteCall | None:
    """Return the call to send for a claimed job, or None when the run ended here."""
    if _ends_here(job):
        job.execute()  # the same machine ends it without calling the function
        return None
    spec = job.spec()
    context = job.context
    failed = (context.run(_name_run, job, spec) if context is not None
              else _name_run(job, spec))
    if failed is not None:
        job.finish(failed)
        return None
    args, kwargs, upstreams = job.args, job.kwargs, []
    if job.upstreams:
        args, kwargs = resolve(args, upstream_value), resolve(kwargs, upstream_value)
        if job.task.options.trigger is not None:
            # The trigger said "run" here; the worker's machine asks it again
            # over the same state types (their data stays here).
            upstreams = [(_state_of(u).copy(data=None), allowed) for u, allowed in job.upstreams
                         if _has_state(u)]
    parent = job.parent
    flow_options = FlowResultDefaults()
    flow_name = ""
    if parent is not None:
        opts = parent._flow.options
        flow_options = FlowResultDefaults(opts.version, opts.persist_result,
                                          opts.result_storage, opts.result_serializer)
        flow_name = parent._flow.name
    return RemoteCall(None, args, kwargs, copy_task_run(job.run),
                      copy_flow_run(spec.flow_run) if spec.flow_run is not None else None,
                      flow_name, flow_options, spec.settings, job.log_prints, job.is_async,
                      bool(job.run._tags), upstreams)


def _name_run(job: TaskJob, spec: TaskRunSpec) -> State[Any] | None:
    """Name the run in its task run context (a ``task_run_name`` callable may read it)."""
    token = task_run_ctx.set(TaskRunContext(job.task, job.run, job.is_async, None,
                                            job.log_prints))
    try:
        return job.name_run(spec)
    finally:
        task_run_ctx.reset(token)


def _ends_here(job: TaskJob) -> bool:
    """Whether the run ends without calling its function (decided before anything travels)."""
    if job.reused is not None:
        return True
    parent = job.parent
    scope = parent._scope if parent is not None else None
    if scope is not None and scope.cancelled:
        return True
    if not job.upstreams and job.task.options.trigger is None:
        return False
    spec = job.spec()
    decided = (not_ready_state(spec, job.upstreams) if job.task.options.trigger is None
               else trigger_state(spec, job.upstreams))
    return decided is not None


def _has_state(upstream: Any) -> bool:
    from headwater._private.futures import HeadwaterFuture

    return isinstance(upstream, HeadwaterFuture | State)


def _state_of(upstream: Any) -> State[Any]:
    from headwater._private.futures import HeadwaterFuture

    return upstream.get_state() if isinstance(upstream, HeadwaterFuture) else upstream


def copy_task_run(run: TaskRun) -> TaskRun:
    """A copy of a task run record that pickles without the job (its parameter source)."""
    new = TaskRun(run._id, run._name, run._task_name, run._task_key, run._dynamic_key,
                  run._flow_run_id, run._tags, run._expected_start_time)
    new._state = run._state
    new._run_count = run._run_count
    return new


def copy_flow_run(run: FlowRun) -> FlowRun:
    """A copy of a flow run record, with its parameters (``runtime.flow_run`` reads them)."""
    new = FlowRun(run._id, run._name, run._flow_name, run._tags, run.parameters,
                  run._parent_flow_run_id, run._parent_task_run_id, run._expected_start_time)
    new._state = run._state
    new._start_time = run._start_time
    return new


def finish_remote(job: TaskJob, outcome: RemoteOutcome) -> None:
    """Apply what came back to the job's run (already recorded there) and finish the job."""
    run = job.run
    run._run_count = outcome.run_count
    run._start_time = outcome.start_time
    run._end_time = outcome.end_time
    run._state = outcome.state
    job.finish(outcome.state)


def fail_here(job: TaskJob, state: State[Any], message: str,
              exc: BaseException | None = None) -> None:
    """End a run in the flow's process (it could not be sent, or did not come back)."""
    set_state(job.run, state)
    log_for(job.spec(), logging.ERROR, message, exc)
    job.finish(state)


# ---------------------------------------------------------------------- the worker's side
def run_remote(call: RemoteCall, task: TaskDefinition, runner: TaskRunner,
               scope: Any = None) -> RemoteOutcome:
    """Drive the task machine for ``call`` in this process; return its outcome.

    States and logs go to this process's recorder (the same target as the
    flow's process); an interrupt or cancellation ends the run Crashed or
    Cancelled as in a thread.

    Args:
        call: What the flow's process sent.
        task: The task, unpickled (the runner caches it per task).
        runner: The task runner for tasks this task submits itself.
        scope: An object with ``check()``, ``cancelled`` and ``reason`` (a
            cancel scope) the machine consults at its checkpoints.
    """
    ensure_logging_configured()
    if call.log_prints:
        install_print_capture()
    run = call.run
    run._param_source = partial(task.bind, call.args, call.kwargs)
    spec = TaskRunSpec(task, run, call.flow_run, call.flow_options, scope, call.settings)
    flow_ctx = None
    if call.flow_run is not None:
        flow_ctx = FlowRunContext(_FlowView(call.flow_name, call.flow_options), call.flow_run,
                                  runner, call.is_async, None, call.log_prints)
        flow_ctx._tracker = _NestedRunKeys(False)
    lease = _HeldByCaller() if call.slots_held else None
    machine = task_machine(spec, call.args, call.kwargs, call.upstreams, lease)
    flow_token = flow_run_ctx.set(flow_ctx)
    try:
        if call.is_async:
            state = asyncio.run(_drive_async(machine, task, run, call.log_prints))
        else:
            token = task_run_ctx.set(TaskRunContext(task, run, False, None, call.log_prints))
            try:
                state = run_machine(machine)
            finally:
                task_run_ctx.reset(token)
    except BaseException:
        # The machine recorded Crashed or Cancelled before re-raising.
        state = run._state if run._state is not None else State(StateType.CRASHED)
    finally:
        flow_run_ctx.reset(flow_token)
    if scope is not None and scope.cancelled and state.type is not StateType.CANCELLED:
        # Cancelled while its function ran (it cannot be stopped from outside):
        # the flow's process reported it Cancelled already; the record agrees.
        state = set_state(run, Cancelled(message=str(scope.reason)))
    return RemoteOutcome(state, run._run_count, run._start_time, run._end_time)


async def _drive_async(machine: Any, task: TaskDefinition, run: TaskRun,
                       log_prints: bool) -> State[Any]:
    loop = asyncio.get_running_loop()
    token = task_run_ctx.set(TaskRunContext(task, run, True, loop, log_prints))
    try:
        return await run_machine_async(machine)
    finally:
        task_run_ctx.reset(token)


def record_final(run: TaskRun, state: State[Any]) -> State[Any]:
    """Record ``state`` as the run's final state in this process (replacing the machine's)."""
    return set_state(run, state)


__all__ = [
    "FlowResultDefaults",
    "RemoteCall",
    "RemoteOutcome",
    "copy_flow_run",
    "copy_task_run",
    "fail_here",
    "finish_remote",
    "prepare_remote",
    "record_final",
    "run_remote",
]

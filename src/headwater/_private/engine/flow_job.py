"""Flow jobs: one flow run, from the call to its final state.

``execute()`` opens the flow run context (applying the logging configuration
on first use and taking a fresh copy of the flow's task runner), names and
records the run, starts the runner, drives the flow machine, then shuts the
runner down and reports the final state to the parent flow run, if any.
``execute_async()`` does the same on the running loop. Only a top-level flow
run handles SIGTERM, and ships every record before it returns.
"""

from __future__ import annotations

import asyncio
import contextvars
import datetime
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from headwater._private import background, flow_run_watch, heartbeats, recording, suspending
from headwater._private.cancellation import close_scope, open_scope
from headwater._private.context import FlowRunContext, flow_run_ctx, tags_ctx, task_run_ctx
from headwater._private.engine.drivers import run_machine, run_machine_async
from headwater._private.engine.flow_machine import flow_machine
from headwater._private.engine.interrupts import abandon_children, give_back_slots, is_interrupt
from headwater._private.engine.job import Job, call_namer, engine_settings, env_log_prints
from headwater._private.engine.reporting import log_for
from headwater._private.engine.returns import always_returns_value
from headwater._private.engine.specs import FlowRunSpec
from headwater._private.engine.transitions import set_state
from headwater._private.ids import new_uuid
from headwater._private.log_handlers import flush_logs, flush_logs_async
from headwater._private.names import flow_run_name
from headwater._private.parameters import prepare_validators
from headwater._private.pausing import forget_flow_run
from headwater._private.run_logging import (
    ensure_logging_configured,
    install_print_capture,
    logging_configured,
)
from headwater._private.run_records import FlowRun, TaskRun
from headwater._private.sigterm import sigterm_as_exception, termination_requested
from headwater._private.states import Failed, State, StateDetails, StateType, now
from headwater._private.target import current_target

if TYPE_CHECKING:
    from headwater._private.options import FlowDefinition

_FLUSH_TIMEOUT = 30.0  # seconds a top-level flow waits for its log records to ship
Tokens = tuple[contextvars.Token[Any], contextvars.Token[Any]]


@dataclass(frozen=True)
class StoredFlowRun:
    """A flow run created before it runs (by a deployment), to be run as itself.

    Attributes:
        id: The stored run's id: no new run is created, its row follows the states.
        name: Its stored name (kept).
        tags: Its stored tags.
        expected_start_time: When it was scheduled to start.
        state_type: Its stored state's type (``"PENDING"`` once claimed): a
            Pending state is recorded unless it is Pending already.
        parent_flow_run_id: The flow run that asked for it, if any.
        parent_task_run_id: The task run that asked for it (``as_subflow``), if any.
        heartbeat: Its deployment's switch: send heartbeats for it.
        version_lock: Its deployment's switch: its task runs start once and only once
            (the caller claimed the flow run itself before it runs).
        reusable: For a resumed run, the task runs that completed (with
            persisted results) in its earlier process, by task key and
            dynamic key: they are reused, not run again.
        earlier: For a resumed run, the ids of its other earlier task runs:
            a call with the same key runs again as that task run.
    """

    id: uuid.UUID
    name: str
    tags: frozenset[str]
    expected_start_time: datetime.datetime
    state_type: str | None = None
    parent_flow_run_id: uuid.UUID | None = None
    parent_task_run_id: uuid.UUID | None = None
    heartbeat: bool = True
    version_lock: bool = False
    reusable: Mapping[tuple[str, int], tuple[TaskRun, State[Any]]] | None = None
    earlier: Mapping[tuple[str, int], uuid.UUID] | None = None


class FlowJob(Job):
    """One flow run: created by calling a flow, or a stored run run as itself."""

    __slots__ = ("flow", "parent", "parent_task", "run", "stored")

    def __init__(self, flow: FlowDefinition, parameters: dict[str, Any],
                 stored: StoredFlowRun | None = None) -> None:
        super().__init__(flow.is_async)
        self.flow = flow
        self.stored = stored
        if stored is not None:
            # A top-level run of this process whatever called it: its
            # parents (if any) live in another process.
            self.parent = None
            self.parent_task = None
            run = FlowRun(stored.id, stored.name, flow.name, stored.tags, parameters,
                          stored.parent_flow_run_id, stored.parent_task_run_id,
                          stored.expected_start_time)
        else:
            self.parent = flow_run_ctx.get()
            self.parent_task = task_run_ctx.get()
            parent_id = self.parent._flow_run._id if self.parent is not None else None
            task_id = self.parent_task._task_run._id if self.parent_task is not None else None
            run = FlowRun(new_uuid(), flow_run_name(flow, parameters), flow.name,
                          tags_ctx.get(), parameters, parent_id, task_id, now())
        run._state = State(StateType.PENDING, state_details=StateDetails(flow_run_id=run._id))
        run._version_lock = (stored.version_lock if stored is not None
                             else flow.options.version_lock)
        if run._version_lock is None and self.parent is not None:
            run._version_lock = self.parent._flow_run._version_lock  # a subflow inherits it
        self.run = run

    def _warm_up(self) -> None:
        ensure_logging_configured()
        if self.flow.options.validate_parameters:
            prepare_validators(self.flow)

    def _open(self, loop: asyncio.AbstractEventLoop | None,
              ) -> tuple[FlowRunSpec, FlowRunContext]:
        """Open the run's context and cancel scope; describe the run to its machine."""
        from headwater._private.runners import ThreadPoolTaskRunner

        ensure_logging_configured()
        recorder = recording.ensure_recorder() if self.parent is None else None
        opts = self.flow.options
        runner = (opts.task_runner or ThreadPoolTaskRunner()).duplicate()
        log_prints = opts.log_prints
        if log_prints is None:
            log_prints = self.parent._log_prints if self.parent is not None else env_log_prints()
        if log_prints:
            install_print_capture()
        settings = engine_settings(self.run._id, self.run._version_lock)
        returns_value = self.flow._returns_value
        if returns_value is None:
            returns_value = self.flow._returns_value = always_returns_value(self.flow.fn)
        # A flow with retries keeps its completed task runs for reuse on a retry;
        # one that may return None keeps its children's results, which it hands back.
        stored = self.stored
        reusable = stored.reusable if stored is not None else None
        ctx = FlowRunContext(self.flow, self.run, runner, self.is_async, loop, log_prints,
                             keep_completed=bool(opts.retries or reusable),
                             result_budget=-1 if returns_value else settings.result_budget)
        if stored is not None and (reusable or stored.earlier):
            ctx._tracker.keep(reusable or {}, stored.earlier or {})
        parent_scope = self.parent._scope if self.parent is not None else None
        ctx._scope = open_scope(self.run._id, self.parent._flow_run._id if self.parent else None)
        if recorder is not None:
            # Recorded: another process may cancel or resume it through the API.
            flow_run_watch.watch(self.run._id)
        spec = FlowRunSpec(self.flow, self.run, self._body(ctx), ctx._tracker, ctx._scope,
                           parent_scope, settings)
        return spec, ctx

    def _heartbeat(self) -> bool:
        """The heartbeat switch: the deployment's for its runs, else the flow's option.

        Off, the run sends no heartbeat and writes no liveness row, so the
        zombie check never judges it (``docs/liveness.md``).
        """
        if self.stored is not None:
            return self.stored.heartbeat
        return self.flow.options.heartbeat is not False

    def _body(self, ctx: FlowRunContext) -> Callable[..., Any]:
        """The function the flow machine calls: the flow's, or an isolating wrapper.

        An async flow's body runs as its own asyncio task, registered with the
        run's cancel scope: cancelling the flow run cancels that task at its
        next await without touching the caller's task (a web request, say).
        """
        fn = self.flow.fn
        if not self.is_async:
            return fn
        scope = ctx._scope

        async def isolated(*args: Any, **kwargs: Any) -> Any:
            task = asyncio.ensure_future(fn(*args, **kwargs))
            remove = scope.add_async_task(task, asyncio.get_running_loop())
            try:
                return await task
            finally:
                remove()

        return isolated

    def _begin(self, ctx: FlowRunContext) -> Tokens:
        return flow_run_ctx.set(ctx), task_run_ctx.set(None)

    def _start(self, spec: FlowRunSpec, ctx: FlowRunContext) -> None:
        """Name the run (callables may read runtime.flow_run), record, log, start the runner."""
        namer = self.flow.options.flow_run_name
        recorder = recording.ACTIVE
        if recorder is not None and self._heartbeat():
            # Recorded (a subflow run too): its liveness row goes with its records, and
            # its heartbeats tell the zombie check it lives.
            heartbeats.beat_for(self.run._id, current_target(), recorder)
        if self.stored is not None:
            # Stored before: it keeps its name, and only its states are recorded.
            if recorder is not None:
                recorder.flow_run_adopted(self.run, self.stored.state_type != "PENDING")
        elif callable(namer):
            try:
                self.run._name = call_namer(namer, "flow_run_name", self.flow.name)
            except Exception as exc:
                if recorder is not None:
                    recorder.flow_run_created(self.run)
                set_state(self.run, Failed(
                    data=exc, message=f"The flow_run_name callable failed: {exc}"))
                raise
        if recorder is not None and self.stored is None:
            recorder.flow_run_created(self.run)
        log_for(spec, logging.INFO, f"Beginning flow run {self.run.name!r} for flow "
                f"{self.flow.name!r}")
        ctx._task_runner.start()

    def _end(self, ctx: FlowRunContext, tokens: Tokens) -> None:
        try:
            ctx._task_runner.shutdown()
        finally:
            task_run_ctx.reset(tokens[1])
            flow_run_ctx.reset(tokens[0])
            close_scope(self.run._id)
            forget_flow_run(self.run._id)
            suspending.forget(self.run._id)
            heartbeats.forget(self.run._id)
            if self.parent is None:
                flow_run_watch.unwatch(self.run._id)
        state = self.run._state
        if self.parent is not None and state is not None:
            self.parent._tracker.finished(None, state)

    def _interrupted(self, ctx: FlowRunContext, exc: BaseException | None) -> None:
        """The process is being interrupted: child runs end Crashed, slots go back.

        An async flow run cancelled from outside (``asyncio.run`` on Ctrl-C,
        a web request's timeout) cancels its children: none starts later on
        a loop that may be closed by then.
        """
        if isinstance(exc, asyncio.CancelledError) and not is_interrupt(exc):
            ctx._scope.cancel("The flow run was cancelled.")
            return
        if exc is None or not is_interrupt(exc):
            return
        # Runs not started yet never start; running ones stop at their next checkpoint.
        ctx._scope.cancel("The process was interrupted during the flow run.")
        abandon_children(ctx._tracker, exc)
        if self.parent is None:
            give_back_slots()

    def execute(self) -> State[Any]:
        """Run the flow to its final state in the calling thread."""
        spec, ctx = self._open(None)
        top_level = self.parent is None
        with sigterm_as_exception(enabled=top_level):
            tokens = self._begin(ctx)
            try:
                self._start(spec, ctx)
                state = run_machine(flow_machine(spec))
            except BaseException as exc:
                self._interrupted(ctx, exc)
                raise
            else:
                # The machine may end Crashed without raising (a task it waited
                # on took the signal): the process ends all the same.
                self._interrupted(ctx, termination_requested())
                return state
            finally:
                self._end(ctx, tokens)
                if top_level:
                    # Every record of the run (a crashed one too) is shipped
                    # before the call returns or raises.
                    _flush_records()

    async def execute_async(self) -> State[Any]:
        """Run the flow to its final state on the running event loop."""
        loop = asyncio.get_running_loop()
        if not logging_configured() or (
                self.flow.options.validate_parameters and self.flow._validators is None):
            # First run of this flow: importing pydantic and yaml takes tens of
            # milliseconds, which must not stall the caller's event loop.
            await background.run_blocking(self._warm_up)
        spec, ctx = self._open(loop)
        top_level = self.parent is None
        # SIGTERM crashes the run, then ends the process once its records are shipped.
        with sigterm_as_exception(enabled=top_level, loop=loop, before_exit=_flush_records):
            tokens = self._begin(ctx)
            try:
                self._start(spec, ctx)
                state = await run_machine_async(flow_machine(spec))
            except BaseException as exc:
                self._interrupted(ctx, exc)
                raise
            else:
                self._interrupted(ctx, termination_requested())
            finally:
                self._end(ctx, tokens)
        if top_level:
            await flush_logs_async(timeout=_FLUSH_TIMEOUT)
            recorder = recording.ACTIVE
            if recorder is not None:
                await recorder.flush_async(_FLUSH_TIMEOUT)
        return state


def _flush_records() -> None:
    """Ship the log records and run records queued so far (blocking)."""
    flush_logs(timeout=_FLUSH_TIMEOUT)
    _flush_recorder()


def _flush_recorder() -> None:
    recorder = recording.ACTIVE
    if recorder is not None:
        recorder.flush(_FLUSH_TIMEOUT)

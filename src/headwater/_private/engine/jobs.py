"""Jobs: one flow or task run, tied to its machine, its driver and its future.

A job is created when a task or flow is called or submitted, carries the
call's arguments until the run needs them, and lets go of them (and of
everything else heavy) the moment the run is final. Its future then holds
only the final state.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from headwater._private import flow_run_watch, recording
from headwater._private.cancellation import close_scope, open_scope
from headwater._private.collections import Upstream, collect_upstreams
from headwater._private.context import (
    FlowRunContext,
    TaskRunContext,
    flow_run_ctx,
    tags_ctx,
    task_run_ctx,
)
from headwater._private.engine.drivers import drive_async, drive_sync
from headwater._private.engine.flow_machine import flow_machine
from headwater._private.engine.task_machine import task_machine
from headwater._private.engine.transitions import set_state
from headwater._private.futures import HeadwaterFuture
from headwater._private.ids import new_uuid
from headwater._private.loop_thread import on_runtime_loop
from headwater._private.names import flow_run_name, task_run_name
from headwater._private.parameters import prepare_validators
from headwater._private.pausing import forget_flow_run
from headwater._private.run_logging import (
    FLOW_RUNS,
    TASK_RUNS,
    ensure_logging_configured,
    flow_run_extra,
    install_print_capture,
    logging_configured,
    task_run_extra,
)
from headwater._private.run_records import FlowRun, TaskRun
from headwater._private.sigterm import sigterm_as_exception
from headwater._private.states import Crashed, Failed, State, StateDetails, StateType, now
from headwater.logging.handlers import flush_logs, flush_logs_async

if TYPE_CHECKING:
    from headwater._private.flows import Flow
    from headwater._private.runners import TaskRunner
    from headwater._private.tasks import Task

_CLAIM_LOCK = threading.Lock()
_FLUSH_TIMEOUT = 30.0  # seconds a top-level flow waits for its log records to ship
_ENGINE_DIR = __file__.rsplit("/", 1)[0].rsplit("\\", 1)[0]


def user_exc_info(exc: BaseException | None) -> Any:
    """Return ``exc_info`` for logging with the engine's own frames cut from the top."""
    if exc is None:
        return None
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith(_ENGINE_DIR):
        tb = tb.tb_next
    return (type(exc), exc, tb or exc.__traceback__)
class Job:
    """What task and flow jobs share: the claim that makes a job run exactly once."""

    __slots__ = ("claimed", "context", "is_async", "loop")

    def __init__(self, is_async: bool) -> None:
        self.is_async = is_async
        self.loop: asyncio.AbstractEventLoop | None = None
        self.context: contextvars.Context | None = None
        self.claimed = False

    def try_claim(self) -> bool:
        """Return True for the one caller allowed to run this job."""
        with _CLAIM_LOCK:
            if self.claimed:
                return False
            self.claimed = True
            return True


class TaskJob(Job):
    """One task run: created by a call, ``submit()`` or ``map()``."""

    __slots__ = ("_deps_left", "args", "async_task", "deps_ready", "future", "kwargs", "lease",
                 "log_prints", "parent", "run", "runner", "slot_request", "task", "tracked",
                 "upstreams")

    def __init__(self, task: Task[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any],
                 wait_for: Any, parent: FlowRunContext | None) -> None:
        super().__init__(task.is_async)
        self.task = task
        self.parent = parent
        self.args: Any = args
        self.kwargs: Any = kwargs
        self.future: HeadwaterFuture[Any] | None = None
        self.runner: TaskRunner | None = None
        self.async_task: Any = None
        self.tracked = False
        self.lease: Any = None  # concurrency slots held for this run (released at its end)
        self.slot_request: Any = None
        self.deps_ready = False
        self._deps_left = 0
        upstreams = collect_upstreams(args, kwargs)
        if wait_for:
            upstreams.extend(collect_upstreams(tuple(wait_for), {}))
        self.upstreams: list[Upstream] = upstreams
        opts = task.options
        if opts.log_prints is not None:
            self.log_prints = opts.log_prints
        else:
            self.log_prints = parent._log_prints if parent is not None else _env_log_prints()
        if parent is not None:
            key = parent._tracker.next_dynamic_key(task.task_key)
            flow_run_id: uuid.UUID | None = parent._flow_run._id
            if parent._is_async:
                self.loop = parent._loop
        else:
            key = _next_orphan_key()
            flow_run_id = None
        run = TaskRun(new_uuid(), task_run_name(task, key, args, kwargs), task.name,
                      task.task_key, str(key), flow_run_id, opts.tags | tags_ctx.get(), now())
        run._param_source = self._parameters
        run._state = State(StateType.PENDING,
                           state_details=StateDetails(task_run_id=run._id, flow_run_id=flow_run_id))
        self.run = run
        recorder = recording.ACTIVE
        if recorder is not None and not callable(opts.task_run_name):
            recorder.task_run_created(run)  # named by a callable: recorded once named

    # ------------------------------------------------------------------ helpers
    def _parameters(self) -> dict[str, Any]:
        if self.args is None:
            return {}
        return self.task.bind(self.args, self.kwargs)

    def log(self, level: int, message: str, exc: BaseException | None = None) -> None:
        """Log ``message`` as the run logger would (cheap when the level is off)."""
        if TASK_RUNS.isEnabledFor(level):
            ctx = TaskRunContext(self.task, self.run, self.is_async, self.loop, self.log_prints)
            TASK_RUNS.log(level, message, exc_info=user_exc_info(exc),
                          extra=task_run_extra(ctx, self.parent))

    def needs_current_loop(self) -> bool:
        """Return True when this async job runs on the calling thread's event loop."""
        if not self.is_async or self.future is None or self.future.done():
            return False
        if self.loop is None:
            return on_runtime_loop()
        try:
            return asyncio.get_running_loop() is self.loop
        except RuntimeError:
            return False

    # ------------------------------------------------------------------ dispatch
    def dispatch(self) -> None:
        """Hand the job to its runner once every upstream future is final."""
        pending = [u for u, _ in self.upstreams
                   if isinstance(u, HeadwaterFuture) and not u.done()]
        if not pending:
            self._ready()
            return
        with _CLAIM_LOCK:
            self._deps_left = len(pending)
        for future in pending:
            future.add_done_callback(self._upstream_done)

    def _upstream_done(self, _: HeadwaterFuture[Any]) -> None:
        with _CLAIM_LOCK:
            self._deps_left -= 1
            ready = self._deps_left == 0
        if ready:
            self._ready()

    def _ready(self) -> None:
        tags = self.run._tags
        if tags:
            from headwater._private.concurrency import request_tag_slots
            from headwater.exceptions import ConcurrencySlotAcquisitionError

            try:
                request = request_tag_slots(tags, self._granted, holder=str(self.run._id))
            except ConcurrencySlotAcquisitionError:
                request = None  # the machine meets the same error and fails the run
            if request is not None:
                with _CLAIM_LOCK:
                    waiting = self.lease is None  # not granted on the spot
                    if waiting:
                        self.slot_request = request
                if waiting:
                    # Waiting for a slot holds neither a slot nor a worker thread.
                    scope = self.parent._scope if self.parent is not None else None
                    if scope is not None:
                        scope.add_callback(self._cancel_waiting)
                    return
        self._dispatch()

    def _granted(self, lease: Any) -> None:
        with _CLAIM_LOCK:
            self.lease = lease
            later = self.slot_request is not None  # granted in the releasing thread
            self.slot_request = None
        if later:
            self._dispatch()

    def _cancel_waiting(self) -> None:
        """The flow run was cancelled while this run waited for a slot: end it Cancelled."""
        request = self.slot_request
        if request is not None and request.cancel() and self.try_claim():
            from headwater._private.states import Cancelled

            state = set_state(self.run, Cancelled(
                message="The flow run was cancelled before this task run got its slot."))
            self._finish(state)

    def _dispatch(self) -> None:
        self.deps_ready = True
        assert self.runner is not None
        try:
            self.runner.submit(self)
        except BaseException as exc:
            if self.try_claim():
                state = Crashed(data=exc, message=f"The task runner could not start the run: "
                                f"{type(exc).__name__}: {exc}")
                set_state(self.run, state)
                self._finish(state)
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

    # ------------------------------------------------------------------ running
    def execute(self) -> State[Any]:
        """Run a claimed sync job to its final state in the calling thread."""
        ctx = self.context
        if ctx is not None:
            return ctx.run(self._execute_here)
        return self._execute_here()

    def _execute_here(self) -> State[Any]:
        token, early = self._enter(None)
        try:
            state = early if early is not None else drive_sync(task_machine(self))
        except BaseException:
            self._finish(self.run._state)
            raise
        finally:
            task_run_ctx.reset(token)
        self._finish(state)
        return state

    async def execute_async(self) -> None:
        """Run an async job on the running loop, unless another caller claimed it."""
        if self.try_claim():
            await self.execute_async_claimed()

    async def execute_async_claimed(self) -> State[Any]:
        """Run a claimed async job to its final state on the running loop."""
        loop = asyncio.get_running_loop()
        token, early = self._enter(loop)
        scope = self.parent._scope if self.parent is not None else None
        task = asyncio.current_task()
        # Cancelling the flow run cancels this task at its next await.
        unregister = scope.add_async_task(task, loop) if scope and task else None
        try:
            state = early if early is not None else await drive_async(task_machine(self))
        except BaseException:
            self._finish(self.run._state)
            raise
        finally:
            task_run_ctx.reset(token)
            if unregister is not None:
                unregister()
        self._finish(state)
        return state

    def _enter(self, loop: asyncio.AbstractEventLoop | None,
               ) -> tuple[contextvars.Token[Any], State[Any] | None]:
        """Set the task run context; return it and, if the run failed to start, its state."""
        ensure_logging_configured()
        if self.log_prints:
            install_print_capture()
        if loop is not None:
            self.loop = loop
        token = task_run_ctx.set(
            TaskRunContext(self.task, self.run, loop is not None, loop, self.log_prints))
        namer = self.task.options.task_run_name
        if callable(namer):
            try:
                self.run._name = _call_namer(namer, "task_run_name", self.task.name)
            except Exception as exc:
                _record_task_run(self.run)
                self.log(logging.ERROR, "The task_run_name callable failed:", exc=exc)
                return token, set_state(self.run, Failed(
                    data=exc, message=f"The task_run_name callable failed: {exc}"))
            _record_task_run(self.run)
        return token, None

    def _finish(self, state: State[Any] | None) -> None:
        assert state is not None
        self.run._param_source = None
        if self.run._parameters is None:
            self.run._parameters = {}
        self.args = self.kwargs = None
        self.upstreams = []
        self.async_task = None
        parent = self.parent
        if parent is not None:
            parent._tracker.finished(self if self.tracked else None, state, self.task.task_key)
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


def _record_task_run(run: TaskRun) -> None:
    recorder = recording.ACTIVE
    if recorder is not None:
        recorder.task_run_created(run)


def _call_namer(namer: Callable[[], Any], option: str, owner: str) -> str:
    from headwater.exceptions import InvalidOptionError

    name = namer()
    if not isinstance(name, str) or not name:
        raise InvalidOptionError(
            f"The {option} callable of {owner!r} must return a non-empty string, got {name!r}."
        )
    return name


class FlowJob(Job):
    """One flow run: created by calling a flow."""

    __slots__ = ("flow", "flow_context", "parent", "parent_task", "run")

    def __init__(self, flow: Flow[..., Any], parameters: dict[str, Any]) -> None:
        super().__init__(flow.is_async)
        self.flow = flow
        self.parent = flow_run_ctx.get()
        self.parent_task = task_run_ctx.get()
        parent_id = self.parent._flow_run._id if self.parent is not None else None
        task_id = self.parent_task._task_run._id if self.parent_task is not None else None
        run = FlowRun(new_uuid(), flow_run_name(flow, parameters), flow.name, tags_ctx.get(),
                      parameters, parent_id, task_id, now())
        run._state = State(StateType.PENDING, state_details=StateDetails(flow_run_id=run._id))
        self.run = run
        self.flow_context: FlowRunContext | None = None

    @property
    def run_context(self) -> FlowRunContext:
        """The flow run context (set once the run starts)."""
        assert self.flow_context is not None
        return self.flow_context

    def log(self, level: int, message: str, exc: BaseException | None = None) -> None:
        """Log ``message`` on the flow run logger."""
        if FLOW_RUNS.isEnabledFor(level) and self.flow_context is not None:
            FLOW_RUNS.log(level, message, exc_info=user_exc_info(exc),
                          extra=flow_run_extra(self.flow_context))

    def _warm_up(self) -> None:
        ensure_logging_configured()
        if self.flow.options.validate_parameters:
            prepare_validators(self.flow)

    def _open(self, loop: asyncio.AbstractEventLoop | None) -> FlowRunContext:
        from headwater._private.runners import ThreadPoolTaskRunner

        ensure_logging_configured()
        recorder = recording.ensure_recorder() if self.parent is None else None
        opts = self.flow.options
        runner = (opts.task_runner or ThreadPoolTaskRunner()).duplicate()
        log_prints = opts.log_prints
        if log_prints is None:
            log_prints = self.parent._log_prints if self.parent is not None else _env_log_prints()
        if log_prints:
            install_print_capture()
        ctx = FlowRunContext(self.flow, self.run, runner, self.is_async, loop, log_prints)
        parent_id = self.parent._flow_run._id if self.parent is not None else None
        ctx._scope = open_scope(self.run._id, parent_id)
        if recorder is not None:
            # Recorded: another process may cancel or resume it through the API.
            flow_run_watch.watch(self.run._id)
        self.flow_context = ctx
        return ctx

    def cancelled(self) -> bool:
        """True when this flow run (or a parent) was cancelled."""
        scope = self.flow_context._scope if self.flow_context is not None else None
        return scope is not None and bool(scope.cancelled)

    def parent_cancelled(self) -> bool:
        """True when the parent flow run was cancelled too (the cancel cascaded down)."""
        scope = self.parent._scope if self.parent is not None else None
        return scope is not None and bool(scope.cancelled)

    def body(self) -> Callable[..., Any]:
        """The function the flow machine calls: the flow's, or an isolating wrapper.

        An async flow's body runs as its own asyncio task, registered with the
        run's cancel scope: cancelling the flow run cancels that task at its
        next await without touching the caller's task (a web request, say).
        """
        fn = self.flow.fn
        if not self.is_async:
            return fn
        scope = self.run_context._scope

        async def isolated(*args: Any, **kwargs: Any) -> Any:
            task = asyncio.ensure_future(fn(*args, **kwargs))
            remove = scope.add_async_task(task, asyncio.get_running_loop())
            try:
                return await task
            finally:
                remove()

        return isolated

    def _begin(self, ctx: FlowRunContext) -> tuple[contextvars.Token[Any], contextvars.Token[Any]]:
        return flow_run_ctx.set(ctx), task_run_ctx.set(None)

    def _start(self, ctx: FlowRunContext) -> None:
        """Name the run (callables may read runtime.flow_run), log, start the runner."""
        namer = self.flow.options.flow_run_name
        recorder = recording.ACTIVE
        if callable(namer):
            try:
                self.run._name = _call_namer(namer, "flow_run_name", self.flow.name)
            except Exception as exc:
                if recorder is not None:
                    recorder.flow_run_created(self.run)
                set_state(self.run, Failed(
                    data=exc, message=f"The flow_run_name callable failed: {exc}"))
                raise
        if recorder is not None:
            recorder.flow_run_created(self.run)
        self.log(logging.INFO, f"Beginning flow run {self.run.name!r} for flow "
                 f"{self.flow.name!r}")
        ctx._task_runner.start()

    def _end(self, ctx: FlowRunContext, tokens: tuple[contextvars.Token[Any], ...]) -> None:
        try:
            ctx._task_runner.shutdown()
        finally:
            task_run_ctx.reset(tokens[1])
            flow_run_ctx.reset(tokens[0])
            close_scope(self.run._id)
            forget_flow_run(self.run._id)
            if self.parent is None:
                flow_run_watch.unwatch(self.run._id)
        state = self.run._state
        if self.parent is not None and state is not None:
            self.parent._tracker.finished(None, state)

    def execute(self) -> State[Any]:
        """Run the flow to its final state in the calling thread."""
        ctx = self._open(None)
        top_level = self.parent is None
        with sigterm_as_exception(enabled=top_level):
            tokens = self._begin(ctx)
            try:
                self._start(ctx)
                return drive_sync(flow_machine(self))
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
            await loop.run_in_executor(None, self._warm_up)
        ctx = self._open(loop)
        top_level = self.parent is None
        # SIGTERM crashes the run, then ends the process once its records are shipped.
        with sigterm_as_exception(enabled=top_level, loop=loop, before_exit=_flush_records):
            tokens = self._begin(ctx)
            try:
                self._start(ctx)
                state = await drive_async(flow_machine(self))
            finally:
                self._end(ctx, tokens)
        if top_level:
            await flush_logs_async(timeout=_FLUSH_TIMEOUT)
            recorder = recording.ACTIVE
            if recorder is not None:
                await asyncio.get_running_loop().run_in_executor(None, _flush_recorder)
        return state


def _flush_records() -> None:
    """Ship the log records and run records queued so far (blocking)."""
    flush_logs(timeout=_FLUSH_TIMEOUT)
    _flush_recorder()


def _flush_recorder() -> None:
    recorder = recording.ACTIVE
    if recorder is not None:
        recorder.flush(_FLUSH_TIMEOUT)


def _env_log_prints() -> bool:
    from headwater._private.settings import get_current_settings

    return get_current_settings().logging.log_prints

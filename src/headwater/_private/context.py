"""Run contexts carried in contextvars: which flow run and task run the code is in.

A context is set by the engine around a run and read by user code through
``get_run_context()``, ``get_run_logger()`` and ``headwater.runtime``. Context
objects expose read-only properties; the engine keeps its bookkeeping in
private slots.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from headwater._private.run_records import FlowRun, TaskRun
from headwater._private.states import BAD_TYPES, FreedResult, State, StateType
from headwater._private.states import model as _state_model
from headwater._private.states.sizing import approx_size
from headwater.exceptions import MissingContextError

if TYPE_CHECKING:
    from headwater._private.protocols import FlowLike, RunnableJob, TaskLike
    from headwater._private.runners import TaskRunner


class RunTracker:
    """A flow run's bookkeeping for the final-state rule and for waiting on work.

    Invariant: it keeps one summary per child run (``finished``), task runs in
    the order they were created (``reserve``) and subflow runs after them. A completed
    child's summary is its final state, result included, while the results
    kept so far fit in the run's budget (``HEADWATER_FLOW_RUN_RESULT_BUDGET``
    bytes, estimated by `approx_size` without pickling); beyond it, a copy
    whose result is freed (``result()`` raises ``MissingResult`` naming the
    setting). So a flow that returns None hands back child states whose
    results can be read, as in Prefect 2, while a fan-out of a million large
    results keeps at most the budget alive. Failed, crashed, cancelled and
    paused states are always kept whole: their exceptions are raised later.
    A flow whose function returns a value on every path never hands its
    child states back, so its run keeps no result (budget -1, see
    ``engine/returns.py``).

    The one exception, bounded to flows with ``retries > 0``: such a flow
    run keeps its completed task runs (run record and final state, result
    included) by task key and dynamic key until the run ends, so that a
    retry of the flow reuses them instead of running them again, as Prefect 2
    does. Flows without retries keep nothing (``keep_completed=False``).
    """

    __slots__ = ("_adopted", "_budget", "_completed", "_counters", "_earlier", "_freed",
                 "_inflight", "_keys", "_left", "_lock", "_subflows", "_summaries")

    def __init__(self, keep_completed: bool = False, result_budget: int = 0) -> None:
        self._lock = threading.Lock()
        self._inflight: dict[int, RunnableJob] = {}
        self._counters: dict[str, int] = {}
        # One place per task run, in creation order (None until it finishes).
        self._summaries: list[State[Any] | None] = []
        self._keys: list[str] = []  # the task key of each place
        self._subflows: list[State[Any]] = []  # subflow runs' states, in finishing order
        # (task key, dynamic key) -> completed run and its state; None: not kept.
        self._completed: dict[tuple[str, int], tuple[TaskRun, State[Any]]] | None = (
            {} if keep_completed else None)
        self._budget = result_budget  # -1: none kept, the flow returns a value on every path
        self._left = result_budget  # bytes of results the run may still keep
        self._freed: FreedResult | None = None  # made on the first result freed
        self._earlier: dict[tuple[str, int], uuid.UUID] | None = None  # see keep()
        self._adopted: set[uuid.UUID] = set()  # their ids: rows that exist already

    def reserve(self, task_key: str) -> tuple[int, int]:
        """Note a new task run: return its dynamic key (0, 1, 2... per task) and its place.

        The place is where its summary goes, so that the child states of a
        flow returning None come in the order the runs were created, as in
        Prefect 2, whatever order they finish in.
        """
        with self._lock:
            n = self._counters.get(task_key, 0)
            self._counters[task_key] = n + 1
            self._summaries.append(None)
            self._keys.append(task_key)
            return n, len(self._summaries) - 1

    def completed_run(self, task_key: str, dynamic_key: int,
                      ) -> tuple[TaskRun, State[Any]] | None:
        """Return the run of this task and key completed by an earlier attempt, if kept."""
        completed = self._completed
        if completed is None:
            return None
        with self._lock:
            return completed.get((task_key, dynamic_key))

    def keep(self, runs: Mapping[tuple[str, int], tuple[TaskRun, State[Any]]],
             earlier: Mapping[tuple[str, int], uuid.UUID]) -> None:
        """A resumed flow run's earlier task runs: reuse the completed ``runs`` (as for a
        retry), and give a call of the same key as one of ``earlier`` that run's id (its
        row exists: it is not recorded as created again, only its new states)."""
        with self._lock:
            if self._completed is not None:
                self._completed.update(runs)
            self._earlier = dict(earlier)
            self._adopted = set(earlier.values())

    def started(self, job: RunnableJob) -> None:
        """Note a child run that the flow must wait for before it finishes."""
        with self._lock:
            self._inflight[id(job)] = job

    def finished(self, job: RunnableJob | None, state: State[Any],
                 task_key: str | None = None, run: TaskRun | None = None,
                 slot: int = -1) -> None:
        """Note a child run's final state; forget the job and anything it held.

        Args:
            job: The job, if it was noted by ``started``.
            state: Its final state.
            task_key: Its task's key (None: a subflow run).
            run: A task run, kept for a retry of the flow when this tracker
                keeps completed runs (see the class docstring).
            slot: The place ``reserve`` gave the task run; -1: a subflow's,
                which go after the task runs, in finishing order (Prefect 2's).
        """
        summary = self._summary(state)
        with self._lock:
            if job is not None:
                self._inflight.pop(id(job), None)
            if slot >= 0 and slot < len(self._summaries):
                self._summaries[slot] = summary
            else:
                self._subflows.append(summary)
            completed = self._completed
            if (completed is not None and run is not None
                    and state.type is StateType.COMPLETED):
                completed[(run._task_key, int(run._dynamic_key))] = (run, state)

    def inflight(self) -> list[RunnableJob]:
        """Return the child runs that have not finished yet."""
        with self._lock:
            return list(self._inflight.values())

    def summaries(self, task_keys: frozenset[str] = frozenset()) -> list[State[Any]]:
        """Return one state per finished child run: task runs by creation, then subflows.

        Args:
            task_keys: Only runs of these tasks (the flow's reference tasks);
                empty means every child run, subflows included.
        """
        with self._lock:
            if task_keys:
                return [s for s, k in zip(self._summaries, self._keys, strict=True)
                        if s is not None and k in task_keys]
            return [s for s in self._summaries if s is not None] + self._subflows

    def reset(self) -> None:
        """Forget child runs (before a flow retry runs the body again).

        Dynamic keys start again at 0, so the retry's task runs line up with
        the earlier attempt's and completed ones are reused.
        """
        with self._lock:
            self._summaries.clear()
            self._keys.clear()
            self._subflows.clear()
            self._counters.clear()
            self._left = self._budget


    def _summary(self, state: State[Any]) -> State[Any]:
        """The state to keep for a finished child: itself while its result fits the budget."""
        if state.type in BAD_TYPES or state.type is StateType.PAUSED or (
            isinstance(state.data, BaseException)
        ):
            return state
        if self._left > 0:
            size = approx_size(state.data)
            with self._lock:
                if size <= self._left:
                    self._left -= size
                    return state
        freed = self._freed
        if freed is None:
            freed = self._freed = _budget_spent(self._budget)
        return state.without_data(freed)


def _budget_spent(budget: int) -> FreedResult:
    """The freed-result marker of a run whose result budget is spent, saying what to do."""
    if budget < 0:
        why = ("when its run finished: the flow's function returns a value on every path "
               "(its return statements say so), so its run kept none of its children's results. "
               "This flow returned None anyway: end it with a bare 'return' (or no return) to "
               "have child results kept up to HEADWATER_FLOW_RUN_RESULT_BUDGET.")
        return FreedResult(why + " Or hold the futures returned by .submit()/.map(), or "
                           "return the values you need from the flow.")
    if budget == 0:
        why = ("when its run finished: HEADWATER_FLOW_RUN_RESULT_BUDGET is 0, so the flow run "
               "keeps none of its children's results.")
    else:
        why = (f"when its run finished: the flow run had already kept the results it may keep "
               f"(HEADWATER_FLOW_RUN_RESULT_BUDGET={budget} bytes, results estimated in memory).")
    return FreedResult(
        why + " Raise HEADWATER_FLOW_RUN_RESULT_BUDGET to keep more, hold the futures returned "
        "by .submit()/.map(), or return the values you need from the flow.")


class FlowRunContext:
    """What is known inside a flow run: the flow, its run record and its task runner."""

    __slots__ = ("_flow", "_flow_run", "_is_async", "_log_prints", "_loop", "_scope",
                 "_task_runner", "_tracker")

    def __init__(self, flow: FlowLike, flow_run: FlowRun, task_runner: TaskRunner,
                 is_async: bool, loop: asyncio.AbstractEventLoop | None,
                 log_prints: bool, keep_completed: bool = False,
                 result_budget: int = 0) -> None:
        self._flow = flow
        self._flow_run = flow_run
        self._task_runner = task_runner
        self._is_async = is_async
        self._loop = loop
        self._log_prints = log_prints
        self._tracker = RunTracker(keep_completed, result_budget)
        self._scope: Any = None  # the run's CancelScope, set by the engine when it starts

    @classmethod
    def get(cls) -> FlowRunContext | None:
        """Return the current flow run's context, or None outside a flow run."""
        return flow_run_ctx.get()

    @property
    def flow(self) -> FlowLike:
        """The flow being run."""
        return self._flow

    @property
    def flow_run(self) -> FlowRun:
        """The flow run's record."""
        return self._flow_run

    @property
    def task_runner(self) -> TaskRunner:
        """The task runner that runs this flow run's submitted tasks."""
        return self._task_runner

    @property
    def log_prints(self) -> bool:
        """Whether ``print()`` inside this run goes to the run logger."""
        return self._log_prints

    def __repr__(self) -> str:
        return f"FlowRunContext(flow={self._flow.name!r}, flow_run={self._flow_run.name!r})"


class TaskRunContext:
    """What is known inside a task run: the task and its run record."""

    __slots__ = ("_is_async", "_log_prints", "_loop", "_task", "_task_run")

    def __init__(self, task: TaskLike, task_run: TaskRun, is_async: bool,
                 loop: asyncio.AbstractEventLoop | None, log_prints: bool) -> None:
        self._task = task
        self._task_run = task_run
        self._is_async = is_async
        self._loop = loop
        self._log_prints = log_prints

    @classmethod
    def get(cls) -> TaskRunContext | None:
        """Return the current task run's context, or None outside a task run."""
        return task_run_ctx.get()

    @property
    def task(self) -> TaskLike:
        """The task being run."""
        return self._task

    @property
    def task_run(self) -> TaskRun:
        """The task run's record."""
        return self._task_run

    @property
    def log_prints(self) -> bool:
        """Whether ``print()`` inside this run goes to the run logger."""
        return self._log_prints

    def __repr__(self) -> str:
        return f"TaskRunContext(task={self._task.name!r}, task_run={self._task_run.name!r})"


flow_run_ctx: contextvars.ContextVar[FlowRunContext | None] = contextvars.ContextVar(
    "headwater_flow_run", default=None
)
task_run_ctx: contextvars.ContextVar[TaskRunContext | None] = contextvars.ContextVar(
    "headwater_task_run", default=None
)
tags_ctx: contextvars.ContextVar[frozenset[str]] = contextvars.ContextVar(
    "headwater_tags", default=frozenset()
)
deployment_ctx: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "headwater_deployment", default=None
)
"""The deployment whose run this process runs (``headwater.runtime.deployment``): id,
flow_run_id, name, version, parameters; None outside a deployment's run."""


def get_run_context() -> TaskRunContext | FlowRunContext:
    """Return the innermost run context: the task run's if in a task, else the flow run's.

    Raises:
        MissingContextError: Called outside any flow or task run.
    """
    task_ctx = task_run_ctx.get()
    if task_ctx is not None:
        return task_ctx
    flow_ctx = flow_run_ctx.get()
    if flow_ctx is not None:
        return flow_ctx
    raise MissingContextError(
        "No run context is active: get_run_context() must be called from inside a flow "
        "or task run."
    )


def in_sync_run() -> bool:
    """Return True when the caller is a sync flow or task body (so it may block)."""
    ctx: TaskRunContext | FlowRunContext | None = task_run_ctx.get() or flow_run_ctx.get()
    return ctx is not None and not ctx._is_async


# States sit below the run contexts; ``State.result`` asks through this hook.
_state_model.in_sync_run = in_sync_run


def in_async_run_on_loop() -> bool:
    """Return True when the caller is async flow or task code on that run's own loop."""
    ctx: TaskRunContext | FlowRunContext | None = task_run_ctx.get() or flow_run_ctx.get()
    if ctx is None or not ctx._is_async:
        return False
    try:
        return asyncio.get_running_loop() is ctx._loop
    except RuntimeError:
        return False


@contextmanager
def tags(*new_tags: str) -> Iterator[frozenset[str]]:
    """Add tags to every flow and task run created inside the ``with`` block.

    Example:
        >>> with tags("db", "nightly"):
        ...     my_flow()
    """
    current = tags_ctx.get()
    token = tags_ctx.set(current | frozenset(new_tags))
    try:
        yield tags_ctx.get()
    finally:
        tags_ctx.reset(token)

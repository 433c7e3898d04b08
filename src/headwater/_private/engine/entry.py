"""Entry points from ``Task``/``Flow`` calls into the engine.

Where each kind of call runs:

* sync task, called: inline in the calling thread;
* async task, called from async code: on the caller's loop (a coroutine);
* async task, called from a sync flow or task: on the runtime loop, the
  calling thread blocks for the result;
* submitted task: on the flow run's task runner, once its upstreams are final;
* flows: like tasks, sync inline and async on the caller's loop.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from headwater._private.context import flow_run_ctx, in_async_run_on_loop
from headwater._private.engine.flow_job import FlowJob, StoredFlowRun
from headwater._private.engine.task_job import TaskJob
from headwater._private.futures import HeadwaterFuture
from headwater._private.states import State, get_state_result
from headwater.exceptions import AsyncContextError

if TYPE_CHECKING:
    from headwater._private.options import FlowDefinition, TaskDefinition
    from headwater._private.runners import TaskRunner

_default_runner: TaskRunner | None = None


def _runner_outside_flows() -> TaskRunner:
    global _default_runner
    if _default_runner is None:
        from headwater._private.runners import ThreadPoolTaskRunner

        _default_runner = ThreadPoolTaskRunner()
    return _default_runner


def _outcome(state: State[Any], return_state: bool) -> Any:
    return state if return_state else get_state_result(state)


def call_task(task: TaskDefinition, args: tuple[Any, ...], kwargs: dict[str, Any],
              wait_for: Iterable[Any] | None, return_state: bool) -> Any:
    """Run a sync task inline and return its result (or final state)."""
    job = TaskJob(task, args, kwargs, wait_for, flow_run_ctx.get())
    job.claimed = True
    return _outcome(job.execute(), return_state)


async def call_task_async(task: TaskDefinition, args: tuple[Any, ...], kwargs: dict[str, Any],
                          wait_for: Iterable[Any] | None, return_state: bool) -> Any:
    """Run an async task on the running loop and return its result (or final state)."""
    job = TaskJob(task, args, kwargs, wait_for, flow_run_ctx.get())
    job.claimed = True
    return _outcome(await job.execute_async_claimed(), return_state)


def submit_task(task: TaskDefinition, args: tuple[Any, ...], kwargs: dict[str, Any],
                wait_for: Iterable[Any] | None) -> HeadwaterFuture[Any]:
    """Create a task run, hand it to the task runner, and return its future at once."""
    parent = flow_run_ctx.get()
    job = TaskJob(task, args, kwargs, wait_for, parent)
    job.context = contextvars.copy_context()
    job.runner = parent._task_runner if parent is not None else _runner_outside_flows()
    future: HeadwaterFuture[Any] = HeadwaterFuture(job.run, job)
    job.future = future
    if parent is not None:
        job.tracked = True
        parent._tracker.started(job)
    job.dispatch()
    return future


def wait_for_states(futures: list[HeadwaterFuture[Any]]) -> list[State[Any]]:
    """Block for each future's final state (``return_state=True`` on submit/map)."""
    if in_async_run_on_loop():
        raise AsyncContextError(
            "submit(return_state=True) and map(return_state=True) wait for the run, which "
            "would block async code. Use 'state = await task.submit(...).wait_async()' instead."
        )
    states = []
    for future in futures:
        state = future.wait()
        assert state is not None
        states.append(state)
    return states


def call_flow(flow: FlowDefinition, parameters: dict[str, Any], return_state: bool) -> Any:
    """Run a sync flow in the calling thread and return its result (or final state)."""
    return _outcome(FlowJob(flow, parameters).execute(), return_state)


async def call_flow_async(flow: FlowDefinition, parameters: dict[str, Any],
                          return_state: bool) -> Any:
    """Run an async flow on the running loop and return its result (or final state)."""
    return _outcome(await FlowJob(flow, parameters).execute_async(), return_state)


def run_stored_flow(flow: FlowDefinition, parameters: dict[str, Any],
                    stored: StoredFlowRun) -> State[Any]:
    """Run a flow as a flow run stored before (a deployment's), to its final state.

    The run's row is not created again: it follows the states (Pending,
    Running, then final). An async flow runs on a new event loop, as a
    process's main flow does. Returns the final state (never raises for the
    flow's own failure).
    """
    import asyncio

    job = FlowJob(flow, parameters, stored)
    if flow.is_async:
        return asyncio.run(job.execute_async())
    return job.execute()

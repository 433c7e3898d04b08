"""Control-flow decisions for the task machine: triggers, signals, cancellation checkpoints.

Pure helpers (no I/O): the task machine calls them and acts on their answers.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from headwater._private.annotations import BaseAnnotation
from headwater._private.engine.transitions import details_for, set_state
from headwater._private.futures import HeadwaterFuture
from headwater._private.states import State

if TYPE_CHECKING:
    from headwater._private.engine.jobs import TaskJob


def checkpoint(job: TaskJob) -> None:
    """Raise ``CancellationRequested`` if the task's flow run (or a parent) was cancelled."""
    parent = job.parent
    if parent is not None:
        scope = parent._scope
        if scope is not None:
            scope.check()


def cancel_reason(job: TaskJob) -> str | None:
    """Return why the task's flow run was cancelled, or None when it was not."""
    parent = job.parent
    scope = parent._scope if parent is not None else None
    if scope is None or not scope.cancelled:
        return None
    return str(scope.reason or "The flow run was cancelled.")


def trigger_state(job: TaskJob) -> State[Any] | None:
    """Evaluate the task's trigger over its final upstream states.

    Returns:
        None when the task should run; otherwise the state it ends in
        (NotReady naming the trigger and the upstreams, Skipped, or Paused),
        already set on the run.
    """
    from headwater._private.triggers import evaluate_trigger

    trigger = job.task.options.trigger
    assert trigger is not None
    upstreams: list[tuple[str, State[Any]]] = []
    for upstream, _ in job.upstreams:
        if isinstance(upstream, BaseAnnotation):
            continue
        if isinstance(upstream, HeadwaterFuture):
            upstreams.append((upstream.task_run.name, upstream.get_state()))
        else:
            upstreams.append(("state", upstream))
    result = evaluate_trigger(trigger, upstreams)
    state = result.to_state(details_for(job.run))
    if state is None:
        return None
    set_state(job.run, state)
    job.log(logging.INFO, f"Finished in state {state!r}")
    return state

"""Control-flow decisions for the task machine: upstreams, triggers, cancellation checkpoints.

Pure helpers (no I/O): the task machine calls them and acts on their answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from headwater._private.annotations import BaseAnnotation
from headwater._private.engine.transitions import details_for
from headwater._private.futures import HeadwaterFuture
from headwater._private.states import State, StateType, get_state_result
from headwater.exceptions import UnfinishedRun

if TYPE_CHECKING:
    from headwater._private.collections import Upstream
    from headwater._private.engine.specs import TaskRunSpec


def checkpoint(spec: TaskRunSpec) -> None:
    """Raise ``CancellationRequested`` if the task's flow run (or a parent) was cancelled."""
    scope = spec.scope
    if scope is not None:
        scope.check()


def cancel_reason(spec: TaskRunSpec) -> str | None:
    """Return why the task's flow run was cancelled, or None when it was not."""
    scope = spec.scope
    if scope is None or not scope.cancelled:
        return None
    return str(scope.reason or "The flow run was cancelled.")


def unfinished(upstreams: Sequence[Upstream]) -> list[HeadwaterFuture[Any]]:
    """Return the upstream futures that are not final yet."""
    return [u for u, _ in upstreams if isinstance(u, HeadwaterFuture) and not u.done()]


def trigger_state(spec: TaskRunSpec, upstreams: Sequence[Upstream]) -> State[Any] | None:
    """Evaluate the task's trigger over its final upstream states.

    Returns:
        None when the task should run; otherwise the state it ends in
        (NotReady naming the trigger and the upstreams, Skipped, or Paused).
    """
    from headwater._private.triggers import evaluate_trigger

    trigger = spec.task.options.trigger
    assert trigger is not None
    named: list[tuple[str, State[Any]]] = []
    for upstream, _ in upstreams:
        if isinstance(upstream, BaseAnnotation):
            continue
        if isinstance(upstream, HeadwaterFuture):
            named.append((upstream.task_run.name, upstream.get_state()))
        else:
            named.append(("state", upstream))
    return evaluate_trigger(trigger, named).to_state(details_for(spec.run))


def not_ready_state(spec: TaskRunSpec, upstreams: Sequence[Upstream]) -> State[Any] | None:
    """Return NotReady naming the first upstream that blocks the run, or None if none does.

    An upstream blocks unless it completed, or it is final and wrapped in
    ``allow_failure``.
    """
    for upstream, allowed in upstreams:
        if isinstance(upstream, BaseAnnotation):
            continue  # a quote/allow_failure wrapper around plain values
        state = upstream.get_state() if isinstance(upstream, HeadwaterFuture) else upstream
        if state.type is not StateType.COMPLETED and not (allowed and state.is_final()):
            name = (upstream.task_run.name if isinstance(upstream, HeadwaterFuture)
                    else "given as a State")
            message = (f"Upstream task run {name!r} did not reach a 'COMPLETED' state "
                       f"(it is {state.type.value}).")
            return State(StateType.PENDING, name="NotReady", message=message,
                         data=UnfinishedRun(message), state_details=details_for(spec.run))
    return None


def upstream_value(upstream: Any) -> Any:
    """Return the result an upstream future or state stands for (its exception if it failed)."""
    state: State[Any] = (
        upstream.get_state() if isinstance(upstream, HeadwaterFuture) else upstream)
    return get_state_result(state, raise_on_failure=False)

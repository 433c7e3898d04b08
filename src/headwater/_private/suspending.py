"""Pauses that end the process: ``suspend_flow_run``, ``pause_flow_run(reschedule=True)``,
and pausing another flow run (``flow_run_id=``).

Prefect 2 implements these by giving up the process: the run is recorded
``Paused``/``Suspended`` with ``pause_reschedule``, the process exits, and a
resume reschedules the run, which a worker starts again from its deployment.
Its API refuses them (in this order) for a run that is not running, for a
pause key that already fired, for a subflow run, and for a run without a
deployment. headwater has no deployments yet, so every such pause ends at
one of those refusals: the same error class (`FlowPauseError`, a
``RuntimeError``) whose message starts with Prefect 2's words, then says what
to do instead. Once deployments exist, the last refusal becomes the real
suspension.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import Any

from headwater._private.cancellation import as_run_id, get_scope
from headwater._private.context import flow_run_ctx, task_run_ctx
from headwater._private.run_records import FlowRun
from headwater.exceptions import FlowPauseError, MissingContextError

__all__ = ["refuse_in_process", "refuse_out_of_process", "suspend_target"]

_TERMINAL = frozenset({"COMPLETED", "FAILED", "CANCELLED", "CRASHED"})
_WHY = (" (headwater: a {noun} that ends the process resumes the run later in a new process "
        "started from its deployment, and deployments are not available yet. To wait in this "
        "process instead, call pause_flow_run() without reschedule.)")


def _explain(verb: str) -> str:
    return _WHY.format(noun="suspension" if verb == "suspend" else "rescheduled pause")


def _past(verb: str) -> str:
    return "suspended" if verb == "suspend" else "paused"


def suspend_target(twin: str) -> FlowRun:
    """The current flow run, for ``suspend_flow_run()`` without ``flow_run_id``.

    Raises:
        FlowPauseError: Called inside a task run.
        MissingContextError: Called outside a flow run.
    """
    if task_run_ctx.get() is not None:
        raise FlowPauseError(f"Cannot suspend task runs. (headwater: {twin}() suspends a flow "
                             "run from the flow's own code, not from a task.)")
    ctx = flow_run_ctx.get()
    if ctx is None:
        raise MissingContextError(f"Flow runs can only be suspended from within a flow run. "
                                  f"(headwater: call {twin}() inside a flow, or pass "
                                  "flow_run_id.)")
    return ctx.flow_run


def refuse_in_process(run: FlowRun, verb: str) -> None:
    """Refuse a pause of the current run that would end the process, as Prefect 2's API does.

    Args:
        run: The current flow run (running: it is calling us).
        verb: ``"pause"`` or ``"suspend"``.

    Raises:
        FlowPauseError: Always: ``Flow run cannot be <paused>: Cannot <verb>
            subflows.`` or ``... flows without a deployment.``
    """
    raise FlowPauseError(f"Flow run cannot be {_past(verb)}: {_reason(run, verb)}"
                         f"{_explain(verb)}")


def _reason(run: FlowRun, verb: str) -> str:
    if run.parent_flow_run_id is not None or run.parent_task_run_id is not None:
        return f"Cannot {verb} subflows."
    return f"Cannot {verb} flows without a deployment."


def refuse_out_of_process(flow_run_id: uuid.UUID | str, verb: str,
                          paused_here: Collection[uuid.UUID] = ()) -> None:
    """Refuse pausing or suspending another flow run, with Prefect 2's reason for it.

    Args:
        flow_run_id: The run to pause or suspend.
        verb: ``"pause"`` (``pause_flow_run(flow_run_id=...)``) or
            ``"suspend"`` (``suspend_flow_run(flow_run_id=...)``).
        paused_here: The flow runs paused in this process (``pausing`` knows).

    Returns:
        Only for a suspend of a run that is paused already, which Prefect 2
        accepts without doing anything.

    Raises:
        FlowPauseError: The run is not running (``Cannot pause flows that
            are not currently running.``), is a subflow, or has no deployment.
        ObjectNotFound: No flow run with this id runs here or is recorded.
    """
    run_id = as_run_id(flow_run_id)
    state, is_subflow = _look_up(run_id, paused_here)
    prefix = "" if verb == "pause" else "Flow run cannot be suspended: "
    if state in _TERMINAL:
        raise FlowPauseError(f"{prefix}Run is already in terminal state {state}. (headwater: "
                             f"flow run {run_id} has finished; there is nothing to {verb}.)")
    if state != "RUNNING":
        if verb == "pause":
            raise FlowPauseError(f"Cannot pause flows that are not currently running. "
                                 f"(headwater: flow run {run_id} is {state}.)")
        if state == "PAUSED":
            return
        raise FlowPauseError(f"Flow run cannot be suspended. Received unexpected state from "
                             f"API: {state}. (headwater: only a running flow run can be "
                             "suspended.)")
    reason = (f"Cannot {verb} subflows." if is_subflow
              else f"Cannot {verb} flows without a deployment.")
    raise FlowPauseError(prefix + reason + _explain(verb))


def _look_up(run_id: uuid.UUID, paused_here: Collection[uuid.UUID]) -> tuple[str, bool]:
    """The run's state type and whether it is a subflow run: in this process, else the API."""
    scope = get_scope(run_id)
    if scope is not None:
        state = "PAUSED" if run_id in paused_here else "RUNNING"
        return state, scope.parent is not None
    from headwater._private import background
    from headwater._private.remote_control import read_through_api

    run: dict[str, Any] = background.run(lambda: read_through_api(run_id))
    state_type = (run.get("state") or {}).get("type") or "in no state"
    is_subflow = (run.get("parent_task_run_id") or run.get("parent_flow_run_id")) is not None
    return str(state_type), is_subflow

"""Pauses that end the process: ``suspend_flow_run``, ``pause_flow_run(reschedule=True)``,
and pausing another flow run (``flow_run_id=``).

As in Prefect 2, the run is recorded ``Paused`` (named ``Suspended`` for a
suspension) with ``pause_reschedule``, through the API, whose pause rules
(``server/orchestration/pause_rules.py``) judge it; the process stops
running it (`FlowRunSuspended` ends the flow machine without a final state,
hooks or a crash); ``resume_flow_run`` makes it Scheduled (``Resuming``),
and ``serve`` or a worker starts it again from its deployment, where the
same pause key returns at once (the API answers "already fired") with the
input given at resume.

Only a top-level run of a deployment (run by ``python -m headwater.engine``)
can be rescheduled. For any other run the refusals of Prefect 2's API are
raised here without asking it, in its order: a subflow run, then a run
without a deployment; the messages start with Prefect 2's words and say
what to do instead.

Suspending another run (``flow_run_id=``) proposes the state through the
API; the process running that run notices it (``flow_run_watch``), cancels
the run's work with :func:`note_requested` marking it suspended, and stops.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import uuid
from collections.abc import Callable, Collection
from typing import Any

from headwater._private.cancellation import as_run_id, get_scope
from headwater._private.context import flow_run_ctx, task_run_ctx
from headwater._private.run_records import FlowRun
from headwater.exceptions import FlowPauseError, FlowRunSuspended, MissingContextError

__all__ = ["forget", "note_requested", "refuse_in_process", "suspend_here", "suspend_other",
           "suspend_target", "suspending", "suspension_for"]

_log = logging.getLogger("headwater.flow_runs")
_TERMINAL = frozenset({"COMPLETED", "FAILED", "CANCELLED", "CRASHED"})
_WHY = (" (headwater: a {noun} ends the process and resumes the run later in a new process "
        "started from its deployment, so only a top-level run of a deployment (started by "
        "serve or a worker) can be {past}. To wait in this process instead, call "
        "pause_flow_run() without reschedule.)")
_lock = threading.Lock()
_requested: dict[uuid.UUID, Any] = {}  # run id -> Paused state asked for by another process
_own: set[uuid.UUID] = set()  # runs suspending themselves: the watcher leaves them alone


def _explain(verb: str) -> str:
    return _WHY.format(noun="suspension" if verb == "suspend" else "rescheduled pause",
                       past=_past(verb))


def _past(verb: str) -> str:
    return "suspended" if verb == "suspend" else "paused"


def suspension_for(flow_run_id: uuid.UUID) -> Any:
    """The Paused state another process asked this run to stop in, or None (the machine's)."""
    with _lock:
        return _requested.get(flow_run_id)


def suspending(flow_run_id: uuid.UUID) -> bool:
    """Whether this process knows the run is suspended (by itself or by request)."""
    with _lock:
        return flow_run_id in _own or flow_run_id in _requested


def note_requested(flow_run_id: uuid.UUID, details: dict[str, Any],
                   message: str | None) -> bool:
    """Note a suspension stored by another process; False if already known (the watcher's)."""
    from headwater._private.states import State, StateDetails, StateType

    with _lock:
        if flow_run_id in _own or flow_run_id in _requested:
            return False
        _requested[flow_run_id] = State(
            StateType.PAUSED, name="Suspended", message=message,
            state_details=StateDetails(flow_run_id=flow_run_id, pause_key=details.get("pause_key"),
                                       pause_reschedule=True,
                                       pause_timeout=_when(details.get("pause_timeout"))))
    return True


def forget(flow_run_id: uuid.UUID) -> None:
    """Drop what is known about a run's suspension (its flow job ended)."""
    with _lock:
        _requested.pop(flow_run_id, None)
        _own.discard(flow_run_id)


def _when(value: Any) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value))


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


def _deployment_run_here(run_id: uuid.UUID) -> bool:
    """Whether ``run_id`` is the deployment run this process runs, with its states recorded."""
    from headwater._private.context import deployment_ctx
    from headwater._private.target import current_target

    deployment = deployment_ctx.get()
    return (deployment is not None and deployment.get("flow_run_id") == str(run_id)
            and current_target().recording)


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


def _flush_records() -> None:
    """Ship the run's records first: the API judges the pause against its stored state."""
    from headwater._private import recording

    recorder = recording.ACTIVE
    if recorder is not None:
        recorder.flush(30.0)


def _paused_body(name: str, pause_key: str | None, timeout: float | None,
                 keyset: dict[str, str] | None) -> dict[str, Any]:
    from headwater._private.states import now

    details: dict[str, Any] = {"pause_key": pause_key, "pause_reschedule": True}
    if timeout is not None:
        details["pause_timeout"] = (now() + dt.timedelta(seconds=timeout)).isoformat()
    if keyset is not None:
        details["run_input_keyset"] = keyset
    return {"type": "PAUSED", "name": name, "state_details": details}


def _propose(run_id: uuid.UUID, body: dict[str, Any]) -> dict[str, Any]:
    from headwater._private.run_input_store import call_api
    from headwater._private.target import current_target
    from headwater.client import APIError
    from headwater.exceptions import ObjectNotFound

    try:
        return call_api(lambda client: client.set_flow_run_state(run_id, body))
    except APIError as exc:
        if exc.status_code == 404:
            raise ObjectNotFound(f"Flow run {run_id} was not found in "
                                 f"{current_target().where()}.") from None
        raise


def suspend_here(run: FlowRun, verb: str, *, pause_key: str, timeout: float | None,
                 model: Any, load: Callable[[Any, Any], Any]) -> Any:
    """Suspend the current run (``suspend_flow_run()``, ``pause_flow_run(reschedule=True)``).

    Args:
        run: The current flow run.
        verb: ``"suspend"`` or ``"pause"``.
        pause_key: The pause's key (the user's, else the pause's number).
        timeout: Seconds the run may stay paused (None: no limit).
        model: The ``wait_for_input`` type, or None.
        load: ``load(model, stored_input)``: the validated input.

    Returns:
        When this pause fired before (the run was resumed and runs again):
        the input it was resumed with (validated), or None.

    Raises:
        FlowRunSuspended: The run is recorded suspended: the engine stops it.
        FlowPauseError: Refused: a subflow, a run without a deployment, or an
            answer from the API other than Paused or Running.
    """
    from headwater._private.input_schema import keyset_for, save_schema
    from headwater._private.run_input_store import read_flow_run_input
    from headwater._private.states import State, StateDetails, StateType

    if not _deployment_run_here(run.id):
        refuse_in_process(run, verb)
    from headwater._private.run_logging import get_run_logger

    get_run_logger().info(
        "Suspending flow run, execution will be rescheduled when this flow run is resumed."
        if verb == "suspend" else
        "Pausing flow, execution will continue when this flow run is resumed.")
    name = "Suspended" if verb == "suspend" else "Paused"
    keyset = keyset_for(name, pause_key) if model is not None else None
    body = _paused_body(name, pause_key, timeout, keyset)
    _flush_records()
    with _lock:
        _own.add(run.id)
    result = _propose(run.id, body)
    stored = result.get("state") or {}
    if result.get("status") == "ABORT":
        forget(run.id)
        reason = (result.get("details") or {}).get("reason")
        raise FlowPauseError(f"Flow run cannot be {_past(verb)}: {reason}")
    if stored.get("type") == "RUNNING":  # the pause fired before: it is behind this run
        forget(run.id)
        if model is None:
            return None
        assert keyset is not None
        return load(model, read_flow_run_input(keyset["response"], run.id))
    if result.get("status") != "ACCEPT" or stored.get("type") != "PAUSED":
        forget(run.id)
        what = "suspended" if verb == "suspend" else "paused"
        reason = (result.get("details") or {}).get("reason")
        raise FlowPauseError(f"Flow run cannot be {what}. Received unexpected state from API: "
                             f"{stored.get('type')} ({reason})")
    if model is not None:
        assert keyset is not None
        save_schema(model, keyset, run.id)
    details = body["state_details"]
    state: State[Any] = State(StateType.PAUSED, name=name, state_details=StateDetails(
        flow_run_id=run.id, pause_key=pause_key, pause_reschedule=True,
        pause_timeout=_when(details.get("pause_timeout"))))
    raise FlowRunSuspended(state=state)


def suspend_other(flow_run_id: uuid.UUID | str, verb: str, *, key: str | None,
                  timeout: float | None, paused_here: Collection[uuid.UUID] = ()) -> None:
    """Pause or suspend another flow run (``flow_run_id=``), as Prefect 2 does.

    Args:
        flow_run_id: The run to pause or suspend.
        verb: ``"pause"`` (``pause_flow_run(flow_run_id=...)``) or
            ``"suspend"`` (``suspend_flow_run(flow_run_id=...)``).
        key: The pause key (a suspension without one gets a random key).
        timeout: Seconds the run may stay paused.
        paused_here: The flow runs paused in this process (``pausing`` knows).

    Returns:
        When the run is recorded Paused (its process notices and stops it);
        for a suspend of a run that is paused already, at once (Prefect 2).

    Raises:
        FlowPauseError: The run is not running (``Cannot pause flows that
            are not currently running.``), is a subflow, has no deployment,
            or the API refused.
        ObjectNotFound: No flow run with this id runs here or is recorded.
    """
    run_id = as_run_id(flow_run_id)
    state, is_subflow, has_deployment = _look_up(run_id, paused_here)
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
    if is_subflow or not has_deployment:
        reason = f"Cannot {verb} subflows." if is_subflow else (
            f"Cannot {verb} flows without a deployment.")
        raise FlowPauseError(prefix + reason + _explain(verb))
    pause_key = key if key is not None or verb == "pause" else str(uuid.uuid4())
    result = _propose(run_id, _paused_body("Suspended" if verb == "suspend" else "Paused",
                                           pause_key, timeout, None))
    if result.get("status") == "ACCEPT":
        return
    stored_type = (result.get("state") or {}).get("type")
    why = (result.get("details") or {}).get("reason")
    if verb == "suspend" and stored_type == "RUNNING":
        return  # this key fired before, as Prefect 2 answers
    raise FlowPauseError(f"{prefix}{why}")


def _look_up(run_id: uuid.UUID, paused_here: Collection[uuid.UUID]) -> tuple[str, bool, bool]:
    """The run's state type, whether it is a subflow run and whether it has a deployment:
    from this process when it runs here, else from the API."""
    from headwater._private import background
    from headwater._private.remote_control import read_through_api
    from headwater._private.target import current_target

    scope = get_scope(run_id)
    if scope is not None:
        state = "PAUSED" if run_id in paused_here else "RUNNING"
        if scope.parent is not None or not current_target().recording:
            return state, scope.parent is not None, False
        _flush_records()  # its row may not have reached the API yet
        stored: dict[str, Any] = background.run(lambda: read_through_api(run_id))
        return state, False, stored.get("deployment_id") is not None
    run: dict[str, Any] = background.run(lambda: read_through_api(run_id))
    state_type = (run.get("state") or {}).get("type") or "in no state"
    is_subflow = (run.get("parent_task_run_id") or run.get("parent_flow_run_id")) is not None
    return str(state_type), is_subflow, run.get("deployment_id") is not None

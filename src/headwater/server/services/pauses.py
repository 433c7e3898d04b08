"""Pausing, suspending and resuming flow runs on the server (Prefect 2's behaviour).

- `judge`: the pause rules (``orchestration/pause_rules.py``) for a state
  proposed through ``set_state``, with the facts they need read here: the
  run's deployment and parent, the pause keys fired before (the
  ``pause_key`` of every PAUSED state in its history) and, when leaving a
  pause, the paused state's ``pause_reschedule`` and ``pause_timeout``.
- `resume`: ``POST /flow_runs/{id}/resume``. A rescheduled pause (a
  suspension) goes to SCHEDULED named ``Resuming``, due now, so ``serve`` or
  a worker starts the run again from its deployment; any other pause goes
  to RUNNING, carrying the pause's key and the input (the paused process's
  watcher wakes the pause it belongs to). Input given for a pause that
  waits for some is checked against the saved schema, then stored under
  the pause's ``response`` key in the flow run input store.
- `fail_expired_pauses`: Prefect 2's ``FailExpiredPauses`` service: a
  PAUSED run past its ``pause_timeout`` ends FAILED (``The flow was paused
  and never resumed.``). The scheduler's loop runs it.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from headwater.server.database import tables as t
from headwater.server.orchestration.pause_rules import (
    PausedRun,
    judge_leaving_pause,
    judge_pause,
)
from headwater.server.orchestration.rules import Decision
from headwater.server.schemas import actions as a
from headwater.server.schemas.core import StateType

__all__ = ["EXPIRED_MESSAGE", "fail_expired_pauses", "judge", "resume"]

EXPIRED_MESSAGE = "The flow was paused and never resumed."
_R = t.flow_run.c
_S = t.flow_run_state.c
_BATCH = 200


def _when(value: Any) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    parsed = dt.datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=dt.timezone.utc)


async def _run_facts(conn: AsyncConnection, run_id: uuid.UUID) -> Any:
    query = sa.select(_R.deployment_id, _R.parent_task_run_id, _R.state_id).where(_R.id == run_id)
    return (await conn.execute(query)).first()


async def _fired_keys(conn: AsyncConnection, run_id: uuid.UUID) -> set[str]:
    query = sa.select(_S.state_details).where(_S.flow_run_id == run_id, _S.type == "PAUSED")
    return {str(d["pause_key"]) for (d,) in await conn.execute(query)
            if isinstance(d, dict) and d.get("pause_key") is not None}


async def _details(conn: AsyncConnection, state_id: Any) -> dict[str, Any]:
    if state_id is None:
        return {}
    found = (await conn.execute(sa.select(_S.state_details).where(_S.id == state_id))).first()
    return dict(found[0] or {}) if found is not None else {}


async def judge(conn: AsyncConnection, run_id: uuid.UUID, current: str | None,
                proposed: a.StateCreate, now: dt.datetime) -> tuple[Decision | None, str | None]:
    """The pause rules' verdict on ``proposed`` (see the module docstring).

    Returns:
        ``(None, None)`` when they have nothing against it; ``(decision,
        None)`` to refuse; ``(REJECT, message)`` when a timed-out pause must
        end the run FAILED with ``message``.
    """
    leaving = current == "PAUSED"
    if proposed.type is not StateType.PAUSED and not leaving:
        return None, None
    facts = await _run_facts(conn, run_id)
    has_deployment = facts is not None and facts.deployment_id is not None
    name = proposed.name or proposed.type.value.capitalize()
    if proposed.type is StateType.PAUSED:
        key = proposed.state_details.get("pause_key")
        run = PausedRun(is_subflow=facts is not None and facts.parent_task_run_id is not None,
                        has_deployment=has_deployment,
                        fired_keys=await _fired_keys(conn, run_id) if key is not None else ())
        return judge_pause(StateType(current) if current else None, name,
                           None if key is None else str(key),
                           bool(proposed.state_details.get("pause_reschedule")), run), None
    details = await _details(conn, facts.state_id if facts is not None else None)
    return judge_leaving_pause(proposed.type, name, bool(details.get("pause_reschedule")),
                               _when(details.get("pause_timeout")), has_deployment, now)


def _refusal(status: str, reason: str, state: Any = None) -> a.OrchestrationResult:
    kind = {"REJECT": "reject_details", "ABORT": "abort_details"}[status]
    return a.OrchestrationResult(status=status, state=state,  # type: ignore[arg-type]
                                 details={"type": kind, "reason": reason})


async def _check_input(conn: AsyncConnection, run_id: uuid.UUID, keyset: dict[str, Any],
                       run_input: Any) -> str | None:
    """Why ``run_input`` does not fit the pause's saved schema; None when it does."""
    from headwater.server.services.flow_run_input import read_input
    from headwater.server.services.parameter_schema import ParameterError, check_parameters

    saved = await read_input(conn, run_id, str(keyset.get("schema")))
    if saved is None:
        return "Run input schema not found."
    try:
        schema = json.loads(saved["value"])
    except ValueError:
        return "Run input schema is not valid JSON."
    if not isinstance(run_input, dict):
        return "Reason: the run input must be a JSON object."
    try:
        check_parameters(schema, run_input, complete=True)
    except ParameterError as exc:
        return f"Reason: {exc}"
    return None


async def resume(conn: AsyncConnection, run_id: uuid.UUID, run_input: Any,
                 now: dt.datetime) -> a.OrchestrationResult | None:
    """Resume a paused flow run (see the module docstring); None when it does not exist."""
    from headwater.server.services.flow_run_input import create_input
    from headwater.server.services.flows_and_runs import FLOW, read_state, set_state

    facts = await _run_facts(conn, run_id)
    if facts is None:
        return None
    state = None if facts.state_id is None else await read_state(conn, FLOW, facts.state_id)
    if state is None or state["type"] != "PAUSED":
        return _refusal("ABORT", "Cannot resume a flow run that is not paused.")
    details = dict(state.get("state_details") or {})
    keyset = details.get("run_input_keyset")
    if keyset:
        run_input = run_input or {}
        why = await _check_input(conn, run_id, keyset, run_input)
        if why is not None:
            return _refusal("REJECT", why, state)
    if details.get("pause_reschedule"):
        proposed = a.StateCreate(type=StateType.SCHEDULED, name="Resuming",
                                 state_details={"scheduled_time": now.isoformat()})
    else:
        resumed: dict[str, Any] = {"pause_key": details.get("pause_key")}
        if run_input is not None:
            resumed["run_input"] = run_input
        proposed = a.StateCreate(type=StateType.RUNNING, state_details=resumed)
    result = await set_state(conn, FLOW, run_id, a.SetStateRequest(state=proposed))
    assert result is not None  # the run was read above, in this transaction
    if keyset and run_input and result.status == "ACCEPT":
        await create_input(conn, run_id, str(keyset.get("response")), json.dumps(run_input))
    return result


async def fail_expired_pauses(conn: AsyncConnection, now: dt.datetime) -> list[uuid.UUID]:
    """End FAILED every PAUSED flow run past its ``pause_timeout``; return their ids."""
    from headwater.server.services.flows_and_runs import FLOW, set_state

    query = (sa.select(_R.id, _S.state_details)
             .join(t.flow_run_state, _S.id == _R.state_id)
             .where(_R.state_type == "PAUSED").limit(_BATCH * 5))
    expired = []
    for run_id, details in await conn.execute(query):
        timeout = _when((details or {}).get("pause_timeout"))
        if timeout is not None and timeout < now:
            expired.append(run_id)
    failed = a.StateCreate(type=StateType.FAILED, message=EXPIRED_MESSAGE)
    for run_id in expired:
        await set_state(conn, FLOW, run_id, a.SetStateRequest(state=failed, force=True))
    return expired

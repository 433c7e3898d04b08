"""Resuming flow runs and expiring pauses on the server (Prefect 2's behaviour).

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
from headwater.server.schemas import actions as a
from headwater.server.schemas.core import StateType
from headwater.server.services.flow_run_input import create_input, read_input
from headwater.server.services.flows_and_runs import FLOW, read_state, set_state
from headwater.server.services.pauses import parse_time, run_facts

__all__ = ["EXPIRED_MESSAGE", "fail_expired_pauses", "resume"]

EXPIRED_MESSAGE = "The flow was paused and never resumed."
_R = t.flow_run.c
_S = t.flow_run_state.c
_BATCH = 200


def _refusal(status: str, reason: str, state: Any = None) -> a.OrchestrationResult:
    kind = {"REJECT": "reject_details", "ABORT": "abort_details"}[status]
    return a.OrchestrationResult(status=status, state=state,  # type: ignore[arg-type]
                                 details={"type": kind, "reason": reason})


async def _check_input(conn: AsyncConnection, run_id: uuid.UUID, keyset: dict[str, Any],
                       run_input: Any) -> str | None:
    """Why ``run_input`` does not fit the pause's saved schema; None when it does."""
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
    facts = await run_facts(conn, run_id)
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
    if details.get("pause_reschedule") and result.status == "ACCEPT":
        # The suspended process is gone. As after a Lazarus reschedule, its version lock
        # (if the lock is on) must not refuse the process that runs the run again, and its
        # liveness row must not get the new process judged by the old one's pid.
        await conn.execute(sa.delete(t.run_lock).where(t.run_lock.c.run_id == run_id))
        await conn.execute(sa.delete(t.flow_run_liveness)
                           .where(t.flow_run_liveness.c.flow_run_id == run_id))
    return result


async def fail_expired_pauses(conn: AsyncConnection, now: dt.datetime) -> list[uuid.UUID]:
    """End FAILED every PAUSED flow run past its ``pause_timeout``; return their ids.

    The timeout sits in the state's JSON details, which no index reaches, so
    every PAUSED run is read, a page at a time by id (paused runs are few; a
    single capped read would never reach an expired run behind a full page
    of waiting ones).
    """
    expired = []
    after: uuid.UUID | None = None
    while True:
        query = (sa.select(_R.id, _S.state_details)
                 .join(t.flow_run_state, _S.id == _R.state_id)
                 .where(_R.state_type == "PAUSED").order_by(_R.id).limit(_BATCH * 5))
        if after is not None:
            query = query.where(_R.id > after)
        rows = (await conn.execute(query)).all()
        for run_id, details in rows:
            timeout = parse_time((details or {}).get("pause_timeout"))
            if timeout is not None and timeout < now:
                expired.append(run_id)
        if len(rows) < _BATCH * 5:
            break
        after = rows[-1][0]
    failed = a.StateCreate(type=StateType.FAILED, message=EXPIRED_MESSAGE)
    for run_id in expired:
        await set_state(conn, FLOW, run_id, a.SetStateRequest(state=failed, force=True))
    return expired

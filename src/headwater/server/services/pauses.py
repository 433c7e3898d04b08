"""The pause rules' facts: what ``set_state`` asks before a flow run pauses or leaves a pause.

- `judge`: the pause rules (``orchestration/pause_rules.py``) for a state
  proposed through ``set_state``, with the facts they need read here: the
  run's deployment and parent, the pause keys fired before (the
  ``pause_key`` of every PAUSED state in its history) and, when leaving a
  pause, the paused state's ``pause_reschedule`` and ``pause_timeout``.

Resuming and expiring pauses, which set states themselves, are in
``resuming.py`` (this module imports no service, so ``flows_and_runs`` can
import it).
"""

from __future__ import annotations

import datetime as dt
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

__all__ = ["judge", "parse_time", "run_facts"]

_R = t.flow_run.c
_S = t.flow_run_state.c


def parse_time(value: Any) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    parsed = dt.datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=dt.timezone.utc)


async def run_facts(conn: AsyncConnection, run_id: uuid.UUID) -> Any:
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
    facts = await run_facts(conn, run_id)
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
                               parse_time(details.get("pause_timeout")), has_deployment, now)

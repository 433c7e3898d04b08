"""The schedules of a deployment version: read, add, change, remove.

Only the current version's schedules change (an archived version's stopped
with it). Every change re-checks that active schedules leave no required
parameter without a value, lets the scheduler plan the version afresh
(``last_scheduled_time`` cleared), and takes away the runs a paused, changed
or removed schedule had planned that have not started.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from headwater.server.database import tables as t
from headwater.server.schemas import deployments as d
from headwater.server.services.deployments import (
    ArchivedVersionError,
    archived_message,
    check_schedulable,
    read_deployment,
    remove_scheduled_runs,
)

__all__ = ["create_schedules", "delete_schedule", "read_schedules", "update_schedule"]

Row = dict[str, Any]
_S = t.deployment_schedule.c


async def read_schedules(conn: AsyncConnection, deployment_id: uuid.UUID) -> list[Row] | None:
    """A version's schedules, oldest first; None if the version does not exist."""
    row = await read_deployment(conn, deployment_id)
    return None if row is None else list(row["schedules"])


async def _current(conn: AsyncConnection, deployment_id: uuid.UUID) -> Row | None:
    row = await read_deployment(conn, deployment_id)
    if row is not None and row["archived"]:
        raise ArchivedVersionError(await archived_message(conn, row))
    return row


def _check(row: Row, schedules: list[tuple[bool, dict[str, Any]]]) -> None:
    check_schedulable(row["name"], row["parameter_openapi_schema"], row["parameters"],
                      schedules, row["enforce_parameter_schema"])


async def _replan(conn: AsyncConnection, deployment_id: uuid.UUID, now: dt.datetime) -> None:
    await conn.execute(sa.update(t.deployment).where(t.deployment.c.id == deployment_id)
                       .values(last_scheduled_time=None, updated=now))


async def create_schedules(conn: AsyncConnection, deployment_id: uuid.UUID,
                           schedules: list[d.DeploymentScheduleCreate],
                           now: dt.datetime) -> list[Row] | None:
    """Add schedules to the current version; return the new ones (None: no such version)."""
    row = await _current(conn, deployment_id)
    if row is None:
        return None
    _check(row, [(s["active"], s["parameters"]) for s in row["schedules"]]
           + [(s.active, s.parameters) for s in schedules])
    rows = [{"id": uuid.uuid4(), "created": now, "updated": now, "deployment_id": deployment_id,
             "schedule": s.schedule, "active": s.active, "parameters": s.parameters,
             "slug": s.slug} for s in schedules]
    if rows:
        await conn.execute(sa.insert(t.deployment_schedule), rows)
        await _replan(conn, deployment_id, now)
    return rows


async def update_schedule(conn: AsyncConnection, deployment_id: uuid.UUID,
                          schedule_id: uuid.UUID, body: d.DeploymentScheduleUpdate,
                          now: dt.datetime) -> Row | None:
    """Change a schedule of the current version; None if there is no such schedule."""
    row = await _current(conn, deployment_id)
    found = None if row is None else next(
        (s for s in row["schedules"] if s["id"] == schedule_id), None)
    if row is None or found is None:
        return None
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    updated = {**found, **changes}
    _check(row, [(s["active"], s["parameters"]) for s in row["schedules"]
                 if s["id"] != schedule_id] + [(updated["active"], updated["parameters"])])
    if changes:
        await conn.execute(sa.update(t.deployment_schedule).where(_S.id == schedule_id)
                           .values(updated=now, **changes))
    if changes.keys() & {"schedule", "active", "parameters"}:
        # Runs planned by the old settings do not start; the scheduler plans the new ones.
        await remove_scheduled_runs(conn, deployment_id, now,
                                    f"Schedule {schedule_id} of deployment {row['name']!r} "
                                    "was changed or paused.", schedule_id=schedule_id)
        await _replan(conn, deployment_id, now)
    result = (await conn.execute(sa.select(t.deployment_schedule).where(_S.id == schedule_id)
                                 )).mappings().one()
    return dict(result)


async def delete_schedule(conn: AsyncConnection, deployment_id: uuid.UUID,
                          schedule_id: uuid.UUID, now: dt.datetime) -> bool:
    """Remove a schedule of the current version (and its runs not started)."""
    row = await _current(conn, deployment_id)
    if row is None or not any(s["id"] == schedule_id for s in row["schedules"]):
        return False
    await remove_scheduled_runs(conn, deployment_id, now,
                                f"Schedule {schedule_id} of deployment {row['name']!r} was "
                                "removed.", schedule_id=schedule_id)
    await conn.execute(sa.delete(t.deployment_schedule).where(_S.id == schedule_id))
    await _replan(conn, deployment_id, now)
    return True

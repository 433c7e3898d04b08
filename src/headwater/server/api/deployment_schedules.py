"""``/deployments/{id}/schedules``: a version's schedules (Prefect 2's routes)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from headwater.server.api.dependencies import DB, Now, ReadConn, not_found
from headwater.server.schemas import deployments as d
from headwater.server.services import deployment_schedules as schedules

__all__ = ["router"]

router = APIRouter(prefix="/deployments", tags=["Deployments"])


@router.get("/{id}/schedules")
async def read_schedules(id: uuid.UUID, conn: ReadConn) -> list[d.DeploymentSchedule]:
    """A version's schedules, oldest first."""
    rows = await schedules.read_schedules(conn, id)
    if rows is None:
        not_found("Deployment")
    return [d.DeploymentSchedule.model_validate(r) for r in rows]


@router.post("/{id}/schedules", status_code=status.HTTP_201_CREATED)
async def create_schedules(id: uuid.UUID, body: list[d.DeploymentScheduleCreate],
                           db: DB, now: Now) -> list[d.DeploymentSchedule]:
    """Add schedules to the current version (422 if they would miss required parameters)."""
    rows = await db.write(lambda conn: schedules.create_schedules(conn, id, body, now))
    if rows is None:
        not_found("Deployment")
    return [d.DeploymentSchedule.model_validate(r) for r in rows]


@router.patch("/{id}/schedules/{schedule_id}", status_code=status.HTTP_204_NO_CONTENT)
async def update_schedule(id: uuid.UUID, schedule_id: uuid.UUID,
                          body: d.DeploymentScheduleUpdate, db: DB, now: Now) -> None:
    """Change a schedule (pause it with ``{"active": false}``)."""
    row = await db.write(
        lambda conn: schedules.update_schedule(conn, id, schedule_id, body, now))
    if row is None:
        not_found("Deployment schedule")


@router.delete("/{id}/schedules/{schedule_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_schedule(id: uuid.UUID, schedule_id: uuid.UUID, db: DB, now: Now) -> None:
    """Remove a schedule (its runs that have not started go)."""
    if not await db.write(lambda conn: schedules.delete_schedule(conn, id, schedule_id, now)):
        not_found("Deployment schedule")

"""``/deployments``: versions (an upsert by content hash), reads, filters, runs, the scheduler."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request, Response, status
from sqlalchemy.ext.asyncio import AsyncConnection

from headwater.server.api.dependencies import DB, Now, ReadConn, not_found
from headwater.server.schemas import deployments as d
from headwater.server.schemas import filters as f
from headwater.server.schemas.core import FlowRun
from headwater.server.services import deployment_runs, deployments, scheduler

__all__ = ["UNCHANGED_HEADER", "router"]

router = APIRouter(prefix="/deployments", tags=["Deployments"])

#: Set (to ``1``) on the answer to a registration that changed nothing.
UNCHANGED_HEADER = "X-Headwater-Unchanged"
_NAME = "Deployment"


@router.post("/", status_code=status.HTTP_201_CREATED)
async def create_deployment(body: d.DeploymentCreate, response: Response, db: DB,
                            now: Now) -> d.Deployment:
    """Register a deployment version (an upsert).

    The same flow, name and ``version_hash`` as the current version: 200,
    nothing changes, header ``X-Headwater-Unchanged: 1``. New content: 201, a
    new version; the previous one is archived (its schedules stop, its
    auto-scheduled runs that have not started go). The content of an
    archived version: 200, that version is current again.
    """
    async def work(conn: AsyncConnection) -> tuple[dict[str, Any], deployments.Outcome]:
        return await deployments.create_deployment(conn, body, now)

    row, outcome = await db.write(work)
    if outcome != "created":
        response.status_code = status.HTTP_200_OK
    if outcome == "unchanged":
        response.headers[UNCHANGED_HEADER] = "1"
    return d.Deployment.model_validate(row)


@router.post("/filter")
async def filter_deployments(conn: ReadConn, body: f.DeploymentsFilterBody | None = None,
                             ) -> list[d.Deployment]:
    """Deployment versions matching the filter (current ones unless ``archived`` says)."""
    rows = await deployments.filter_deployments(conn, body or f.DeploymentsFilterBody())
    return [d.Deployment.model_validate(r) for r in rows]


@router.post("/count")
async def count_deployments(conn: ReadConn, body: f.DeploymentsCountBody | None = None) -> int:
    """How many deployment versions match the filter."""
    return await deployments.count_deployments(conn, body or f.DeploymentsCountBody())


@router.post("/schedule")
async def schedule(request: Request, db: DB, now: Now,
                   body: d.ScheduleRequest | None = None) -> d.SchedulerReport:
    """Run one scheduler loop now, for the listed deployment versions (all if none listed)."""
    body = body or d.ScheduleRequest()
    state = request.app.state
    return await scheduler.schedule_once(db, now,
                                         deployment_ids=body.deployment_ids,
                                         config=state.scheduler_config)


@router.get("/name/{flow_name}/{deployment_name}")
async def read_deployment_by_name(flow_name: str, deployment_name: str,
                                  conn: ReadConn) -> d.Deployment:
    """The current version of a deployment, by flow name and deployment name."""
    row = await deployments.read_deployment_by_name(conn, flow_name, deployment_name)
    if row is None:
        not_found(f"Deployment {flow_name}/{deployment_name}")
    return d.Deployment.model_validate(row)


@router.get("/name/{flow_name}/{deployment_name}/versions")
async def read_versions(flow_name: str, deployment_name: str,
                        conn: ReadConn) -> list[d.Deployment]:
    """Every version of a deployment, newest first (archived ones included)."""
    rows = await deployments.read_versions(conn, flow_name, deployment_name)
    if not rows:
        not_found(f"Deployment {flow_name}/{deployment_name}")
    return [d.Deployment.model_validate(r) for r in rows]


@router.get("/{id}")
async def read_deployment(id: uuid.UUID, conn: ReadConn) -> d.Deployment:
    """A deployment version by id (archived or not)."""
    row = await deployments.read_deployment(conn, id)
    if row is None:
        not_found(_NAME)
    return d.Deployment.model_validate(row)


@router.patch("/{id}", status_code=status.HTTP_204_NO_CONTENT)
async def update_deployment(id: uuid.UUID, body: d.DeploymentUpdate, db: DB,
                            now: Now) -> None:
    """Change settings of the current version in place (409 for an archived one)."""
    if await db.write(lambda conn: deployments.update_deployment(conn, id, body, now)) is None:
        not_found(_NAME)


@router.delete("/{id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_deployment(id: uuid.UUID, db: DB, now: Now) -> None:
    """Delete a version and its schedules; its runs stay (auto-scheduled ones not started go)."""
    if not await db.write(lambda conn: deployments.delete_deployment(conn, id, now)):
        not_found(_NAME)


async def _set_paused(id: uuid.UUID, paused: bool, db: DB, now: Now) -> d.Deployment:
    row = await db.write(lambda conn: deployments.set_paused(conn, id, paused, now))
    if row is None:
        not_found(_NAME)
    return d.Deployment.model_validate(row)


@router.post("/{id}/pause_deployment")
async def pause_deployment(id: uuid.UUID, db: DB, now: Now) -> d.Deployment:
    """Pause: no runs are scheduled; auto-scheduled runs that have not started go."""
    return await _set_paused(id, True, db, now)


@router.post("/{id}/resume_deployment")
async def resume_deployment(id: uuid.UUID, db: DB, now: Now) -> d.Deployment:
    """Resume a paused deployment: the scheduler plans its runs again."""
    return await _set_paused(id, False, db, now)


@router.post("/{id}/create_flow_run", status_code=status.HTTP_201_CREATED)
async def create_flow_run(id: uuid.UUID, response: Response, db: DB, now: Now,
                          body: d.DeploymentFlowRunCreate | None = None) -> FlowRun:
    """Create a run of this version: its default parameters with the body's over them,
    checked against its parameter schema (422 naming the parameter); 409 for an
    archived version. Scheduled for the current time unless the body gives a state."""
    body = body or d.DeploymentFlowRunCreate()

    async def work(conn: AsyncConnection) -> tuple[dict[str, Any], bool] | None:
        return await deployment_runs.create_run_from_deployment(conn, id, body, now)

    result = await db.write(work)
    if result is None:
        not_found(_NAME)
    row, created = result
    if not created:
        response.status_code = status.HTTP_200_OK
    return FlowRun.model_validate(row)

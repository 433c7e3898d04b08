"""``/task_runs``: create (idempotently), read, filter, count, set state."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Response, status
from sqlalchemy.ext.asyncio import AsyncConnection

from headwater.server.api.dependencies import DB, ReadConn, not_found
from headwater.server.api.flow_runs import set_state_response
from headwater.server.schemas import actions as a
from headwater.server.schemas import filters as f
from headwater.server.schemas.core import TaskRun
from headwater.server.services import flows_and_runs

__all__ = ["router"]

router = APIRouter(prefix="/task_runs", tags=["Task runs"])


@router.post("/", status_code=status.HTTP_201_CREATED)
async def create_task_run(body: a.TaskRunCreate, response: Response, db: DB) -> TaskRun:
    """Create a task run. The same ``id``, or the same flow run, ``task_key`` and
    ``dynamic_key``, returns the existing run (200) instead."""
    async def work(conn: AsyncConnection) -> tuple[dict[str, Any], bool]:
        return await flows_and_runs.create_task_run(conn, body)

    row, created = await db.write(work)
    if not created:
        response.status_code = status.HTTP_200_OK
    return TaskRun.model_validate(row)


@router.post("/filter")
async def filter_task_runs(conn: ReadConn,
                           body: f.TaskRunsFilterBody | None = None) -> list[TaskRun]:
    """Task runs matching the filter, sorted and paginated."""
    body = body or f.TaskRunsFilterBody()
    rows = await flows_and_runs.filter_runs(conn, flows_and_runs.TASK, body)
    return [TaskRun.model_validate(r) for r in rows]


@router.post("/count")
async def count_task_runs(conn: ReadConn, body: f.TaskRunsCountBody | None = None) -> int:
    """How many task runs match the filter."""
    return await flows_and_runs.count_runs(conn, flows_and_runs.TASK, body or f.TaskRunsCountBody())


@router.get("/{id}")
async def read_task_run(id: uuid.UUID, conn: ReadConn) -> TaskRun:
    """A task run by id, with its current state."""
    row = await flows_and_runs.read_run(conn, flows_and_runs.TASK, id)
    if row is None:
        not_found("Task run")
    return TaskRun.model_validate(row)


@router.post("/{id}/set_state", status_code=status.HTTP_201_CREATED)
async def set_task_run_state(id: uuid.UUID, body: a.SetStateRequest, response: Response,
                             db: DB) -> a.OrchestrationResult:
    """Propose a state: ACCEPT (201), or REJECT/ABORT (200) with the current state and why."""
    return await set_state_response(db, flows_and_runs.TASK, id, body, response, "Task run")


@router.delete("/{id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_task_run(id: uuid.UUID, db: DB) -> None:
    """Delete a task run and its states (logs stay)."""
    table = flows_and_runs.TASK.table
    if not await db.write(lambda conn: flows_and_runs.delete_row(conn, table, id)):
        not_found("Task run")

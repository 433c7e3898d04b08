"""``/flow_runs``: create (idempotently), read, filter, count, set state."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Response, status
from sqlalchemy.ext.asyncio import AsyncConnection

from headwater.server.api.dependencies import DB, ReadConn, not_found
from headwater.server.schemas import actions as a
from headwater.server.schemas import filters as f
from headwater.server.schemas.core import FlowRun
from headwater.server.services import flows_and_runs

__all__ = ["router", "set_state_response"]

router = APIRouter(prefix="/flow_runs", tags=["Flow runs"])


@router.post("/", status_code=status.HTTP_201_CREATED)
async def create_flow_run(body: a.FlowRunCreate, response: Response, db: DB) -> FlowRun:
    """Create a flow run. The same ``id``, or the same flow and ``idempotency_key``,
    returns the existing run (200) instead."""
    async def work(conn: AsyncConnection) -> tuple[dict[str, Any], bool]:
        return await flows_and_runs.create_flow_run(conn, body)

    row, created = await db.write(work)
    if not created:
        response.status_code = status.HTTP_200_OK
    return FlowRun.model_validate(row)


@router.post("/filter")
async def filter_flow_runs(conn: ReadConn,
                           body: f.FlowRunsFilterBody | None = None) -> list[FlowRun]:
    """Flow runs matching the filter, sorted and paginated."""
    body = body or f.FlowRunsFilterBody()
    rows = await flows_and_runs.filter_runs(conn, flows_and_runs.FLOW, body)
    return [FlowRun.model_validate(r) for r in rows]


@router.post("/count")
async def count_flow_runs(conn: ReadConn, body: f.FlowRunsCountBody | None = None) -> int:
    """How many flow runs match the filter."""
    return await flows_and_runs.count_runs(conn, flows_and_runs.FLOW, body or f.FlowRunsCountBody())


@router.get("/{id}")
async def read_flow_run(id: uuid.UUID, conn: ReadConn) -> FlowRun:
    """A flow run by id, with its current state."""
    row = await flows_and_runs.read_run(conn, flows_and_runs.FLOW, id)
    if row is None:
        not_found("Flow run")
    return FlowRun.model_validate(row)


async def set_state_response(db: DB, kind: flows_and_runs.RunKind, run_id: uuid.UUID,
                             body: a.SetStateRequest, response: Response,
                             label: str) -> a.OrchestrationResult:
    """Run ``set_state`` in a write transaction; 201 when accepted, else 200."""
    async def work(conn: AsyncConnection) -> a.OrchestrationResult | None:
        return await flows_and_runs.set_state(conn, kind, run_id, body)

    result = await db.write(work)
    if result is None:
        not_found(label)
    response.status_code = (status.HTTP_201_CREATED if result.status == "ACCEPT"
                            else status.HTTP_200_OK)
    return result


@router.post("/{id}/set_state", status_code=status.HTTP_201_CREATED)
async def set_flow_run_state(id: uuid.UUID, body: a.SetStateRequest, response: Response,
                             db: DB) -> a.OrchestrationResult:
    """Propose a state: ACCEPT (201), or REJECT/ABORT (200) with the current state and why."""
    return await set_state_response(db, flows_and_runs.FLOW, id, body, response, "Flow run")


@router.delete("/{id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_flow_run(id: uuid.UUID, db: DB) -> None:
    """Delete a flow run and its task runs and states (logs stay)."""
    table = flows_and_runs.FLOW.table
    if not await db.write(lambda conn: flows_and_runs.delete_row(conn, table, id)):
        not_found("Flow run")

"""``/flows``: flows by name."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status
from sqlalchemy.ext.asyncio import AsyncConnection

from headwater.server.api.dependencies import DB, ReadConn, not_found
from headwater.server.database import tables
from headwater.server.schemas import actions as a
from headwater.server.schemas import filters as f
from headwater.server.schemas.core import Flow
from headwater.server.services import flows_and_runs

__all__ = ["router"]

router = APIRouter(prefix="/flows", tags=["Flows"])


@router.post("/", status_code=status.HTTP_201_CREATED)
async def create_flow(body: a.FlowCreate, response: Response, db: DB) -> Flow:
    """Create a flow, or return the one with this name (200)."""
    async def work(conn: AsyncConnection) -> tuple[dict[str, object], bool]:
        return await flows_and_runs.create_flow(conn, body)

    row, created = await db.write(work)
    if not created:
        response.status_code = status.HTTP_200_OK
    return Flow.model_validate(row)


@router.get("/{id}")
async def read_flow(id: uuid.UUID, conn: ReadConn) -> Flow:
    """A flow by id."""
    row = await flows_and_runs.read_flow(conn, id)
    if row is None:
        not_found("Flow")
    return Flow.model_validate(row)


@router.post("/filter")
async def filter_flows(conn: ReadConn, body: f.FlowsFilterBody | None = None) -> list[Flow]:
    """Flows matching the filter, sorted and paginated."""
    rows = await flows_and_runs.filter_flows(conn, body or f.FlowsFilterBody())
    return [Flow.model_validate(r) for r in rows]


@router.delete("/{id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_flow(id: uuid.UUID, db: DB) -> None:
    """Delete a flow and its runs (logs stay)."""
    if not await db.write(lambda conn: flows_and_runs.delete_row(conn, tables.flow, id)):
        not_found("Flow")

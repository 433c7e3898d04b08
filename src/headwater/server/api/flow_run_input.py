"""``/flow_runs/{id}/input`` (Prefect 2's flow run input store) and ``/flow_runs/{id}/resume``."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Response, status
from fastapi.responses import PlainTextResponse
from sqlalchemy.ext.asyncio import AsyncConnection

from headwater.server.api.dependencies import DB, Now, ReadConn, not_found
from headwater.server.schemas import actions as a
from headwater.server.schemas.core import FlowRunInput
from headwater.server.services import flow_run_input as store
from headwater.server.services import resuming

__all__ = ["router"]

router = APIRouter(prefix="/flow_runs", tags=["Flow runs"])


@router.post("/{id}/resume")
async def resume_flow_run(id: uuid.UUID, response: Response, db: DB, now: Now,
                          run_input: Annotated[dict[str, Any] | None,
                                               Body(embed=True)] = None,
                          ) -> a.OrchestrationResult:
    """Resume a paused flow run: a suspension (rescheduled pause) becomes Scheduled
    (``Resuming``) for its deployment's runner; another pause becomes Running."""
    async def work(conn: AsyncConnection) -> a.OrchestrationResult | None:
        return await resuming.resume(conn, id, run_input, now)

    result = await db.write(work)
    if result is None:
        not_found("Flow run")
    response.status_code = (status.HTTP_201_CREATED if result.status == "ACCEPT"
                            else status.HTTP_200_OK)
    return result


@router.post("/{id}/input", status_code=status.HTTP_201_CREATED)
async def create_flow_run_input(id: uuid.UUID, db: DB,
                                key: Annotated[str, Body()],
                                value: Annotated[str, Body()],
                                sender: Annotated[str | None, Body()] = None) -> None:
    """Store ``value`` under ``key`` for the flow run (409 when the key is taken)."""
    async def work(conn: AsyncConnection) -> dict[str, Any] | None:
        return await store.create_input(conn, id, key, value, sender)

    try:
        row = await db.write(work)
    except store.DuplicateInputError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from None
    if row is None:
        not_found("Flow run")


@router.post("/{id}/input/filter")
async def filter_flow_run_input(id: uuid.UUID, conn: ReadConn,
                                prefix: Annotated[str, Body(embed=True)],
                                limit: Annotated[int, Body(embed=True, ge=0, le=1000)] = 1,
                                exclude_keys: Annotated[list[str] | None,
                                                        Body(embed=True)] = None,
                                ) -> list[FlowRunInput]:
    """The flow run's inputs whose key starts with ``prefix``, oldest first."""
    rows = await store.filter_inputs(conn, id, prefix, limit, exclude_keys or ())
    return [FlowRunInput.model_validate(r) for r in rows]


@router.get("/{id}/input/{key}", response_class=PlainTextResponse)
async def read_flow_run_input(id: uuid.UUID, key: str, conn: ReadConn) -> PlainTextResponse:
    """The value stored under ``key``, as text."""
    row = await store.read_input(conn, id, key)
    if row is None:
        not_found("Flow run input")
    return PlainTextResponse(row["value"])


@router.delete("/{id}/input/{key}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_flow_run_input(id: uuid.UUID, key: str, db: DB) -> None:
    """Delete the input stored under ``key``."""
    if not await db.write(lambda conn: store.delete_input(conn, id, key)):
        not_found("Flow run input")

"""``/flow_run_states`` and ``/task_run_states``: state history."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from headwater.server.api.dependencies import ReadConn, not_found
from headwater.server.schemas.core import State
from headwater.server.services import flows_and_runs

__all__ = ["router"]

router = APIRouter(tags=["States"])


@router.get("/flow_run_states/")
async def read_flow_run_states(flow_run_id: uuid.UUID, conn: ReadConn) -> list[State]:
    """The states of a flow run, oldest first."""
    rows = await flows_and_runs.read_states(conn, flows_and_runs.FLOW, flow_run_id)
    return [State.model_validate(s) for s in rows]


@router.get("/flow_run_states/{id}")
async def read_flow_run_state(id: uuid.UUID, conn: ReadConn) -> State:
    """One flow run state by id."""
    row = await flows_and_runs.read_state(conn, flows_and_runs.FLOW, id)
    if row is None:
        not_found("Flow run state")
    return State.model_validate(row)


@router.get("/task_run_states/")
async def read_task_run_states(task_run_id: uuid.UUID, conn: ReadConn) -> list[State]:
    """The states of a task run, oldest first."""
    rows = await flows_and_runs.read_states(conn, flows_and_runs.TASK, task_run_id)
    return [State.model_validate(s) for s in rows]


@router.get("/task_run_states/{id}")
async def read_task_run_state(id: uuid.UUID, conn: ReadConn) -> State:
    """One task run state by id."""
    row = await flows_and_runs.read_state(conn, flows_and_runs.TASK, id)
    if row is None:
        not_found("Task run state")
    return State.model_validate(row)

"""``/flow_runs/heartbeat``: running flow runs say they still run (the zombie check's input);
``/flow_runs/{id}/waiting``: why a Scheduled run is not running."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncConnection

from headwater.server.api.dependencies import DB, ReadConn, not_found
from headwater.server.schemas.actions import ActionModel
from headwater.server.services import liveness, waiting
from headwater.server.services.flows_and_runs import now

__all__ = ["FlowRunHeartbeat", "HeartbeatResult", "WaitingReasons", "router"]

router = APIRouter(prefix="/flow_runs", tags=["Flow runs"])


class FlowRunHeartbeat(ActionModel):
    """Where the process running some flow runs lives, and how often it says so."""

    host: str = Field(min_length=1, max_length=255)
    pid: int = Field(ge=0, le=2**31 - 1)
    process_start: str | None = Field(default=None, max_length=200)
    interval: float = Field(gt=0, le=86_400, description="Seconds until the next heartbeat.")


class FlowRunsHeartbeat(FlowRunHeartbeat):
    """One heartbeat for several flow runs of one process."""

    flow_run_ids: list[uuid.UUID] = Field(max_length=10_000)


class HeartbeatResult(ActionModel):
    """The runs whose heartbeat was stored (a run in a final state stores none)."""

    stored: list[uuid.UUID]


async def _beat(db: DB, ids: list[uuid.UUID], body: FlowRunHeartbeat) -> HeartbeatResult:
    stamp = now()  # the server's clock: other hosts' clocks do not matter

    async def work(conn: AsyncConnection) -> list[uuid.UUID]:
        return await liveness.heartbeat(conn, ids, host=body.host, pid=body.pid,
                                        process_start=body.process_start,
                                        interval=body.interval, now=stamp)

    return HeartbeatResult(stored=await db.write(work))


@router.post("/heartbeat")
async def heartbeat_flow_runs(body: FlowRunsHeartbeat, db: DB) -> HeartbeatResult:
    """Record a heartbeat for each of these flow runs, stamped with the server's time."""
    return await _beat(db, body.flow_run_ids, body)


@router.post("/{id}/heartbeat")
async def heartbeat_flow_run(id: uuid.UUID, body: FlowRunHeartbeat, db: DB) -> HeartbeatResult:
    """Record a heartbeat for one flow run."""
    return await _beat(db, [id], body)


class WaitingReason(ActionModel):
    """One thing that keeps a run from starting, and how to lift it."""

    code: str
    message: str


class WaitingReasons(ActionModel):
    """Why a run waits; empty when it is not Scheduled (or nothing blocks it)."""

    reasons: list[WaitingReason]


@router.get("/{id}/waiting")
async def why_flow_run_waits(id: uuid.UUID, conn: ReadConn) -> WaitingReasons:
    """Why a Scheduled or Late run is not running: pools, queues, workers, labels, limits."""
    reasons = await waiting.why_waiting(conn, id)
    if reasons is None:
        not_found("Flow run")
    return WaitingReasons(reasons=[WaitingReason(**r) for r in reasons])

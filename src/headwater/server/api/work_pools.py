"""``/work_pools``: work pools, their queues and workers, and claiming runs for a worker."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fastapi import APIRouter, HTTPException, status
from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncConnection

from headwater.server.api.dependencies import DB, ReadConn, not_found
from headwater.server.schemas import workers as w
from headwater.server.schemas.actions import ActionModel
from headwater.server.services import work_pools as pools

__all__ = ["router"]

router = APIRouter(prefix="/work_pools", tags=["Work pools"])
T = TypeVar("T")
_POOL = "Work pool"
_QUEUE = "Work queue"


class Page(ActionModel):
    """Pagination of a filter body."""

    limit: int = Field(default=200, ge=1, le=1000)
    offset: int = Field(default=0, ge=0)


async def _write(db: DB, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
    try:
        return await db.write(work)
    except pools.PoolExistsError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from None


# --- pools ------------------------------------------------------------------------------------

@router.post("/", status_code=status.HTTP_201_CREATED)
async def create_work_pool(body: w.WorkPoolCreate, db: DB) -> w.WorkPool:
    """Create a work pool with its ``default`` queue (409 if the name is taken)."""
    row = await _write(db, lambda conn: pools.create_pool(conn, body))
    return w.WorkPool.model_validate(row)


@router.post("/filter")
async def filter_work_pools(conn: ReadConn, body: Page | None = None) -> list[w.WorkPool]:
    """Work pools by name."""
    page = body or Page()
    rows = await pools.filter_pools(conn, page.limit, page.offset)
    return [w.WorkPool.model_validate(r) for r in rows]


@router.get("/{name}")
async def read_work_pool(name: str, conn: ReadConn) -> w.WorkPool:
    """A work pool by name, with its status."""
    row = await pools.read_pool(conn, name)
    if row is None:
        not_found(_POOL)
    return w.WorkPool.model_validate(row)


@router.patch("/{name}", status_code=status.HTTP_204_NO_CONTENT)
async def update_work_pool(name: str, body: w.WorkPoolUpdate, db: DB) -> None:
    """Change a work pool (pause it with ``is_paused``)."""
    if not await _write(db, lambda conn: pools.update_pool(conn, name, body)):
        not_found(_POOL)


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_work_pool(name: str, db: DB) -> None:
    """Delete a work pool, its queues and its workers."""
    if not await _write(db, lambda conn: pools.delete_pool(conn, name)):
        not_found(_POOL)


# --- queues -----------------------------------------------------------------------------------

@router.post("/{name}/queues/", status_code=status.HTTP_201_CREATED)
async def create_work_queue(name: str, body: w.WorkQueueCreate, db: DB) -> w.WorkQueue:
    """Create a queue in a pool."""
    row = await _write(db, lambda conn: pools.create_queue(conn, name, body))
    if row is None:
        not_found(_POOL)
    return w.WorkQueue.model_validate(row)


@router.post("/{name}/queues/filter")
async def filter_work_queues(name: str, conn: ReadConn) -> list[w.WorkQueue]:
    """A pool's queues, by priority."""
    rows = await pools.filter_queues(conn, name)
    if rows is None:
        not_found(_POOL)
    return [w.WorkQueue.model_validate(r) for r in rows]


@router.get("/{name}/queues/{queue_name}")
async def read_work_queue(name: str, queue_name: str, conn: ReadConn) -> w.WorkQueue:
    """A queue of a pool."""
    row = await pools.read_queue(conn, name, queue_name)
    if row is None:
        not_found(_QUEUE)
    return w.WorkQueue.model_validate(row)


@router.patch("/{name}/queues/{queue_name}", status_code=status.HTTP_204_NO_CONTENT)
async def update_work_queue(name: str, queue_name: str, body: w.WorkQueueUpdate,
                            db: DB) -> None:
    """Change a queue (pause it with ``is_paused``)."""
    if not await _write(db, lambda conn: pools.update_queue(conn, name, queue_name, body)):
        not_found(_QUEUE)


@router.delete("/{name}/queues/{queue_name}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_work_queue(name: str, queue_name: str, db: DB) -> None:
    """Delete a queue (not the pool's default queue: 409)."""
    if not await _write(db, lambda conn: pools.delete_queue(conn, name, queue_name)):
        not_found(_QUEUE)


# --- workers ----------------------------------------------------------------------------------

@router.post("/{name}/workers/heartbeat", status_code=status.HTTP_204_NO_CONTENT)
async def worker_heartbeat(name: str, body: w.WorkerHeartbeat, db: DB) -> None:
    """A worker says it polls this pool (its row is created on the first heartbeat)."""
    if not await _write(db, lambda conn: pools.worker_heartbeat(conn, name, body)):
        not_found(_POOL)


@router.post("/{name}/workers/filter")
async def filter_workers(name: str, conn: ReadConn) -> list[w.Worker]:
    """A pool's workers, the most recent heartbeat first."""
    rows = await pools.read_workers(conn, name)
    if rows is None:
        not_found(_POOL)
    return [w.Worker.model_validate(r) for r in rows]


@router.delete("/{name}/workers/{worker_name}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_worker(name: str, worker_name: str, db: DB) -> None:
    """Forget a worker."""
    if not await _write(db, lambda conn: pools.delete_worker(conn, name, worker_name)):
        not_found("Worker")


@router.post("/{name}/get_scheduled_flow_runs")
async def get_scheduled_flow_runs(name: str, db: DB, body: w.GetScheduledFlowRuns | None = None,
                                  ) -> list[w.WorkerFlowRunResponse]:
    """Claim the scheduled runs this worker may start now: each is moved to PENDING for it.

    Runs are matched by queue (paused queues and pools give none), by labels
    (the run's must be a subset of the worker's ``labels``; runs without
    labels go to any worker unless the pool has ``require_labels``) and
    within the pool's and queues' concurrency limits. Two workers never get
    the same run.
    """
    request = body or w.GetScheduledFlowRuns()

    async def work(conn: AsyncConnection) -> list[dict[str, Any]] | None:
        return await pools.claim(conn, name, request)

    rows = await _write(db, work)
    if rows is None:
        not_found(_POOL)
    return [w.WorkerFlowRunResponse.model_validate(r) for r in rows]

"""Work pools, their queues and workers; claiming scheduled runs for a worker.

A pool is created with its ``default`` queue. A worker's heartbeat upserts
its row (name, labels, host, time). ``claim`` is
``get_scheduled_flow_runs``: it picks the runs the worker may take with the
storage core's rule (:mod:`~headwater._private.storage.claim_rules`) and moves
each to PENDING with a compare-and-set on ``state_version``, in one write
transaction that holds the pool (its row locked on PostgreSQL, the file's
write lock on SQLite): two workers never start the same run, and a pool's
or queue's concurrency limit is never exceeded.

The flow run columns that place a run in a pool (``work_pool_name``,
``work_queue_name``, ``labels``) come with the deployments (migration
0006); on a schema without them no run is in any pool.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from headwater._private.storage import claim_rules
from headwater.server.database import tables as t
from headwater.server.schemas import actions as a
from headwater.server.schemas import workers as w
from headwater.server.schemas.core import StateType
from headwater.server.services import flows_and_runs as runs
from headwater.server.services.flows_and_runs import now

__all__ = [
    "DEFAULT_QUEUE",
    "PoolExistsError",
    "claim",
    "create_pool",
    "create_queue",
    "delete_pool",
    "delete_queue",
    "delete_worker",
    "filter_pools",
    "filter_queues",
    "pool_views",
    "read_pool",
    "read_queue",
    "read_workers",
    "update_pool",
    "update_queue",
    "worker_heartbeat",
    "worker_online",
]

Row = dict[str, Any]
DEFAULT_QUEUE = "default"
_pool = t.work_pool.c
_queue = t.work_queue.c
_worker = t.worker.c
#: A worker is online while its last heartbeat is younger than this many of its intervals.
ONLINE_INTERVALS = 3
_DEFAULT_INTERVAL = 30.0
#: A queue is ready while a worker polled it this recently.
QUEUE_READY_SECONDS = 60.0
_CANDIDATES = 1000  # scheduled runs read per claim, at most


class PoolExistsError(ValueError):
    """Raised when a pool or queue of that name exists already."""


def worker_online(row: Row, at: dt.datetime) -> bool:
    """Whether a worker's last heartbeat is recent enough."""
    interval = row.get("heartbeat_interval_seconds") or _DEFAULT_INTERVAL
    return bool((at - row["last_heartbeat_time"]).total_seconds()
                < ONLINE_INTERVALS * interval)


# --- pools ------------------------------------------------------------------------------------

async def _pool_row(conn: AsyncConnection, name: str, lock: bool = False) -> Row | None:
    query = sa.select(t.work_pool).where(_pool.name == name)
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = (await conn.execute(query)).mappings().first()
    return None if row is None else dict(row)


async def _with_status(conn: AsyncConnection, pool: Row) -> Row:
    if pool["is_paused"]:
        return {**pool, "status": "PAUSED"}
    at = now()
    workers = await read_workers(conn, pool["name"])
    online = any(worker_online(row, at) for row in workers or [])
    return {**pool, "status": "READY" if online else "NOT_READY"}


async def create_pool(conn: AsyncConnection, body: w.WorkPoolCreate) -> Row:
    """Create a pool and its default queue.

    Raises:
        PoolExistsError: A pool of that name exists.
    """
    if await _pool_row(conn, body.name) is not None:
        raise PoolExistsError(f"A work pool named {body.name!r} exists already.")
    stamp = now()
    pool_id, queue_id = uuid.uuid4(), uuid.uuid4()
    await conn.execute(sa.insert(t.work_pool).values(
        id=pool_id, created=stamp, updated=stamp, default_queue_id=queue_id,
        **body.model_dump()))
    await conn.execute(sa.insert(t.work_queue).values(
        id=queue_id, created=stamp, updated=stamp, work_pool_id=pool_id, name=DEFAULT_QUEUE,
        description="The work pool's default queue.", is_paused=False, priority=1))
    row = await _pool_row(conn, body.name)
    assert row is not None
    return await _with_status(conn, row)


async def read_pool(conn: AsyncConnection, name: str) -> Row | None:
    """A pool by name, with its status (PAUSED, READY: a worker is online, NOT_READY)."""
    row = await _pool_row(conn, name)
    return None if row is None else await _with_status(conn, row)


async def filter_pools(conn: AsyncConnection, limit: int = 200, offset: int = 0) -> list[Row]:
    """Pools by name."""
    query = sa.select(t.work_pool).order_by(_pool.name).limit(limit).offset(offset)
    return [await _with_status(conn, dict(r)) for r in (await conn.execute(query)).mappings()]


async def update_pool(conn: AsyncConnection, name: str, body: w.WorkPoolUpdate) -> bool:
    """Change a pool; False if there is none of that name."""
    values = body.model_dump(exclude_unset=True)
    result = await conn.execute(sa.update(t.work_pool).where(_pool.name == name)
                                .values(updated=now(), **values))
    return bool(result.rowcount)


async def delete_pool(conn: AsyncConnection, name: str) -> bool:
    """Delete a pool with its queues and workers; False if there is none of that name."""
    pool = await _pool_row(conn, name)
    if pool is None:
        return False
    # Children first: SQLite enforces no foreign keys unless asked.
    await conn.execute(sa.delete(t.work_queue).where(_queue.work_pool_id == pool["id"]))
    await conn.execute(sa.delete(t.worker).where(_worker.work_pool_id == pool["id"]))
    await conn.execute(sa.delete(t.work_pool).where(_pool.id == pool["id"]))
    return True


# --- queues -----------------------------------------------------------------------------------

def _queue_status(row: Row, at: dt.datetime) -> str:
    if row["is_paused"]:
        return "PAUSED"
    polled = row.get("last_polled")
    if polled is not None and (at - polled).total_seconds() < QUEUE_READY_SECONDS:
        return "READY"
    return "NOT_READY"


def _queue_select() -> sa.Select[Any]:
    return sa.select(t.work_queue, _pool.name.label("work_pool_name")).join_from(
        t.work_queue, t.work_pool, _pool.id == _queue.work_pool_id)


def _queue_out(row: Any) -> Row:
    queue = dict(row)
    return {**queue, "status": _queue_status(queue, now())}


async def create_queue(conn: AsyncConnection, pool_name: str,
                       body: w.WorkQueueCreate) -> Row | None:
    """Create a queue in a pool; None if there is no such pool.

    Raises:
        PoolExistsError: The pool has a queue of that name.
    """
    pool = await _pool_row(conn, pool_name)
    if pool is None:
        return None
    if await read_queue(conn, pool_name, body.name) is not None:
        raise PoolExistsError(f"Work pool {pool_name!r} has a queue named {body.name!r} "
                              "already.")
    stamp = now()
    await conn.execute(sa.insert(t.work_queue).values(
        id=uuid.uuid4(), created=stamp, updated=stamp, work_pool_id=pool["id"],
        **body.model_dump()))
    return await read_queue(conn, pool_name, body.name)


async def read_queue(conn: AsyncConnection, pool_name: str, name: str) -> Row | None:
    """A queue of a pool by name, or None."""
    query = _queue_select().where(_pool.name == pool_name, _queue.name == name)
    row = (await conn.execute(query)).mappings().first()
    return None if row is None else _queue_out(row)


async def filter_queues(conn: AsyncConnection, pool_name: str) -> list[Row] | None:
    """A pool's queues by priority, then name; None if there is no such pool."""
    if await _pool_row(conn, pool_name) is None:
        return None
    query = _queue_select().where(_pool.name == pool_name).order_by(_queue.priority,
                                                                     _queue.name)
    return [_queue_out(r) for r in (await conn.execute(query)).mappings()]


async def update_queue(conn: AsyncConnection, pool_name: str, name: str,
                       body: w.WorkQueueUpdate) -> bool:
    """Change a queue; False if there is none of that name in that pool."""
    queue = await read_queue(conn, pool_name, name)
    if queue is None:
        return False
    values = body.model_dump(exclude_unset=True)
    await conn.execute(sa.update(t.work_queue).where(_queue.id == queue["id"])
                       .values(updated=now(), **values))
    return True


async def delete_queue(conn: AsyncConnection, pool_name: str, name: str) -> bool:
    """Delete a queue; False if there is none. The pool's default queue stays.

    Raises:
        PoolExistsError: It is the pool's default queue.
    """
    queue = await read_queue(conn, pool_name, name)
    if queue is None:
        return False
    pool = await _pool_row(conn, pool_name)
    if pool is not None and pool["default_queue_id"] == queue["id"]:
        raise PoolExistsError(f"{name!r} is work pool {pool_name!r}'s default queue; it is "
                              "deleted with the pool.")
    await conn.execute(sa.delete(t.work_queue).where(_queue.id == queue["id"]))
    return True


# --- workers ----------------------------------------------------------------------------------

async def worker_heartbeat(conn: AsyncConnection, pool_name: str,
                           body: w.WorkerHeartbeat) -> bool:
    """Record a worker's heartbeat (creating its row); False if there is no such pool."""
    pool = await _pool_row(conn, pool_name)
    if pool is None:
        return False
    stamp = now()
    values = {"labels": body.labels, "host": body.host, "last_heartbeat_time": stamp,
              "heartbeat_interval_seconds": body.heartbeat_interval_seconds, "updated": stamp}
    result = await conn.execute(sa.update(t.worker).where(
        _worker.work_pool_id == pool["id"], _worker.name == body.name).values(**values))
    if not result.rowcount:
        await conn.execute(sa.insert(t.worker).values(
            id=uuid.uuid4(), created=stamp, work_pool_id=pool["id"], name=body.name, **values))
    return True


async def read_workers(conn: AsyncConnection, pool_name: str) -> list[Row] | None:
    """A pool's workers, the most recent heartbeat first; None if there is no such pool."""
    pool = await _pool_row(conn, pool_name)
    if pool is None:
        return None
    query = (sa.select(t.worker).where(_worker.work_pool_id == pool["id"])
             .order_by(_worker.last_heartbeat_time.desc()))
    at = now()
    return [{**dict(r), "status": "ONLINE" if worker_online(dict(r), at) else "OFFLINE"}
            for r in (await conn.execute(query)).mappings()]


async def delete_worker(conn: AsyncConnection, pool_name: str, name: str) -> bool:
    """Forget a worker; False if there is none of that name in that pool."""
    pool = await _pool_row(conn, pool_name)
    if pool is None:
        return False
    result = await conn.execute(sa.delete(t.worker).where(
        _worker.work_pool_id == pool["id"], _worker.name == name))
    return bool(result.rowcount)


# --- claiming ---------------------------------------------------------------------------------

def placed_in_pools() -> bool:
    """Whether flow runs have the columns that place them in a pool (migration 0006)."""
    return {"work_pool_name", "work_queue_name", "labels"} <= set(t.flow_run.c.keys())


async def pool_views(conn: AsyncConnection, pool: Row,
                     ) -> tuple[claim_rules.PoolView, dict[str, claim_rules.QueueView], Row]:
    """The rule's views of a pool and its queues, and the queue rows by name."""
    rows = await filter_queues(conn, pool["name"]) or []
    default = next((q["name"] for q in rows if q["id"] == pool["default_queue_id"]),
                   DEFAULT_QUEUE)
    view = claim_rules.PoolView(pool["name"], pool["is_paused"], pool["concurrency_limit"],
                                pool["require_labels"], default)
    queues = {q["name"]: claim_rules.QueueView(q["name"], q["priority"], q["is_paused"],
                                               q["concurrency_limit"]) for q in rows}
    return view, queues, {q["name"]: q for q in rows}


async def active_counts(conn: AsyncConnection, pool: claim_rules.PoolView,
                        ) -> tuple[int, dict[str, int]]:
    """Runs of the pool holding a place in its limits: in all, and by queue."""
    if not placed_in_pools():
        return 0, {}
    r = t.flow_run.c
    query = (sa.select(r.work_queue_name, sa.func.count())
             .where(r.work_pool_name == pool.name, r.state_type.in_(claim_rules.ACTIVE_TYPES))
             .group_by(r.work_queue_name))
    by_queue: dict[str, int] = {}
    for queue_name, count in await conn.execute(query):
        key = queue_name or pool.default_queue
        by_queue[key] = by_queue.get(key, 0) + int(count)
    return sum(by_queue.values()), by_queue


async def claim(conn: AsyncConnection, pool_name: str,
                body: w.GetScheduledFlowRuns) -> list[Row] | None:
    """Claim the runs a worker may start now (each moved to PENDING); None: no such pool."""
    pool_row = await _pool_row(conn, pool_name, lock=True)
    if pool_row is None:
        return None
    if body.worker_name is not None:
        await worker_heartbeat(conn, pool_name, w.WorkerHeartbeat(
            name=body.worker_name, labels=body.labels))
    pool, queues, queue_rows = await pool_views(conn, pool_row)
    stamp = now()
    polled = body.work_queue_names if body.work_queue_names is not None else list(queues)
    polled_ids = [queue_rows[n]["id"] for n in polled if n in queue_rows]
    if polled_ids:
        await conn.execute(sa.update(t.work_queue).where(_queue.id.in_(polled_ids))
                           .values(last_polled=stamp))
    if pool.is_paused or not placed_in_pools():
        return []
    r = t.flow_run.c
    before = body.scheduled_before or stamp
    query = (sa.select(r.id, r.state_version, r.expected_start_time, r.work_queue_name,
                       r.labels)
             .where(r.work_pool_name == pool_name, r.state_type == StateType.SCHEDULED.value,
                    r.expected_start_time <= before)
             .order_by(r.expected_start_time).limit(_CANDIDATES))
    candidates = [claim_rules.Candidate(row.id, row.state_version, row.expected_start_time,
                                        row.work_queue_name, tuple(row.labels or ()))
                  for row in await conn.execute(query)]
    active, by_queue = await active_counts(conn, pool)
    chosen = claim_rules.choose(candidates, pool=pool, queues=queues,
                                worker_labels=body.labels, active_in_pool=active,
                                active_by_queue=by_queue, wanted_queues=body.work_queue_names,
                                limit=body.limit)
    who = f"worker {body.worker_name!r}" if body.worker_name else "a worker"
    claimed: list[Row] = []
    for candidate in chosen:
        request = a.SetStateRequest(
            state=a.StateCreate(type=StateType.PENDING,
                                message=f"Claimed by {who} of work pool {pool_name!r}."),
            expected_state_version=candidate.state_version)
        result = await runs.set_state(conn, runs.FLOW, candidate.id, request)
        if result is None or result.status != "ACCEPT":
            continue  # another claim or a state change got there first
        run = await runs.read_run(conn, runs.FLOW, candidate.id)
        assert run is not None
        queue = queue_rows[claim_rules.queue_of(candidate, pool)]
        claimed.append({"work_pool_id": pool_row["id"], "work_queue_id": queue["id"],
                        "flow_run": run})
    if claimed:  # a liveness row left by an earlier process of a run is not its new one's
        await conn.execute(sa.delete(t.flow_run_liveness).where(
            t.flow_run_liveness.c.flow_run_id.in_([uuid.UUID(str(c["flow_run"]["id"]))
                                                   for c in claimed])))
    return claimed

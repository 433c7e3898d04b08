"""Why a Scheduled (or Late) flow run is not running: the answer of ``flow-run inspect``.

Every reason names what blocks the run and how to unblock it: scheduled in
the future, deployment version archived, no such pool or queue, pool or
queue paused, no worker polled the pool recently (and when the last one
did), labels no worker offers (both sets named), a concurrency limit full
(which, held by which runs). Labels and limits are judged by the same rule
that claims runs (:mod:`~headwater._private.storage.claim_rules`).

The flow run columns that place a run in a pool or a deployment come with
migration 0006; on a schema without them those reasons cannot arise.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from headwater._private.storage import claim_rules
from headwater.server.database import tables as t
from headwater.server.services import work_pools as pools
from headwater.server.services.flows_and_runs import now

__all__ = ["why_waiting"]

Reason = dict[str, str]
_HOLDERS_SHOWN = 10


def _column(row: Any, name: str) -> Any:
    return row.get(name)


def _when(value: dt.datetime) -> str:
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


async def why_waiting(conn: AsyncConnection, run_id: uuid.UUID,
                      at: dt.datetime | None = None) -> list[Reason] | None:
    """The reasons a run is not running (empty: it is not waiting); None if no such run."""
    stamp = at or now()
    run = (await conn.execute(sa.select(t.flow_run).where(t.flow_run.c.id == run_id))
           ).mappings().first()
    if run is None:
        return None
    if run["state_type"] != "SCHEDULED":
        return []
    reasons: list[Reason] = []
    expected = run["expected_start_time"]
    if expected is not None and expected > stamp:
        seconds = (expected - stamp).total_seconds()
        reasons.append({"code": "scheduled_in_future",
                        "message": f"It is scheduled for {_when(expected)}, in {seconds:.0f} s."})
    reasons += await _deployment_reasons(conn, run)
    pool_name = _column(run, "work_pool_name")
    if pool_name is None:
        if _column(run, "deployment_id") is not None:
            reasons.append({"code": "no_work_pool", "message": (
                "Its deployment names no work pool: a `serve` process of the deployment "
                "starts it, and none has.")})
        return reasons
    reasons += await _pool_reasons(conn, run, pool_name, stamp)
    return reasons


async def _deployment_reasons(conn: AsyncConnection, run: Any) -> list[Reason]:
    deployment_id = _column(run, "deployment_id")
    table = t.metadata.tables.get("deployment")
    if deployment_id is None or table is None:
        return []
    row = (await conn.execute(sa.select(table).where(table.c.id == deployment_id))
           ).mappings().first()
    if row is None:
        return [{"code": "deployment_missing",
                 "message": f"Its deployment ({deployment_id}) was deleted."}]
    # A paused deployment only stops its schedules: its runs still start.
    reasons = []
    if _column(row, "archived"):
        reasons.append({"code": "deployment_archived", "message": (
            f"Its deployment version {row['version']!r} of {row['name']!r} is archived (a newer "
            "version replaced it).")})
    return reasons


async def _pool_reasons(conn: AsyncConnection, run: Any, pool_name: str,
                        stamp: dt.datetime) -> list[Reason]:
    pool_row = await pools.read_pool(conn, pool_name)
    if pool_row is None:
        return [{"code": "no_such_pool", "message": (
            f"Work pool {pool_name!r} does not exist: create it with `headwater work-pool "
            f"create {pool_name}` and start a worker on it.")}]
    reasons: list[Reason] = []
    pool, queues, _rows = await pools.pool_views(conn, pool_row)
    if pool.is_paused:
        reasons.append({"code": "pool_paused", "message": (
            f"Work pool {pool_name!r} is paused: `headwater work-pool resume {pool_name}`.")})
    queue_name = _column(run, "work_queue_name") or pool.default_queue
    queue = queues.get(queue_name)
    if queue is None:
        reasons.append({"code": "no_such_queue", "message": (
            f"Work pool {pool_name!r} has no queue {queue_name!r}: `headwater work-queue create "
            f"{queue_name} --pool {pool_name}`.")})
    elif queue.is_paused:
        reasons.append({"code": "queue_paused", "message": (
            f"Work queue {queue_name!r} of pool {pool_name!r} is paused: `headwater work-queue "
            f"resume {queue_name} --pool {pool_name}`.")})
    reasons += await _worker_reasons(conn, run, pool, stamp)
    reasons += await _limit_reasons(conn, pool, queue)
    return reasons


async def _worker_reasons(conn: AsyncConnection, run: Any, pool: claim_rules.PoolView,
                          stamp: dt.datetime) -> list[Reason]:
    workers = await pools.read_workers(conn, pool.name) or []
    if not workers:
        return [{"code": "no_worker", "message": (
            f"No worker has ever polled work pool {pool.name!r}: start one with `headwater "
            f"worker start --pool {pool.name}`.")}]
    online = [w for w in workers if pools.worker_online(w, stamp)]
    reasons: list[Reason] = []
    if not online:
        last = workers[0]
        reasons.append({"code": "no_recent_worker", "message": (
            f"No worker polled work pool {pool.name!r} recently; the last one, "
            f"{last['name']!r}, did at {_when(last['last_heartbeat_time'])}.")})
    candidates = online or workers
    labels = list(_column(run, "labels") or [])
    mismatches = [(w, claim_rules.label_mismatch(labels, w["labels"], pool.require_labels))
                  for w in candidates]
    if all(reason is not None for _w, reason in mismatches):
        detail = "; ".join(f"worker {w['name']!r}: {reason}" for w, reason in mismatches)
        reasons.append({"code": "label_mismatch", "message": (
            f"No {'online ' if online else ''}worker offers the labels the run requires "
            f"({sorted(labels)}): {detail}.")})
    return reasons


async def _limit_reasons(conn: AsyncConnection, pool: claim_rules.PoolView,
                         queue: claim_rules.QueueView | None) -> list[Reason]:
    if not pools.placed_in_pools():
        return []
    active, by_queue = await pools.active_counts(conn, pool)
    reasons: list[Reason] = []
    if pool.concurrency_limit is not None and active >= pool.concurrency_limit:
        holders = await _holders(conn, pool, None)
        reasons.append({"code": "pool_limit_full", "message": (
            f"Work pool {pool.name!r}'s concurrency limit ({pool.concurrency_limit}) is full, "
            f"held by {holders}.")})
    if (queue is not None and queue.concurrency_limit is not None
            and by_queue.get(queue.name, 0) >= queue.concurrency_limit):
        holders = await _holders(conn, pool, queue.name)
        reasons.append({"code": "queue_limit_full", "message": (
            f"Work queue {queue.name!r}'s concurrency limit ({queue.concurrency_limit}) is "
            f"full, held by {holders}.")})
    return reasons


async def _holders(conn: AsyncConnection, pool: claim_rules.PoolView,
                   queue_name: str | None) -> str:
    r = t.flow_run.c
    query = sa.select(r.id, r.name, r.state_type, r.work_queue_name).where(
        r.work_pool_name == pool.name, r.state_type.in_(claim_rules.ACTIVE_TYPES))
    rows = [row for row in await conn.execute(query)
            if queue_name is None or (row.work_queue_name or pool.default_queue) == queue_name]
    shown = ", ".join(f"{row.name} ({row.id}, {row.state_type})" for row in
                      rows[:_HOLDERS_SHOWN])
    more = f" and {len(rows) - _HOLDERS_SHOWN} more" if len(rows) > _HOLDERS_SHOWN else ""
    return (shown + more) or "no run (the count changed meanwhile)"

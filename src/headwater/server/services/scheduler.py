"""The scheduler service: runs of scheduled deployments, created ahead of time; Late runs.

One loop (:func:`schedule_once`) does two bounded pieces of work, each one
write transaction:

1. **Plan.** Current, unpaused versions with an active schedule whose planned
   runs are running out (``last_scheduled_time`` unset or closer than
   ``min_scheduled_time``), at most ``deployments_per_loop`` of them, the
   longest waiting first. The planner (pure, ``headwater._private.schedules``)
   gives the times; each run goes in Scheduled with the idempotency key of its
   version and time, ``INSERT ... ON CONFLICT DO NOTHING``: a run planned
   before, by this server or another scheduler (a ``serve`` process), is not
   made twice, on SQLite and PostgreSQL alike.
2. **Late.** Runs still waiting in ``Scheduled`` more than ``late_after``
   past their time, read through a partial index that holds only such
   runs (at most ``late_per_loop``), become ``Late`` (a SCHEDULED state), or
   are Cancelled with the reason when their deployment's lateness policy
   says to skip them; Late runs of deployments that skip runs later than
   ``max_lateness`` are Cancelled once past it. Runs already Late are never
   read again otherwise, so however many pile up (nobody serves the
   deployment), a loop costs what its new work costs.

The server runs it every ``HEADWATER_SCHEDULER_LOOP_SECONDS`` (a background
task of ``headwater server start``); ``POST /api/deployments/schedule``
runs one loop for given deployments (a ``serve`` process drives its own).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from headwater._private.storage.bookkeeping import Book, advance
from headwater._private.storage.run_names import random_flow_run_name
from headwater.server.database import tables as t
from headwater.server.database.engine import Database
from headwater.server.schemas.deployments import SchedulerReport
from headwater.server.services.deployment_runs import merged_tags
from headwater.server.services.filters import unindexed
from headwater.server.services.flows_and_runs import insert_ignore
from headwater.server.services.planning import Planner, SchedulerConfig, default_planner
from headwater.server.services.run_moves import lock_rows, move_runs

__all__ = ["AUTO_SCHEDULED_TAG", "run_scheduler", "schedule_once", "utc_now"]

logger = logging.getLogger("headwater.server.scheduler")

#: The tag of runs the scheduler creates (as Prefect 2 tags them).
AUTO_SCHEDULED_TAG = "auto-scheduled"
_D = t.deployment.c
_R = t.flow_run.c
_S = t.deployment_schedule.c


def utc_now() -> dt.datetime:
    """The current time, aware UTC, from headwater's clock (``use_clock`` swaps it in tests)."""
    from headwater._private.clock import get_clock

    return get_clock().now()


async def _clock_sleep(seconds: float) -> None:
    from headwater._private.clock import get_clock

    await get_clock().sleep_async(seconds)


async def schedule_once(db: Database, now: dt.datetime, *,
                        deployment_ids: Sequence[uuid.UUID] | None = None,
                        config: SchedulerConfig | None = None,
                        planner: Planner | None = None) -> SchedulerReport:
    """Run one scheduler loop at ``now`` (see the module docstring).

    Args:
        db: The database.
        now: The time of the loop (aware).
        deployment_ids: Only these deployment versions (a ``serve`` process's own).
        config: Window, counts and slices; unset: the settings'.
        planner: The planner; unset: headwater's.
    """
    config = config or SchedulerConfig.from_settings()
    planner = planner or default_planner()
    ids = None if deployment_ids is None else [uuid.UUID(str(i)) for i in deployment_ids]

    async def plan(conn: AsyncConnection) -> tuple[int, int, bool]:
        return await _plan(conn, now, ids, config, planner)

    async def late(conn: AsyncConnection) -> tuple[int, int, bool]:
        return await _mark_late(conn, now, ids, config, planner)

    deployments, created, more_plans = await db.write(plan)
    marked, skipped, more_late = await db.write(late)
    await _fail_expired_pauses(db, now)
    return SchedulerReport(deployments=deployments, runs_created=created,
                           runs_marked_late=marked, runs_skipped=skipped,
                           more=more_plans or more_late)


async def _fail_expired_pauses(db: Database, now: dt.datetime) -> None:
    """Prefect 2's ``FailExpiredPauses``, once per loop (see ``services/resuming.py``)."""
    from headwater.server.services.resuming import fail_expired_pauses

    async with db.read() as conn:  # the write lock only when a run is paused
        paused = (await conn.execute(sa.select(_R.id).where(_R.state_type == "PAUSED")
                                     .limit(1))).first()
    if paused is None:
        return
    for run_id in await db.write(lambda conn: fail_expired_pauses(conn, now)):
        logger.warning("Flow run %s: the flow was paused and never resumed.", run_id)


# --- planning -----------------------------------------------------------------------------------

async def _due_deployments(conn: AsyncConnection, now: dt.datetime,
                           ids: list[uuid.UUID] | None, config: SchedulerConfig) -> list[Any]:
    has_active = sa.exists().where(_S.deployment_id == _D.id, _S.active.is_(sa.true()))
    horizon = now + config.min_scheduled_time
    query = (sa.select(t.deployment)
             .where(_D.archived.is_(sa.false()), _D.paused.is_(sa.false()), has_active,
                    sa.or_(_D.last_scheduled_time.is_(None), _D.last_scheduled_time < horizon))
             .order_by(sa.nulls_first(_D.last_scheduled_time.asc()), _D.id)
             .limit(config.deployments_per_loop + 1))
    if ids is not None:
        query = query.where(_D.id.in_(ids))
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)  # two schedulers share the work
    return list((await conn.execute(query)).mappings())


async def _plan(conn: AsyncConnection, now: dt.datetime, ids: list[uuid.UUID] | None,
                config: SchedulerConfig, planner: Planner) -> tuple[int, int, bool]:
    rows = await _due_deployments(conn, now, ids, config)
    more = len(rows) > config.deployments_per_loop
    rows = rows[:config.deployments_per_loop]
    if not rows:
        return 0, 0, more
    schedules = (await conn.execute(sa.select(t.deployment_schedule).where(
        _S.deployment_id.in_([r["id"] for r in rows]), _S.active.is_(sa.true()))
    )).mappings().all()
    flow_runs: list[dict[str, Any]] = []
    states: list[dict[str, Any]] = []
    last_times: list[dict[str, Any]] = []
    for row in rows:
        mine = [s for s in schedules if s["deployment_id"] == row["id"]]
        runs = _plan_deployment(row, mine, now, config, planner)
        if runs:
            _run_rows(row, runs, now, planner, flow_runs, states)
            last_times.append({"deployment": row["id"],
                               "last": max(run.scheduled_time for run in runs)})
    created = await _insert_runs(conn, flow_runs, states)
    if last_times:
        await conn.execute(sa.update(t.deployment)
                           .where(_D.id == sa.bindparam("deployment"))
                           .values(last_scheduled_time=sa.bindparam("last")), last_times)
    return len(rows), created, more


def _plan_deployment(row: Any, schedules: Sequence[Any], now: dt.datetime,
                     config: SchedulerConfig, planner: Planner) -> list[Any]:
    """The planner's runs for one deployment version."""
    planned_schedules = []
    for s in schedules:
        try:
            schedule = planner.schedule_from_json(s["schedule"])
        except (TypeError, ValueError, KeyError) as exc:  # stored before a stricter check
            logger.warning("Schedule %s of deployment %s is skipped: %s", s["id"], row["id"], exc)
            continue
        planned_schedules.append(planner.planned_schedule(str(s["id"]), schedule,
                                                          dict(s["parameters"]), True))
    if not planned_schedules:
        return []
    return planner.plan_runs(planned_schedules, now=now, since=row["last_scheduled_time"],
                             window=config.min_scheduled_time, min_runs=config.min_runs,
                             max_runs=config.max_runs, catchup=bool(row["catchup"]),
                             max_window=config.max_scheduled_time)


async def _insert_runs(conn: AsyncConnection, flow_runs: list[dict[str, Any]],
                       states: list[dict[str, Any]]) -> int:
    """Insert the planned runs that do not exist yet (by idempotency key), with their states."""
    created = 0
    for start in range(0, len(flow_runs), _INSERT_CHUNK):
        chunk = flow_runs[start:start + _INSERT_CHUNK]
        inserted = set((await conn.execute(
            insert_ignore(t.flow_run, conn.dialect.name).returning(_R.id), chunk)).scalars())
        new_states = [s for s in states[start:start + _INSERT_CHUNK]
                      if s["flow_run_id"] in inserted]
        if new_states:
            await conn.execute(sa.insert(t.flow_run_state), new_states)
        created += len(inserted)
    return created


#: Planned runs per INSERT.
_INSERT_CHUNK = 1000


def _run_rows(row: Any, runs: Sequence[Any], now: dt.datetime, planner: Planner,
              flow_runs: list[dict[str, Any]], states: list[dict[str, Any]]) -> None:
    """Append the rows of ``runs`` (a run and its Scheduled state, at the same index)."""
    tags = merged_tags(row["tags"], [AUTO_SCHEDULED_TAG])
    for run in runs:
        run_id, state_id = uuid.uuid4(), uuid.uuid4()
        when = run.scheduled_time
        book = advance(Book(), state_id, "SCHEDULED", "Scheduled", now)
        flow_runs.append({
            "id": run_id, "created": now, "updated": now, "name": random_flow_run_name(),
            "flow_id": row["flow_id"], "flow_version": None,
            "parameters": {**row["parameters"], **run.parameters}, "tags": tags,
            "idempotency_key": planner.idempotency_key(str(row["id"]), when),
            "parent_task_run_id": None, "parent_flow_run_id": None,
            "expected_start_time": when, "deployment_id": row["id"],
            "deployment_version": row["version"], "auto_scheduled": True,
            "work_queue_name": row["work_queue_name"], "work_pool_name": row["work_pool_name"],
            "labels": row["labels"], "schedule_id": uuid.UUID(str(run.schedule_id)),
            **book.values()})
        states.append({"id": state_id, "created": now, "flow_run_id": run_id,
                       "type": "SCHEDULED", "name": "Scheduled", "timestamp": now,
                       "message": None, "data": None,
                       "state_details": {"flow_run_id": str(run_id),
                                         "scheduled_time": when.isoformat()}})


# --- lateness -----------------------------------------------------------------------------------

_SKIP_MESSAGE = ("Skipped: this run is later than its deployment's max_lateness, and the "
                 "deployment's late_runs policy is 'skip'.")
#: The partial index's condition as literal SQL: SQLite uses a partial index
#: only when the query states its condition, with the same literal values.
_WAITING = sa.text(t.WAITING.replace("state_", "flow_run.state_"))


def _scheduled_type(dialect: str) -> sa.ColumnElement[bool]:
    """``state_type = 'SCHEDULED'``; on SQLite written so that it cannot use its index.

    Without statistics SQLite would prefer the state_type index (an
    equality) to the partial index of waiting runs, and the state_type
    index holds every Late run too: all of them would be read every loop.
    """
    column = _R.state_type if dialect == "postgresql" else unindexed(_R.state_type)
    return column == "SCHEDULED"


async def _mark_late(conn: AsyncConnection, now: dt.datetime, ids: list[uuid.UUID] | None,
                     config: SchedulerConfig, planner: Planner) -> tuple[int, int, bool]:
    limit = config.late_per_loop
    query = (sa.select(_R.id, _R.expected_start_time, _D.max_lateness_seconds, _D.late_runs)
             .select_from(t.flow_run.outerjoin(t.deployment, _D.id == _R.deployment_id))
             .where(_WAITING, _scheduled_type(conn.dialect.name),
                    _R.expected_start_time <= now - config.late_after)
             .order_by(_R.expected_start_time).limit(limit + 1))
    if ids is not None:
        query = query.where(_R.deployment_id.in_(ids))
    rows = (await conn.execute(lock_rows(query, conn.dialect.name))).all()
    more = len(rows) > limit
    late: list[uuid.UUID] = []
    skip: list[uuid.UUID] = []
    for row in rows[:limit]:
        max_lateness = (None if row.max_lateness_seconds is None
                        else dt.timedelta(seconds=row.max_lateness_seconds))
        verdict = planner.lateness(row.expected_start_time, now, max_lateness=max_lateness,
                                   late_runs=row.late_runs or "run",
                                   late_after=config.late_after)
        (skip if verdict == "skip" else late).append(row.id)
    marked = await move_runs(conn, late, type_="SCHEDULED", name="Late", message=None, now=now)
    skipped = await move_runs(conn, skip, type_="CANCELLED", name="Cancelled",
                              message=_SKIP_MESSAGE, now=now)
    skipped_late, more_skips = await _skip_too_late(conn, now, ids, limit - len(rows[:limit]),
                                                    planner, config)
    return marked, skipped + skipped_late, more or more_skips


async def _skip_too_late(conn: AsyncConnection, now: dt.datetime, ids: list[uuid.UUID] | None,
                         budget: int, planner: Planner,
                         config: SchedulerConfig) -> tuple[int, bool]:
    """Cancel Late runs of skipping deployments once past their max_lateness (bounded)."""
    query = sa.select(_D.id, _D.max_lateness_seconds).where(
        _D.late_runs == "skip", _D.max_lateness_seconds.is_not(None))
    if ids is not None:
        query = query.where(_D.id.in_(ids))
    skipped = 0
    for deployment_id, seconds in (await conn.execute(query)).all():
        if budget - skipped <= 0:
            return skipped, True
        max_lateness = dt.timedelta(seconds=seconds)
        runs = (await conn.execute(lock_rows(
            sa.select(_R.id, _R.expected_start_time)
            .where(_R.deployment_id == deployment_id, _R.expected_start_time < now - max_lateness,
                   _R.state_type == "SCHEDULED", _R.state_name == "Late")
            .order_by(_R.expected_start_time).limit(budget - skipped),
            conn.dialect.name))).all()
        due = [r.id for r in runs if planner.lateness(
            r.expected_start_time, now, max_lateness=max_lateness, late_runs="skip",
            late_after=config.late_after) == "skip"]
        skipped += await move_runs(conn, due, type_="CANCELLED", name="Cancelled",
                                   message=_SKIP_MESSAGE, now=now)
    return skipped, False


# --- the background loop ------------------------------------------------------------------------

async def run_scheduler(db: Database, config: SchedulerConfig | None = None, *,
                        now: Callable[[], dt.datetime] = utc_now,
                        sleep: Callable[[float], Awaitable[None]] = _clock_sleep,
                        planner: Planner | None = None) -> None:
    """Run :func:`schedule_once` every ``loop_seconds`` until cancelled.

    A loop that fails is logged and the next one runs on time: the server
    keeps serving, and the scheduler keeps trying (the database may be back).
    A loop that found more work than its slices runs again at once.
    """
    config = config or SchedulerConfig.from_settings()
    while True:
        more = False
        try:
            report = await schedule_once(db, now(), config=config, planner=planner)
            more = report.more
            if report.runs_created or report.runs_marked_late or report.runs_skipped:
                logger.info("Scheduler: %d runs created, %d marked Late, %d skipped",
                            report.runs_created, report.runs_marked_late, report.runs_skipped)
        except Exception:
            logger.exception("The scheduler loop failed; it runs again in %s s",
                             config.loop_seconds)
        await sleep(0 if more else config.loop_seconds)

"""Heartbeats and the zombie check on the server: the API's driver of the liveness rules.

The rules live in :mod:`headwater._private.storage.liveness_rules` (embedded
processes run them straight on the SQLite file); this module carries out
their steps in the caller's write transaction: on SQLite with the same
statements (:mod:`~headwater._private.storage.liveness_sqlite`, through
``exec_driver_sql``), on PostgreSQL with SQLAlchemy Core.

:func:`sweep` runs in the server's services loop (every heartbeat interval)
and once when a database is opened (``Database.start``), so the CLI in
embedded mode on any database sweeps too.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from headwater._private.driving import drive_async
from headwater._private.storage import liveness_rules as rules
from headwater._private.storage import liveness_sqlite
from headwater._private.storage.bookkeeping import BOOK_COLUMNS, FINAL_TYPES
from headwater._private.storage.processes import local_host, process_alive
from headwater.server.database import tables as t

__all__ = ["any_dead", "heartbeat", "sweep"]

_live = t.flow_run_liveness.c


async def _run(conn: AsyncConnection, steps: rules.Steps) -> Any:
    carry_out = _sqlite_step if conn.dialect.name == "sqlite" else _core_step
    return await drive_async(steps, functools.partial(carry_out, conn))


async def _sqlite_step(conn: AsyncConnection, step: rules.Step) -> Any:
    answer: list[Any] | int = 0
    for sql in liveness_sqlite.statements(step):
        result = await conn.exec_driver_sql(sql.sql, sql.params)
        answer = list(result.all()) if sql.query else result.rowcount
    return liveness_sqlite.decode(step, answer)


def _book(row: Any) -> tuple[Any, ...]:
    return tuple(row[name] for name in BOOK_COLUMNS)


async def _core_step(conn: AsyncConnection, step: rules.Step) -> Any:
    """``step`` as SQLAlchemy Core (PostgreSQL)."""
    match step:
        case rules.ReadFinal(ids):
            query = sa.select(t.flow_run.c.id).where(t.flow_run.c.id.in_(ids),
                                                     t.flow_run.c.state_type.in_(FINAL_TYPES))
            return {row.id for row in await conn.execute(query)}
        case rules.UpsertBeat(beat):
            from sqlalchemy.dialects.postgresql import insert

            rows = [{"flow_run_id": run_id, "created": beat.at, "host": beat.host,
                     "pid": beat.pid, "process_start": beat.process_start,
                     "heartbeat_interval": beat.interval, "last_heartbeat": beat.at}
                    for run_id in beat.flow_run_ids]
            statement = insert(t.flow_run_liveness).values(rows)
            statement = statement.on_conflict_do_update(
                index_elements=["flow_run_id"],
                set_={k: statement.excluded[k] for k in ("host", "pid", "process_start",
                                                         "heartbeat_interval",
                                                         "last_heartbeat")})
            await conn.execute(statement)
            return None
        case rules.ReadSuspects():
            r, s = t.flow_run.c, t.flow_run_state.c
            attempts = (sa.select(sa.func.count()).where(
                s.flow_run_id == r.id, s.name == rules.RESCHEDULED).scalar_subquery())
            query = (sa.select(r.id, *[r[name] for name in BOOK_COLUMNS], _live.host, _live.pid,
                               _live.process_start, _live.heartbeat_interval,
                               _live.last_heartbeat, r.deployment_id,
                               attempts.label("attempts"),
                               sa.func.coalesce(t.deployment.c.lazarus, True).label("lazarus"))
                     .join_from(t.flow_run, t.flow_run_liveness, _live.flow_run_id == r.id)
                     .outerjoin(t.deployment, t.deployment.c.id == r.deployment_id)
                     .where(r.state_type.in_(["RUNNING", "CANCELLING"])))
            return [rules.Suspect(row.id, _book(row._mapping), row.host, row.pid,
                                  row.process_start, row.heartbeat_interval, row.last_heartbeat,
                                  row.deployment_id, int(row.attempts), bool(row.lazarus))
                    for row in await conn.execute(query)]
        case rules.FinishRun(table_name, run_id, expected, book, stamp, start):
            table = t.metadata.tables[table_name]
            values = dict(zip(BOOK_COLUMNS, book, strict=True))
            if start is not None:
                values["expected_start_time"] = start
            result = await conn.execute(
                sa.update(table).where(table.c.id == run_id, table.c.state_version == expected)
                .values(updated=stamp, **values))
            return result.rowcount
        case rules.InsertState(table_name, run_id, book, message, stamp, details):
            fk = f"{table_name}_id"
            await conn.execute(sa.insert(t.metadata.tables[f"{table_name}_state"]).values(
                id=book[0], created=stamp, type=book[1], name=book[2], timestamp=stamp,
                message=message, state_details={fk: str(run_id), **dict(details)},
                **{fk: run_id}))
            return 1
        case rules.ReadRunningTaskRuns(flow_run_id):
            c = t.task_run.c
            query = sa.select(c.id, *[c[name] for name in BOOK_COLUMNS]).where(
                c.flow_run_id == flow_run_id, c.state_type == "RUNNING")
            return [rules.TaskRunBook(row.id, _book(row._mapping))
                    for row in await conn.execute(query)]
        case rules.FreeSlots(task_run_ids):
            return await _free_slots(conn, task_run_ids)
        case rules.ReleaseLock(flow_run_id):
            await conn.execute(sa.delete(t.run_lock).where(t.run_lock.c.run_id == flow_run_id))
            return 1
    raise TypeError(f"not a liveness step: {step!r}")


async def _free_slots(conn: AsyncConnection, task_run_ids: Sequence[uuid.UUID]) -> int:
    if not task_run_ids:
        return 0
    held = [str(i) for i in task_run_ids]
    await conn.execute(sa.delete(t.concurrency_lease).where(
        t.concurrency_lease.c.holder.in_(held)))
    limits = t.concurrency_limit.c
    rows = await conn.execute(sa.select(limits.id, limits.active_slots).with_for_update())
    for row in rows.all():
        kept = [s for s in row.active_slots if s not in held]
        if len(kept) != len(row.active_slots):
            await conn.execute(sa.update(t.concurrency_limit).where(limits.id == row.id)
                               .values(active_slots=kept))
    return 0


async def heartbeat(conn: AsyncConnection, flow_run_ids: Sequence[uuid.UUID], *, host: str,
                    pid: int, process_start: str | None, interval: float,
                    now: dt.datetime) -> list[uuid.UUID]:
    """Store a heartbeat for each run (stamped ``now``); return the runs stored.

    A run in a final state stores nothing: its heartbeat changes nothing.
    """
    beat = rules.Beat(tuple(dict.fromkeys(flow_run_ids)), host, pid, process_start, interval,
                      now)
    stored: list[uuid.UUID] = await _run(conn, rules.heartbeat(beat))
    return stored


async def any_dead(conn: AsyncConnection, now: dt.datetime) -> bool:
    """Whether :func:`sweep` would end a run (a read only)."""
    found: bool = await _run(conn, rules.any_dead(now, host=local_host(),
                                                  process_check=process_alive))
    return found


async def sweep(conn: AsyncConnection, now: dt.datetime, *,
                lazarus_max_attempts: int = 0) -> list[rules.Verdict]:
    """End the runs whose process died (see :mod:`.liveness_rules`); return the verdicts."""
    result: list[rules.Verdict] = await _run(
        conn, rules.sweep(now, host=local_host(), process_check=process_alive,
                          lazarus_max_attempts=lazarus_max_attempts))
    return result

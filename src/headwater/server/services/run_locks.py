"""Version locks on the server: the API's driver of the storage core's ``run_locks`` rule.

On SQLite the steps run as the storage core's statements (through
``exec_driver_sql``), on PostgreSQL as SQLAlchemy Core; the insert's
``ON CONFLICT DO NOTHING`` on the primary key is the compare-and-set either way.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from headwater._private.driving import drive_async
from headwater._private.storage import run_locks as rules
from headwater.server.database import tables as t

__all__ = ["claim"]


async def _sqlite_step(conn: AsyncConnection, step: rules.Step) -> Any:
    sql = rules.statements(step)
    result = await conn.exec_driver_sql(sql.sql, sql.params)
    return rules.decode(step, list(result.all()) if sql.query else result.rowcount)


async def _core_step(conn: AsyncConnection, step: rules.Step) -> Any:
    match step:
        case rules.ReadRunState(kind, run_id):
            table = t.metadata.tables[kind]
            row = (await conn.execute(sa.select(table.c.state_type, table.c.state_name)
                                      .where(table.c.id == run_id))).first()
            return None if row is None else tuple(row)
        case rules.ReadLock(run_id):
            c = t.run_lock.c
            held = (await conn.execute(sa.select(c.host, c.pid, c.process_start)
                                       .where(c.run_id == run_id))).first()
            return None if held is None else rules.Holder(held.host, held.pid,
                                                          held.process_start)
        case rules.InsertLock(kind, run_id, holder, at):
            from sqlalchemy.dialects.postgresql import insert

            result = await conn.execute(insert(t.run_lock).values(
                run_id=run_id, created=at, kind=kind, host=holder.host, pid=holder.pid,
                process_start=holder.process_start).on_conflict_do_nothing(
                index_elements=["run_id"]))
            return result.rowcount
    raise TypeError(f"not a run lock step: {step!r}")


async def claim(conn: AsyncConnection, kind: rules.Kind, run_id: uuid.UUID,
                holder: rules.Holder, now: dt.datetime) -> rules.Claim:
    """Take the version lock of a flow run or task run (see the storage core's ``run_locks``)."""
    carry_out = _sqlite_step if conn.dialect.name == "sqlite" else _core_step
    answer: rules.Claim = await drive_async(rules.claim(kind, run_id, holder, now),
                                            functools.partial(carry_out, conn))
    return answer

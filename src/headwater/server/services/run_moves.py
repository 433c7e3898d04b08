"""Moving many waiting flow runs to one new state at once (the scheduler's bulk path).

Marking 10,000 runs Late must not cost 10,000 ``set_state`` calls, nor
10,000 rows built and bound in Python: each slice of runs moves in two
statements the database runs alone. ``INSERT ... SELECT`` adds a state to
each run (its id made by the database: ``gen_random_uuid()`` on PostgreSQL,
time then random hex on SQLite), then one ``UPDATE`` points each run at its
new state (on PostgreSQL both are one statement, the INSERT a CTE).

Only runs whose current state is of type SCHEDULED (waiting, Late,
awaiting a retry) are moved; the statements say so, so a run that left
that state meanwhile is left alone. For such a run the bookkeeping rule
(``_private/storage/bookkeeping.py``, which every other write path runs)
reduces to: the new state is current, ``state_version`` goes up by one,
``end_time`` is set if the new state is final; ``run_count``,
``start_time`` and ``total_run_time`` stay (a waiting run was never
RUNNING since it last ran). ``tests/server/test_scheduler.py`` compares
the rows with the rule's.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from headwater._private.storage.bookkeeping import FINAL_TYPES
from headwater.server.database import tables as t

__all__ = ["lock_rows", "move_runs"]

#: Runs per statement (well under both databases' limits on bound values).
_CHUNK = 5000
_R = t.flow_run.c


def lock_rows(query: sa.Select[Any], dialect: str) -> sa.Select[Any]:
    """``query`` locking the runs it reads on PostgreSQL, skipping those locked already."""
    if dialect == "postgresql":
        return query.with_for_update(of=t.flow_run, skip_locked=True)
    return query


def _new_id(dialect: str, now: dt.datetime) -> sa.ColumnElement[Any]:
    if dialect == "postgresql":
        return sa.func.gen_random_uuid()
    # SQLite stores UUIDs as 32 hex digits (SQLAlchemy's Uuid on SQLite). The
    # time in front, as in the recorder's version 7 ids: the new states go in
    # at the end of the primary key's B-tree, not at random pages of it.
    millis = int(now.timestamp() * 1000) & (2**48 - 1)
    return sa.literal(f"{millis:012x}") + sa.func.lower(sa.func.hex(sa.func.randomblob(10)))


def _details(dialect: str) -> sa.ColumnElement[Any]:
    """``{"flow_run_id": "<the run's id>"}``, as every stored state has it."""
    if dialect == "postgresql":
        return sa.func.jsonb_build_object("flow_run_id", sa.cast(_R.id, sa.Text))
    text: sa.ColumnElement[Any] = sa.literal_column(" || '-' || ".join(
        f"substr(flow_run.id, {start}, {length})"
        for start, length in ((1, 8), (9, 4), (13, 4), (17, 4), (21, 12))))
    return sa.func.json_object("flow_run_id", text)


async def move_runs(conn: AsyncConnection, run_ids: Sequence[uuid.UUID], *, type_: str,
                    name: str, message: str | None, now: dt.datetime) -> int:
    """Give each waiting run of ``run_ids`` a new current state; return how many moved.

    Args:
        conn: A write transaction (in which the runs were chosen, and locked
            on PostgreSQL).
        run_ids: The runs.
        type_: The new state's type (``SCHEDULED``, ``CANCELLED``...).
        name: Its name (``Late``, ``Cancelled``...).
        message: Its message.
        now: Its timestamp.
    """
    dialect = conn.dialect.name
    stamp = sa.literal(now, t.Timestamp())
    moved = 0
    for start in range(0, len(run_ids), _CHUNK):
        chunk = list(run_ids[start:start + _CHUNK])
        waiting = (_R.id.in_(chunk), _R.state_type == "SCHEDULED")
        state = sa.select(
            _new_id(dialect, now), stamp, _R.id, sa.literal(type_), sa.literal(name), stamp,
            sa.literal(message, sa.Text()), _details(dialect), sa.null(),
        ).where(*waiting)
        insert = sa.insert(t.flow_run_state).from_select(
            ["id", "created", "flow_run_id", "type", "name", "timestamp", "message",
             "state_details", "data"], state)
        values: dict[str, Any] = {
            "state_name": name, "state_timestamp": now,
            "state_version": _R.state_version + 1, "updated": now,
            "end_time": now if type_ in FINAL_TYPES else None}
        if type_ != "SCHEDULED":  # unchanged otherwise: leave its index alone
            values["state_type"] = type_
        if dialect == "postgresql":
            # One statement: the UPDATE joins the states the INSERT returns
            # (a correlated lookup per run took twice as long).
            new = insert.returning(t.flow_run_state.c.id,
                                   t.flow_run_state.c.flow_run_id).cte("new_states")
            update = (sa.update(t.flow_run)
                      .where(_R.id == new.c.flow_run_id, *waiting)
                      .values(state_id=new.c.id, **values))
        else:
            await conn.execute(insert)
            s = t.flow_run_state.alias("s")
            values["state_id"] = (sa.select(s.c.id)
                                  .where(s.c.flow_run_id == _R.id, s.c.timestamp == stamp,
                                         s.c.type == type_, s.c.name == name)
                                  .limit(1).scalar_subquery())
            update = sa.update(t.flow_run).where(*waiting).values(values)
        result = await conn.execute(update)
        moved += int(result.rowcount)
    return moved

"""Moving many flow runs to one new state at once (the scheduler's and deployments' bulk path).

Marking 10,000 runs Late must not be 10,000 round trips of ``set_state``:
the runs are chosen by one bounded query that also reads their books (and,
on PostgreSQL, locks them, skipping rows another transaction holds), then
their new states go in with one multi-row ``INSERT`` and their rows with one
``executemany`` ``UPDATE``, each book advanced by the one bookkeeping rule.
On SQLite the write transaction holds the file lock, so no other writer can
move a run between the read and the write; on PostgreSQL the row locks do.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from headwater._private.storage.bookkeeping import BOOK_COLUMNS, Book, advance
from headwater.server.database import tables as t

__all__ = ["BOOK_SELECT", "lock_rows", "move_runs"]

#: The columns a move needs of each run: its id and its book.
BOOK_SELECT: tuple[sa.Column[Any], ...] = (t.flow_run.c.id,
                                           *(t.flow_run.c[name] for name in BOOK_COLUMNS))

_UPDATE = (
    sa.update(t.flow_run)
    .where(t.flow_run.c.id == sa.bindparam("run_id"),
           t.flow_run.c.state_version == sa.bindparam("old_version"))
    # Bind names other than the columns' (SQLAlchemy reserves those in SET).
    .values({name: sa.bindparam(f"new_{name}") for name in (*BOOK_COLUMNS, "updated")})
)


def lock_rows(query: sa.Select[Any], dialect: str) -> sa.Select[Any]:
    """``query`` locking the rows it reads on PostgreSQL, skipping those locked already."""
    if dialect == "postgresql":
        return query.with_for_update(of=t.flow_run, skip_locked=True)
    return query


async def move_runs(conn: AsyncConnection, runs: Sequence[Any], *, type_: str, name: str,
                    message: str | None, now: dt.datetime,
                    details: dict[str, Any] | None = None) -> int:
    """Give each run (rows of :data:`BOOK_SELECT`) a new current state; return how many moved.

    Args:
        conn: A write transaction in which ``runs`` were read (and locked).
        runs: The runs, with their books as read.
        type_: The new state's type (``SCHEDULED``, ``CANCELLED``...).
        name: Its name (``Late``, ``Cancelled``...).
        message: Its message.
        now: Its timestamp.
        details: Extra ``state_details``.
    """
    if not runs:
        return 0
    states: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for run in runs:
        row = dict(run._mapping) if hasattr(run, "_mapping") else dict(run)
        state_id = uuid.uuid4()
        book = advance(Book.from_row(row), state_id, type_, name, now)
        states.append({"id": state_id, "created": now, "flow_run_id": row["id"], "type": type_,
                       "name": name, "timestamp": now, "message": message,
                       "state_details": {**(details or {}), "flow_run_id": str(row["id"])},
                       "data": None})
        updates.append({"run_id": row["id"], "old_version": row["state_version"],
                        "new_updated": now,
                        **{f"new_{k}": v for k, v in book.values().items()}})
    result = await conn.execute(_UPDATE, updates)
    # Every row matches: it was read under the write lock (SQLite) or locked
    # (PostgreSQL, where an executemany reports no row count: -1).
    if 0 <= result.rowcount != len(updates):
        raise RuntimeError(f"{len(updates) - result.rowcount} runs changed state while "
                           "being moved")
    await conn.execute(sa.insert(t.flow_run_state), states)
    return len(updates)

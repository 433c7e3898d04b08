"""Storing a records batch over a ``sqlite3`` connection: the embedded recorder's writer.

Drives :mod:`~headwater._private.storage.record_statements` over a stdlib
connection, in one ``BEGIN IMMEDIATE`` transaction; the server drives the
same statements over SQLAlchemy (``server/database/sqlite_driver.py``).

Standard library only: part of the storage core.
"""

from __future__ import annotations

import datetime as dt
import functools
import sqlite3
from collections.abc import Mapping
from typing import Any

from headwater._private.driving import drive
from headwater._private.storage.prepared import Prepared
from headwater._private.storage.record_statements import (
    MAX_VARIABLES,
    BatchCounts,
    Exec,
    Query,
    RunsStoredBefore,
    batch_statements,
    prepared_statements,
)
from headwater._private.storage.stored_values import stored_time
from headwater._private.storage.transactions import sqlite_transaction

__all__ = ["variable_limit", "write_batch"]

_UTC = dt.timezone.utc


@functools.cache
def variable_limit() -> int:
    """How many values one statement may bind in this process's SQLite library.

    A compile-time limit, the same for every connection: read once from a
    throwaway in-memory connection (``getlimit`` is Python 3.11+).
    """
    con = sqlite3.connect(":memory:")
    try:
        getlimit = getattr(con, "getlimit", None)
        if getlimit is not None:
            return int(getlimit(9))  # SQLITE_LIMIT_VARIABLE_NUMBER
    finally:
        con.close()
    return MAX_VARIABLES if sqlite3.sqlite_version_info >= (3, 32) else 999


def write_batch(con: sqlite3.Connection, batch: Mapping[str, Any] | Prepared,
                now: dt.datetime | None = None) -> BatchCounts:
    """Store ``batch`` (API-shaped, or prepared) in one write transaction on ``con``.

    ``con`` is in autocommit mode (``isolation_level=None``).

    ``BEGIN IMMEDIATE`` takes the write lock up front, so another process's
    writer makes this one wait (``busy_timeout``) instead of failing halfway.
    On any error the transaction is rolled back: a batch is stored whole or
    not at all. A prepared batch said to be fresh whose runs turn out to be
    stored already (another recorder created them) is stored again with
    its runs looked up.

    Raises:
        UnknownRunsError: The batch names runs neither in it nor stored, or
            holds a run whose identity another stored run has.
    """
    created = stored_time(now or dt.datetime.now(_UTC))
    limit = variable_limit()
    cursor = con.cursor()

    def carry_out(step: Exec | Query) -> Any:
        if isinstance(step, Exec):
            return cursor.executemany(step.sql, step.params).rowcount
        return cursor.execute(step.sql, step.params).fetchall()

    if not isinstance(batch, Prepared):
        with sqlite_transaction(con):
            return drive(batch_statements(batch, created, limit), carry_out)
    try:
        with sqlite_transaction(con):
            return drive(prepared_statements(batch, created, limit), carry_out)
    except RunsStoredBefore:
        batch.fresh = False
        with sqlite_transaction(con):
            return drive(prepared_statements(batch, created, limit), carry_out)

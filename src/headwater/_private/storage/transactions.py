"""The transaction of the standard-library drivers of step generators.

The write paths that must behave the same over a stdlib ``sqlite3``
connection (embedded mode) and over the server's SQLAlchemy connection
(records in ``record_statements``, slot leases in ``lease_rules``) are
step generators, run by :func:`~headwater._private.driving.drive` or
:func:`~headwater._private.driving.drive_async`; :func:`sqlite_transaction`
gives the stdlib drivers their transaction.

Standard library only: embedded mode imports this without the server stack.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator

__all__ = ["sqlite_transaction"]


@contextlib.contextmanager
def sqlite_transaction(con: sqlite3.Connection, *, write: bool = True) -> Iterator[None]:
    """One transaction on ``con`` (autocommit mode, with a busy timeout), rolled back on error.

    A ``write`` transaction starts with ``BEGIN IMMEDIATE``: it takes the
    file's write lock up front, so another process's writer makes it wait
    (up to the busy timeout) instead of failing halfway with "database is
    locked"; a read starts with a plain ``BEGIN`` and never waits for
    writers (WAL).
    """
    con.execute("BEGIN IMMEDIATE" if write else "BEGIN")
    try:
        yield
        con.execute("COMMIT")
    except BaseException:
        if con.in_transaction:
            con.execute("ROLLBACK")
        raise

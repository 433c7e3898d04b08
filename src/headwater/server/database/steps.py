"""Carrying out sans-I/O step generators: the one loop every driver shares.

The write paths that must behave the same over a stdlib ``sqlite3``
connection (embedded mode) and over the server's SQLAlchemy connection
(records in ``sqlite_records``, slot leases in ``services/lease_rules``) are
generators: they yield a step (a statement to run), receive its answer, and
return a result. A driver is then one function that carries out a step:
:func:`drive` or :func:`drive_async` runs the loop around it, and
:func:`sqlite_transaction` gives the stdlib drivers their transaction.

Standard library only: embedded mode imports this without the server stack.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Awaitable, Callable, Generator, Iterator
from typing import Any, TypeVar

__all__ = ["drive", "drive_async", "sqlite_transaction"]

S = TypeVar("S")
T = TypeVar("T")


def drive(steps: Generator[S, Any, T], carry_out: Callable[[S], Any]) -> T:
    """Send each step's answer (``carry_out(step)``) back until ``steps`` returns; return that."""
    answer: Any = None
    while True:
        try:
            step = steps.send(answer)
        except StopIteration as done:
            result: T = done.value
            return result
        answer = carry_out(step)


async def drive_async(steps: Generator[S, Any, T],
                      carry_out: Callable[[S], Awaitable[Any]]) -> T:
    """:func:`drive` with a step carried out by a coroutine."""
    answer: Any = None
    while True:
        try:
            step = steps.send(answer)
        except StopIteration as done:
            result: T = done.value
            return result
        answer = await carry_out(step)


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

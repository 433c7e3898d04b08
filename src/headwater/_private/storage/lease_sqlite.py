"""The SQLite statements of the lease rules, and their ``sqlite3`` driver.

:mod:`.lease_rules` decides; this module says how each of its steps reads
or writes a SQLite file: one statement per step, with ``?`` parameters and
the values SQLite stores for ``tables.py``'s types (ids as 32 hex digits,
times as naive UTC text of fixed width, JSON as ``json.dumps`` text),
exactly what SQLAlchemy writes, so rows written here and by the API's other
routes read back alike. Two drivers run these statements:

- :func:`run`, over a ``sqlite3`` connection, in one ``BEGIN IMMEDIATE``
  transaction (embedded processes, ``_private/concurrency/sqlite_slots.py``);
- the API's ``services/leases.py``, through ``exec_driver_sql`` inside its
  own write transaction (also ``BEGIN IMMEDIATE``).

Standard library only (a test checks it).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import uuid
from typing import Any, NamedTuple, TypeVar

from headwater._private.driving import drive
from headwater._private.storage import lease_rules as rules
from headwater._private.storage.stored_values import stored_time
from headwater._private.storage.transactions import sqlite_transaction

__all__ = ["Statement", "decode", "run", "statement"]

T = TypeVar("T")
_UTC = dt.timezone.utc
_IN_JSON = "IN (SELECT value FROM json_each(?))"  # any number of values, one parameter
_TAG_LIMITS = ("SELECT 'tag:' || tag, concurrency_limit, 0.0, 0.0, NULL, active_slots, NULL "
               "FROM concurrency_limit")
_GLOBAL_LIMITS = ('SELECT name, "limit", slot_decay_per_second, decaying_slots, decayed_at, '
                  "NULL, id FROM global_concurrency_limit")


class Statement(NamedTuple):
    """One step as SQL: a ``query`` answers with its rows, anything else with its row count."""

    sql: str
    params: tuple[Any, ...]
    query: bool = False


def statement(step: rules.Step) -> Statement:
    """The statement that carries out ``step`` on SQLite."""
    match step:
        case rules.DeleteExpired(stamp):
            return Statement("DELETE FROM concurrency_lease WHERE expires_at <= ?",
                             (stored_time(stamp),))
        case rules.ReadLimits(names):
            return _read_limits(names)
        case rules.ReadLiveLeases(stamp):
            return Statement("SELECT id, names, slots, holder FROM concurrency_lease "
                             "WHERE expires_at > ?", (stored_time(stamp),), query=True)
        case rules.InsertLease(lease_id, created, names, slots, holder, expires_at):
            return Statement(
                "INSERT INTO concurrency_lease (id, created, names, slots, holder, expires_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (lease_id.hex, stored_time(created), json.dumps(list(names)), slots, holder,
                 stored_time(expires_at)))
        case rules.SetDecaying(limit_id, decaying, decayed_at):
            return Statement("UPDATE global_concurrency_limit SET decaying_slots = ?, "
                             "decayed_at = ? WHERE id = ?",
                             (decaying, stored_time(decayed_at), limit_id.hex))
        case rules.DeleteLease(lease_id):
            return Statement("DELETE FROM concurrency_lease WHERE id = ?", (lease_id.hex,))
        case rules.ExtendLease(lease_id, stamp, expires_at):
            return Statement("UPDATE concurrency_lease SET expires_at = ? "
                             "WHERE id = ? AND expires_at > ?",
                             (stored_time(expires_at), lease_id.hex, stored_time(stamp)))
        case rules.SetLeaseNames(lease_id, names):
            return Statement("UPDATE concurrency_lease SET names = ? WHERE id = ?",
                             (json.dumps(list(names)), lease_id.hex))
    raise TypeError(f"not a lease step: {step!r}")


def _read_limits(names: tuple[str, ...] | None) -> Statement:
    """Tag and global limits in one statement (no row locks: the transaction holds the file)."""
    if names is None:
        return Statement(f"{_TAG_LIMITS} UNION ALL {_GLOBAL_LIMITS}", (), query=True)
    tags, globs = rules.split_names(names)
    return Statement(f"{_TAG_LIMITS} WHERE tag {_IN_JSON} UNION ALL "
                     f"{_GLOBAL_LIMITS} WHERE name {_IN_JSON}",
                     (json.dumps(tags), json.dumps(globs)), query=True)


def _time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=_UTC)


def decode(step: rules.Step, answer: list[Any] | int) -> Any:
    """The answer ``step`` expects, from its statement's rows (a query) or row count."""
    if isinstance(step, rules.ReadLimits):
        assert isinstance(answer, list)
        return [rules.LimitRow(name, int(limit), float(decay), float(decaying),
                               _time(at) if at is not None else None,
                               tuple(json.loads(slots)) if slots is not None else (),
                               uuid.UUID(row_id) if row_id is not None else None)
                for name, limit, decay, decaying, at, slots, row_id in answer]
    if isinstance(step, rules.ReadLiveLeases):
        assert isinstance(answer, list)
        return [rules.LeaseRow(uuid.UUID(lease_id), tuple(json.loads(names)), int(slots), holder)
                for lease_id, names, slots, holder in answer]
    return answer


def run(con: sqlite3.Connection, steps: rules.Steps[T], *, write: bool = True) -> T:
    """Run an operation of :mod:`.lease_rules` in one transaction on ``con``.

    ``con`` is in autocommit mode (``isolation_level=None``) and has a busy
    timeout; see :func:`~headwater._private.storage.transactions.sqlite_transaction`
    for why writes begin ``IMMEDIATE``. On any error the transaction is
    rolled back.
    """
    def carry_out(step: rules.Step) -> Any:
        sql = statement(step)
        cursor = con.execute(sql.sql, sql.params)
        return decode(step, cursor.fetchall() if sql.query else cursor.rowcount)

    with sqlite_transaction(con, write=write):
        return drive(steps, carry_out)

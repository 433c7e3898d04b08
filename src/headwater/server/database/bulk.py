"""Bulk inserts for the hot path: one ``executemany`` per table, no per-row ORM work.

On SQLite, rows are turned into tuples of the exact values SQLAlchemy's
types would store (UUID hex, naive UTC timestamp text, JSON text) by one
small converter per column, and handed to the driver's ``executemany``
directly: SQLAlchemy's per-row parameter processing is skipped, which is
most of the Python time of a large insert. Values read back through the
typed tables are identical. On PostgreSQL the typed Core insert is used
(asyncpg's binary codecs are already fast).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

from headwater.server.database.tables import Timestamp

__all__ = ["insert_ignore_many", "sqlite_insert_tuples", "stored_ids"]

_UTC = dt.timezone.utc
Converter = Callable[[Any], Any]


def _uuid(value: Any) -> Any:
    if value is None:
        return None
    return value.hex if isinstance(value, uuid.UUID) else uuid.UUID(str(value)).hex


# Timestamps already converted during the current insert: rows share many
# (created, updated, a run's state timestamp and its state's). Cleared by each
# insert; conversion never awaits, so no other insert can interleave.
_stamps: dict[Any, str] = {}


def _timestamp(value: Any) -> Any:
    if value is None:
        return None
    text = _stamps.get(value)
    if text is None:
        # SQLAlchemy's SQLite DATETIME format: fixed width, so text order is time order.
        text = value.isoformat(" ", "microseconds")
        if len(text) == 32 and text.endswith("+00:00"):  # UTC already: the common case
            text = text[:26]
        elif value.tzinfo is not None:
            text = value.astimezone(_UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
        _stamps[value] = text
    return text


def _json(value: Any) -> Any:
    if value is None:
        return None
    if not value and isinstance(value, (list, dict)):
        return "[]" if isinstance(value, list) else "{}"
    return json.dumps(value)


def _plain(value: Any) -> Any:
    return value


def _converter(column: sa.Column[Any]) -> Converter:
    type_ = column.type
    if isinstance(type_, sa.Uuid):
        return _uuid
    if isinstance(type_, Timestamp):
        return _timestamp
    if isinstance(type_, sa.JSON | sa.types.Variant) or type(type_).__name__ == "JSON":
        return _json
    return _plain


RowToTuple = Callable[[dict[str, Any]], tuple[Any, ...]]
_SQLITE_PLANS: dict[tuple[str, tuple[str, ...]], tuple[str, RowToTuple]] = {}


def _row_to_tuple(table: sa.Table, names: tuple[str, ...]) -> RowToTuple:
    """Compile ``row -> tuple`` for these columns: one expression, no loop per value."""
    env: dict[str, Any] = {}
    parts = []
    for i, name in enumerate(names):
        convert = _converter(table.c[name])
        if convert is _plain:
            parts.append(f"row[{name!r}]")
        else:
            env[f"c{i}"] = convert
            parts.append(f"c{i}(row[{name!r}])")
    source = f"def row_to_tuple(row):\n    return ({', '.join(parts)},)\n"
    exec(compile(source, f"<bulk insert {table.name}>", "exec"), env)
    return env["row_to_tuple"]  # type: ignore[no-any-return]


async def sqlite_insert_tuples(conn: AsyncConnection, table: sa.Table, names: tuple[str, ...],
                               params: list[tuple[Any, ...]]) -> int:
    """SQLite only: insert tuples of stored values, skipping conflicts; return how many."""
    if not params:
        return 0
    sql = _sqlite_plan(table, names)[0]
    return int((await conn.exec_driver_sql(sql, params)).rowcount)


def _sqlite_plan(table: sa.Table, names: tuple[str, ...]) -> tuple[str, RowToTuple]:
    key = (table.name, names)
    plan = _SQLITE_PLANS.get(key)
    if plan is None:
        sql = (f"INSERT INTO {table.name} ({', '.join(names)}) "
               f"VALUES ({', '.join('?' for _ in names)}) ON CONFLICT DO NOTHING")
        plan = _SQLITE_PLANS[key] = (sql, _row_to_tuple(table, names))
    return plan


async def stored_ids(conn: AsyncConnection, column: sa.Column[Any],
                     ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    """Which of ``ids`` are values of ``column`` (a UUID column).

    One bound parameter, whatever the number of ids (a JSON list on SQLite,
    an array on PostgreSQL): no statement with thousands of placeholders to
    compile, and no limit on their number.
    """
    wanted = list(set(ids))
    if not wanted:
        return set()
    if conn.dialect.name == "postgresql":
        array = sa.bindparam("ids", wanted, type_=postgresql.ARRAY(sa.Uuid()))
        query = sa.select(column).where(column == sa.any_(array))
        return set((await conn.execute(query)).scalars())
    sql = (f"SELECT {column.name} FROM {column.table.name} "
           f"WHERE {column.name} IN (SELECT value FROM json_each(?))")
    result = await conn.exec_driver_sql(sql, (json.dumps([_uuid(i) for i in wanted]),))
    return {uuid.UUID(value) for (value,) in result}


async def insert_ignore_many(conn: AsyncConnection, table: sa.Table,
                             rows: Sequence[dict[str, Any]]) -> set[uuid.UUID]:
    """Insert rows (all with the same keys, ``id`` among them), skipping conflicts.

    Returns:
        The ids of the rows inserted.
    """
    if not rows:
        return set()
    if conn.dialect.name == "postgresql":
        stmt = postgresql.insert(table).on_conflict_do_nothing().returning(table.c.id)
        return set((await conn.execute(stmt, list(rows))).scalars())
    names = tuple(rows[0])
    _sql, row_to_tuple = _sqlite_plan(table, names)
    _stamps.clear()
    try:
        params = [row_to_tuple(row) for row in rows]
    finally:
        _stamps.clear()
    count = await sqlite_insert_tuples(conn, table, names, params)
    ids = [row["id"] for row in rows]
    if count == len(rows):
        return set(ids)
    # Some rows hit a conflict. Writes are serialized and callers pass only ids
    # not stored before, so the stored ones now are exactly those inserted.
    return await stored_ids(conn, table.c.id, ids)

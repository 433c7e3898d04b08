"""The flow run input store (Prefect 2's): key/value text per flow run, unique per key.

A paused run saves the JSON schema of the input it waits for under
``<name>-<pause key>-schema``; a resume stores the input under
``...-response`` (see ``headwater.input``). Values are text (JSON, as
Prefect 2 sends them); the store does not look inside.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from headwater.server.database import tables as t

__all__ = ["DuplicateInputError", "create_input", "delete_input", "filter_inputs",
           "read_input"]

_C = t.flow_run_input.c
Row = dict[str, Any]


class DuplicateInputError(ValueError):
    """Raised when the flow run has an input under this key already."""


async def create_input(conn: AsyncConnection, flow_run_id: uuid.UUID, key: str, value: str,
                       sender: str | None = None) -> Row | None:
    """Store ``value`` under ``key`` for the run; None when the run does not exist.

    Raises:
        DuplicateInputError: The run has an input under ``key`` already
            (inputs are written once, as in Prefect 2).
    """
    exists = await conn.execute(sa.select(t.flow_run.c.id).where(t.flow_run.c.id == flow_run_id))
    if exists.first() is None:
        return None
    stamp = dt.datetime.now(dt.timezone.utc)
    row: Row = {"id": uuid.uuid4(), "created": stamp, "updated": stamp,
                "flow_run_id": flow_run_id, "key": key, "value": value, "sender": sender}
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    result = await conn.execute(dialect.insert(t.flow_run_input).on_conflict_do_nothing(), row)
    if result.rowcount != 1:
        raise DuplicateInputError("A flow run input with this key already exists.")
    return row


async def read_input(conn: AsyncConnection, flow_run_id: uuid.UUID, key: str) -> Row | None:
    """The input under ``key``, or None."""
    query = sa.select(t.flow_run_input).where(_C.flow_run_id == flow_run_id, _C.key == key)
    row = (await conn.execute(query)).mappings().first()
    return None if row is None else dict(row)


async def filter_inputs(conn: AsyncConnection, flow_run_id: uuid.UUID, prefix: str,
                        limit: int = 1, exclude_keys: Sequence[str] = ()) -> list[Row]:
    """The run's inputs whose key starts with ``prefix``, oldest first, at most ``limit``."""
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    query = (sa.select(t.flow_run_input)
             .where(_C.flow_run_id == flow_run_id, _C.key.like(f"{escaped}%", escape="\\"))
             .order_by(_C.created, _C.id).limit(limit))
    if exclude_keys:
        query = query.where(_C.key.not_in(list(exclude_keys)))
    return [dict(r) for r in (await conn.execute(query)).mappings()]


async def delete_input(conn: AsyncConnection, flow_run_id: uuid.UUID, key: str) -> bool:
    """Delete the input under ``key``; False when there was none."""
    result = await conn.execute(
        sa.delete(t.flow_run_input).where(_C.flow_run_id == flow_run_id, _C.key == key))
    return bool(result.rowcount)

"""Global concurrency limits (``concurrency()``, ``rate_limit()``): create, read, delete, reset."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from headwater.server.database import tables as t
from headwater.server.schemas.concurrency import GlobalLimitCreate
from headwater.server.services import leases
from headwater.server.services.flows_and_runs import insert_ignore, now

__all__ = ["delete_limit", "filter_limits", "read_limit", "reset_limit", "upsert_limit"]

Row = dict[str, Any]
_c = t.global_concurrency_limit.c


async def _with_usage(conn: AsyncConnection, rows: list[Row]) -> list[Row]:
    if not rows:
        return rows
    status = {s.name: s for s in await leases.limit_status(conn, [r["name"] for r in rows])}
    for row in rows:
        found = status.get(row["name"])
        row["active_slots"] = found.active_slots if found else 0
        row["decaying_slots"] = found.decaying_slots if found else 0.0
    return rows


async def read_limit(conn: AsyncConnection, name: str) -> Row | None:
    """The limit ``name`` with its slots in use, or None."""
    row = (await conn.execute(sa.select(t.global_concurrency_limit).where(_c.name == name))
           ).mappings().first()
    return None if row is None else (await _with_usage(conn, [dict(row)]))[0]


async def upsert_limit(conn: AsyncConnection, body: GlobalLimitCreate) -> tuple[Row, bool]:
    """Create the limit, or change it; the bool says whether it is new."""
    stamp = now()
    result = await conn.execute(
        insert_ignore(t.global_concurrency_limit, conn.dialect.name).returning(_c.id),
        {"id": uuid.uuid4(), "created": stamp, "updated": stamp, "name": body.name,
         "limit": body.limit, "slot_decay_per_second": body.slot_decay_per_second,
         "decaying_slots": 0.0, "decayed_at": stamp})
    created = result.first() is not None
    if not created:
        await conn.execute(sa.update(t.global_concurrency_limit).where(_c.name == body.name)
                           .values(limit=body.limit, updated=stamp,
                                   slot_decay_per_second=body.slot_decay_per_second))
    row = await read_limit(conn, body.name)
    assert row is not None
    return row, created


async def filter_limits(conn: AsyncConnection, limit: int, offset: int) -> list[Row]:
    """Limits sorted by name, paginated."""
    query = sa.select(t.global_concurrency_limit).order_by(_c.name).limit(limit).offset(offset)
    return await _with_usage(conn, [dict(r) for r in (await conn.execute(query)).mappings()])


async def delete_limit(conn: AsyncConnection, name: str) -> bool:
    """Delete the limit; its leases stop counting against it. False if there was none."""
    result = await conn.execute(sa.delete(t.global_concurrency_limit).where(_c.name == name))
    if result.rowcount:
        await leases.strip_name(conn, name)
    return bool(result.rowcount)


async def reset_limit(conn: AsyncConnection, name: str) -> bool:
    """Free every slot of the limit (leases and decaying slots); False if no such limit."""
    stamp = now()
    result = await conn.execute(sa.update(t.global_concurrency_limit).where(_c.name == name)
                                .values(decaying_slots=0.0, decayed_at=stamp, updated=stamp))
    if result.rowcount:
        await leases.strip_name(conn, name)
    return bool(result.rowcount)

"""Tag concurrency limits: create, read, filter, delete, reset."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from headwater.server.database import tables as t
from headwater.server.schemas import actions as a
from headwater.server.schemas import filters as f
from headwater.server.services.flows_and_runs import insert_ignore, now

__all__ = ["delete_limit", "filter_limits", "read_limit", "reset_limit", "upsert_limit"]

Row = dict[str, Any]
_c = t.concurrency_limit.c


async def read_limit(conn: AsyncConnection, tag: str) -> Row | None:
    """The limit on ``tag``, or None."""
    query = sa.select(t.concurrency_limit).where(_c.tag == tag)
    row = (await conn.execute(query)).mappings().first()
    return None if row is None else dict(row)


async def upsert_limit(conn: AsyncConnection, body: a.ConcurrencyLimitCreate) -> tuple[Row, bool]:
    """Create the limit on a tag, or change it; the bool says whether it is new."""
    stamp = now()
    result = await conn.execute(
        insert_ignore(t.concurrency_limit, conn.dialect.name).returning(_c.id),
        {"id": uuid.uuid4(), "created": stamp, "updated": stamp, "tag": body.tag,
         "concurrency_limit": body.concurrency_limit, "active_slots": []})
    created = result.first() is not None
    if not created:
        await conn.execute(sa.update(t.concurrency_limit).where(_c.tag == body.tag).values(
            concurrency_limit=body.concurrency_limit, updated=stamp))
    row = await read_limit(conn, body.tag)
    assert row is not None
    return row, created


async def filter_limits(conn: AsyncConnection, body: f.ConcurrencyLimitsFilterBody) -> list[Row]:
    """Limits sorted by tag, paginated."""
    query = sa.select(t.concurrency_limit).order_by(_c.tag).limit(body.limit).offset(body.offset)
    return [dict(r) for r in (await conn.execute(query)).mappings()]


async def delete_limit(conn: AsyncConnection, tag: str) -> bool:
    """Delete the limit on ``tag``; False if there was none."""
    result = await conn.execute(sa.delete(t.concurrency_limit).where(_c.tag == tag))
    return bool(result.rowcount)


async def reset_limit(conn: AsyncConnection, tag: str,
                      slots: list[uuid.UUID] | None) -> bool:
    """Free every slot on ``tag`` (or set them to ``slots``); False if no such limit."""
    result = await conn.execute(
        sa.update(t.concurrency_limit).where(_c.tag == tag).values(
            active_slots=[str(s) for s in slots or ()], updated=now()))
    return bool(result.rowcount)

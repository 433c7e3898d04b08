"""Logs: store and filter."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from headwater.server.database import tables as t
from headwater.server.schemas import actions as a
from headwater.server.schemas import filters as f
from headwater.server.services.filters import log_clauses
from headwater.server.services.runs import now

__all__ = ["create_logs", "filter_logs"]


async def create_logs(conn: AsyncConnection, logs: list[a.LogCreate]) -> None:
    """Store log lines."""
    if not logs:
        return
    stamp = now()
    rows = [{"id": uuid.uuid4(), "created": stamp, **line.model_dump()} for line in logs]
    await conn.execute(sa.insert(t.log), rows)


async def filter_logs(conn: AsyncConnection, body: f.LogsFilterBody) -> list[dict[str, Any]]:
    """Logs matching a filter body, sorted and paginated."""
    c = t.log.c
    order = c.timestamp.asc() if body.sort is f.LogSort.TIMESTAMP_ASC else c.timestamp.desc()
    query = (sa.select(t.log).where(*log_clauses(body.logs)).order_by(order, c.id)
             .limit(body.limit).offset(body.offset))
    return [dict(r) for r in (await conn.execute(query)).mappings()]

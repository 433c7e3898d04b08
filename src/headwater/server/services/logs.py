"""Logs: store and filter."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from headwater._private.ids import new_uuid
from headwater.server.database import tables as t
from headwater.server.database.bulk import insert_ignore_many
from headwater.server.schemas import actions as a
from headwater.server.schemas import filters as f
from headwater.server.services.filters import log_clauses
from headwater.server.services.flows_and_runs import now

__all__ = ["create_logs", "filter_logs"]


async def create_logs(conn: AsyncConnection, logs: list[a.LogCreate]) -> None:
    """Store log lines, skipping those whose ``id`` is stored already.

    A client that sends its lines with ids (the recorder does) can send them
    again after a failure, in whole or in part, and each line is stored once.
    Lines without an id get a new one. Run ids are not checked: logs keep no
    foreign keys, so a line may name a run that is not (or no longer) stored.
    """
    if not logs:
        return
    stamp = now()
    rows = [{**line.model_dump(), "id": line.id or new_uuid(), "created": stamp}
            for line in logs]
    await insert_ignore_many(conn, t.log, rows)


async def filter_logs(conn: AsyncConnection, body: f.LogsFilterBody) -> list[dict[str, Any]]:
    """Logs matching a filter body, sorted and paginated."""
    c = t.log.c
    order = c.timestamp.asc() if body.sort is f.LogSort.TIMESTAMP_ASC else c.timestamp.desc()
    query = (sa.select(t.log).where(*log_clauses(body.logs)).order_by(order, c.id)
             .limit(body.limit).offset(body.offset))
    return [dict(r) for r in (await conn.execute(query)).mappings()]

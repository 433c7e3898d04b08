"""Projects: named groups of deployments (Prefect 1's projects).

A deployment names its project (``default`` unless given); registering a
deployment in a project that has no row yet creates the row, so
``GET /projects/`` lists every project in use.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from headwater.server.database import tables as t
from headwater.server.services.flows_and_runs import insert_ignore

__all__ = ["ensure_project", "read_projects"]

Row = dict[str, Any]


async def ensure_project(conn: AsyncConnection, name: str, description: str | None,
                         now: dt.datetime) -> tuple[Row, bool]:
    """Create a project unless one has the name; return it and whether it is new."""
    result = await conn.execute(
        insert_ignore(t.project, conn.dialect.name).returning(t.project.c.id),
        {"id": uuid.uuid4(), "created": now, "updated": now, "name": name,
         "description": description})
    created = result.first() is not None
    row = (await conn.execute(sa.select(t.project).where(t.project.c.name == name))).mappings()
    return dict(row.one()), created


async def read_projects(conn: AsyncConnection, *, limit: int, offset: int) -> list[Row]:
    """Projects by name."""
    query = (sa.select(t.project).order_by(t.project.c.name).limit(limit).offset(offset))
    return [dict(r) for r in (await conn.execute(query)).mappings()]

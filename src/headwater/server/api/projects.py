"""``/projects``: named groups of deployments (a headwater extension, after Prefect 1)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Response, status
from sqlalchemy.ext.asyncio import AsyncConnection

from headwater.server.api.dependencies import DB, Now, ReadConn
from headwater.server.schemas import deployments as d
from headwater.server.schemas.filters import DEFAULT_LIMIT, MAX_LIMIT
from headwater.server.services import projects

__all__ = ["router"]

router = APIRouter(prefix="/projects", tags=["Projects"])


@router.get("/")
async def read_projects(conn: ReadConn,
                        limit: int = Query(DEFAULT_LIMIT, ge=0, le=MAX_LIMIT),
                        offset: int = Query(0, ge=0, le=2**31 - 1)) -> list[d.Project]:
    """Projects, by name."""
    rows = await projects.read_projects(conn, limit=limit, offset=offset)
    return [d.Project.model_validate(r) for r in rows]


@router.post("/", status_code=status.HTTP_201_CREATED)
async def create_project(body: d.ProjectCreate, response: Response, db: DB, now: Now) -> d.Project:
    """Create a project, or return the one with this name (200)."""
    async def work(conn: AsyncConnection) -> tuple[dict[str, Any], bool]:
        return await projects.ensure_project(conn, body.name, body.description, now)

    row, created = await db.write(work)
    if not created:
        response.status_code = status.HTTP_200_OK
    return d.Project.model_validate(row)

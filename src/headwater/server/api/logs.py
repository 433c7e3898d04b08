"""``/logs``: store and filter log lines."""

from __future__ import annotations

from fastapi import APIRouter, status
from sqlalchemy.ext.asyncio import AsyncConnection

from headwater.server.api.dependencies import DB, ReadConn
from headwater.server.schemas import actions as a
from headwater.server.schemas import filters as f
from headwater.server.schemas.core import Log
from headwater.server.services import logs

__all__ = ["router"]

router = APIRouter(prefix="/logs", tags=["Logs"])


@router.post("/", status_code=status.HTTP_201_CREATED)
async def create_logs(body: list[a.LogCreate], db: DB) -> None:
    """Store log lines; a line whose ``id`` is stored already is skipped (safe to resend)."""
    async def work(conn: AsyncConnection) -> None:
        await logs.create_logs(conn, body)

    await db.write(work)


@router.post("/filter")
async def filter_logs(conn: ReadConn, body: f.LogsFilterBody | None = None) -> list[Log]:
    """Log lines matching the filter, sorted and paginated."""
    return [Log.model_validate(r) for r in await logs.filter_logs(conn, body or f.LogsFilterBody())]

"""``/v2/concurrency_limits``: global limits, for ``concurrency()`` and ``rate_limit()``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response, status
from sqlalchemy.ext.asyncio import AsyncConnection

from headwater.server.api.dependencies import DB, ReadConn, not_found
from headwater.server.schemas import filters as f
from headwater.server.schemas.concurrency import GlobalLimit, GlobalLimitCreate
from headwater.server.services import global_limits

__all__ = ["router"]

router = APIRouter(prefix="/v2/concurrency_limits", tags=["Global concurrency limits"])

_NOT_FOUND = "Global concurrency limit"


@router.post("/", status_code=status.HTTP_201_CREATED)
async def create_global_concurrency_limit(body: GlobalLimitCreate, response: Response,
                                          db: DB) -> GlobalLimit:
    """Create a global limit (201), or change an existing one (200)."""
    async def work(conn: AsyncConnection) -> tuple[dict[str, Any], bool]:
        return await global_limits.upsert_limit(conn, body)

    row, created = await db.write(work)
    if not created:
        response.status_code = status.HTTP_200_OK
    return GlobalLimit.model_validate(row)


@router.post("/filter")
async def filter_global_concurrency_limits(
        conn: ReadConn, body: f.ConcurrencyLimitsFilterBody | None = None) -> list[GlobalLimit]:
    """Every global limit, sorted by name, paginated."""
    page = body or f.ConcurrencyLimitsFilterBody()
    rows = await global_limits.filter_limits(conn, page.limit, page.offset)
    return [GlobalLimit.model_validate(r) for r in rows]


@router.get("/{name}")
async def read_global_concurrency_limit(name: str, conn: ReadConn) -> GlobalLimit:
    """One global limit, with its slots in use."""
    row = await global_limits.read_limit(conn, name)
    if row is None:
        not_found(_NOT_FOUND)
    return GlobalLimit.model_validate(row)


@router.delete("/{name}", status_code=status.HTTP_200_OK)
async def delete_global_concurrency_limit(name: str, db: DB) -> None:
    """Delete a global limit; leases on it stop counting."""
    async def work(conn: AsyncConnection) -> bool:
        return await global_limits.delete_limit(conn, name)

    if not await db.write(work):
        not_found(_NOT_FOUND)


@router.post("/{name}/reset", status_code=status.HTTP_200_OK)
async def reset_global_concurrency_limit(name: str, db: DB) -> None:
    """Free every slot of a global limit (leases and rate-limit slots)."""
    async def work(conn: AsyncConnection) -> bool:
        return await global_limits.reset_limit(conn, name)

    if not await db.write(work):
        not_found(_NOT_FOUND)

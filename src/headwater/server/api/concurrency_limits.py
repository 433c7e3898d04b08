"""``/concurrency_limits``: tag concurrency limits (Prefect 2's v1 limits)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response, status
from sqlalchemy.ext.asyncio import AsyncConnection

from headwater.server.api.dependencies import DB, ReadConn, not_found
from headwater.server.schemas import actions as a
from headwater.server.schemas import filters as f
from headwater.server.schemas.core import ConcurrencyLimit
from headwater.server.services import leases, limits

__all__ = ["router"]

router = APIRouter(prefix="/concurrency_limits", tags=["Concurrency limits"])

_NOT_FOUND = "Concurrency limit"


@router.post("/", status_code=status.HTTP_201_CREATED)
async def create_concurrency_limit(body: a.ConcurrencyLimitCreate, response: Response,
                                   db: DB) -> ConcurrencyLimit:
    """Create the limit on a tag (201), or change an existing one's limit (200)."""
    async def work(conn: AsyncConnection) -> tuple[dict[str, Any], bool]:
        return await limits.upsert_limit(conn, body)

    row, created = await db.write(work)
    if not created:
        response.status_code = status.HTTP_200_OK
    return ConcurrencyLimit.model_validate(row)


@router.get("/tag/{tag}")
async def read_concurrency_limit(tag: str, conn: ReadConn) -> ConcurrencyLimit:
    """The limit on a tag."""
    row = await limits.read_limit(conn, tag)
    if row is None:
        not_found(_NOT_FOUND)
    return ConcurrencyLimit.model_validate(row)


@router.post("/filter")
async def filter_concurrency_limits(
        conn: ReadConn,
        body: f.ConcurrencyLimitsFilterBody | None = None) -> list[ConcurrencyLimit]:
    """Every limit, sorted by tag, paginated."""
    rows = await limits.filter_limits(conn, body or f.ConcurrencyLimitsFilterBody())
    return [ConcurrencyLimit.model_validate(r) for r in rows]


@router.delete("/tag/{tag}", status_code=status.HTTP_200_OK)
async def delete_concurrency_limit(tag: str, db: DB) -> None:
    """Delete the limit on a tag (leases on it stop counting)."""
    async def work(conn: AsyncConnection) -> bool:
        deleted = await limits.delete_limit(conn, tag)
        if deleted:
            await leases.strip_name(conn, leases.TAG_PREFIX + tag)
        return deleted

    if not await db.write(work):
        not_found(_NOT_FOUND)


@router.post("/tag/{tag}/reset", status_code=status.HTTP_200_OK)
async def reset_concurrency_limit(tag: str, db: DB,
                                  body: a.ConcurrencyLimitReset | None = None) -> None:
    """Free every slot of a tag's limit, leases included (or replace them with
    ``slot_override``)."""
    async def work(conn: AsyncConnection) -> bool:
        done = await limits.reset_limit(conn, tag, body.slot_override if body else None)
        if done:
            await leases.strip_name(conn, leases.TAG_PREFIX + tag)
        return done

    if not await db.write(work):
        not_found(_NOT_FOUND)

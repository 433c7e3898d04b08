"""Slot leases across processes: ``/concurrency_limits/increment``, ``/decrement``,
``/status`` and ``/concurrency_leases/{id}/renew``.

Names are limit names: ``tag:<tag>`` for a tag limit, anything else for a
global limit. Names without a limit are ignored.
"""

from __future__ import annotations

import datetime as dt
import uuid

from fastapi import APIRouter, HTTPException, status
from sqlalchemy.ext.asyncio import AsyncConnection

from headwater.server.api.dependencies import DB, ReadConn, not_found
from headwater.server.schemas import concurrency as c
from headwater.server.services import leases

__all__ = ["router"]

router = APIRouter(tags=["Concurrency leases"])


@router.post("/concurrency_limits/increment")
async def increment_concurrency_slots(body: c.LeaseIncrement, db: DB) -> c.LeaseGrant:
    """Take slots on every limited name at once: ``granted`` false when they are taken.

    Expired leases are reclaimed first. A granted lease lasts
    ``lease_duration`` seconds unless renewed. 409 when the request could
    never be granted (more slots than a limit; a rate limit without decay).
    """
    async def work(conn: AsyncConnection) -> c.LeaseGrant:
        return await leases.increment(conn, body)

    try:
        return await db.write(work)
    except leases.LeaseImpossible as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from None


@router.post("/concurrency_limits/decrement")
async def decrement_concurrency_slots(body: c.LeaseDecrement, db: DB) -> dict[str, bool]:
    """Release a lease; ``released`` false when it was released or had expired."""
    async def work(conn: AsyncConnection) -> bool:
        return await leases.decrement(conn, body.lease_id)

    return {"released": await db.write(work)}


@router.post("/concurrency_leases/{lease_id}/renew")
async def renew_concurrency_lease(lease_id: uuid.UUID, db: DB,
                                  body: c.LeaseRenew | None = None) -> c.LeaseRenewed:
    """Push a live lease's expiry; 404 when it expired (its slots may be taken)."""
    seconds = (body or c.LeaseRenew()).lease_duration

    async def work(conn: AsyncConnection) -> dt.datetime | None:
        return await leases.renew(conn, lease_id, seconds)

    expires = await db.write(work)
    if expires is None:
        not_found("Concurrency lease")
    return c.LeaseRenewed(lease_id=lease_id, expires_at=expires)


@router.post("/concurrency_limits/status")
async def concurrency_limit_status(conn: ReadConn,
                                   body: c.LimitStatusQuery | None = None) -> list[c.LimitStatus]:
    """Tag (``tag:<tag>``) and global limits, sorted by name, with their slots in use.

    ``usage`` false skips counting the slots (cheap: what clients poll to learn
    which names have a limit).
    """
    query = body or c.LimitStatusQuery()
    return await leases.limit_status(conn, query.names, query.usage)

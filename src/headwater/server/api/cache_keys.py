"""``/cache_keys``: the cache key index, which completed task run state holds a cached result."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, HTTPException, status

from headwater.server.api.dependencies import ReadConn, not_found
from headwater.server.schemas.core import CacheKeyEntry
from headwater.server.services import cache_keys

__all__ = ["router"]

router = APIRouter(tags=["Cache keys"])


@router.get("/cache_keys/{cache_key:path}")
async def read_cache_key(cache_key: str, conn: ReadConn) -> CacheKeyEntry:
    """The newest COMPLETED task run state recorded with ``cache_key``, unless it expired.

    A task run caches its result under the key its cache policy (or
    ``cache_key_fn``) computed; the entry names the run and the state whose
    result later runs with that key reuse, until ``cache_expiration``.
    """
    entry = await cache_keys.read_cache_entry(conn, cache_key)
    if entry is None:
        not_found(f"A completed task run state with cache key {cache_key!r}")
    expiration = entry["cache_expiration"]
    if expiration is not None and expiration <= dt.datetime.now(dt.timezone.utc):
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            detail=f"The result cached with key {cache_key!r} (task run "
                   f"{entry['task_run_id']}) expired at {expiration.isoformat()}.")
    return CacheKeyEntry.model_validate(entry)

"""The cache key index: which COMPLETED task run state holds the result for a cache key.

Every path that stores task run states keeps it: ``set_state`` and the
PostgreSQL records path here, the SQLite records path (the server's and the
embedded recorder's) in ``record_statements``, with the same rule: an entry
per cache key, pointing at the newest COMPLETED state recorded with that key
in its details, with that state's ``cache_expiration``; keys longer than
``MAX_INDEXED_CACHE_KEY`` characters are left out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from headwater._private.storage.bookkeeping import utc
from headwater._private.storage.prepared import MAX_INDEXED_CACHE_KEY
from headwater.server.database.tables import task_run_state, task_run_state_cache

__all__ = ["index_cached_states", "read_cache_entry"]

Row = dict[str, Any]


def _entry(state: Row, stamp: dt.datetime) -> Row | None:
    """The index entry of a task run state row, or None when it is not a cached result."""
    details = state.get("state_details") or {}
    key = details.get("cache_key")
    if (not isinstance(key, str) or len(key) > MAX_INDEXED_CACHE_KEY
            or state["type"] != "COMPLETED"):
        return None
    expiration = details.get("cache_expiration")
    if isinstance(expiration, str):
        expiration = dt.datetime.fromisoformat(expiration)
    return {"cache_key": key, "created": stamp, "updated": stamp,
            "task_run_state_id": state["id"], "task_run_id": state["task_run_id"],
            "timestamp": state["timestamp"],
            "cache_expiration": utc(expiration) if expiration is not None else None}


async def index_cached_states(conn: AsyncConnection, states: Iterable[Row],
                              stamp: dt.datetime) -> None:
    """Index the COMPLETED task run states (rows as stored) that carry a cache key."""
    entries = [entry for state in states if (entry := _entry(state, stamp)) is not None]
    if not entries:
        return
    t = task_run_state_cache
    insert = postgresql.insert(t) if conn.dialect.name == "postgresql" else sqlite.insert(t)
    new = insert.excluded
    await conn.execute(insert.on_conflict_do_update(
        index_elements=[t.c.cache_key],
        set_={name: new[name] for name in ("task_run_state_id", "task_run_id", "timestamp",
                                           "cache_expiration", "updated")},
        where=new.timestamp >= t.c.timestamp), entries)


async def read_cache_entry(conn: AsyncConnection, cache_key: str) -> Row | None:
    """The entry of ``cache_key`` with its state (as ``state``), or None."""
    t, s = task_run_state_cache, task_run_state
    query = (sa.select(t, *(c.label(f"state_{c.name}") for c in s.c))
             .join(s, s.c.id == t.c.task_run_state_id)
             .where(t.c.cache_key == cache_key))
    row = (await conn.execute(query)).mappings().first()
    if row is None:
        return None
    entry = {c.name: row[c.name] for c in t.c}
    entry["state"] = {c.name: row[f"state_{c.name}"] for c in s.c}
    return entry

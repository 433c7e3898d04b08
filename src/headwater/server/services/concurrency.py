"""Tag concurrency limits: slots taken by task runs entering RUNNING.

A task run with tags proposes RUNNING; for each of its tags with a limit the
run takes a slot (its id joins ``active_slots``), or the proposal must WAIT
when the slots are full (ABORT when the limit is 0: it would wait forever).
Leaving RUNNING frees the run's slots. Prefect 2's rules, same answers;
slots held by leases on ``tag:<tag>`` (headwater's engine, through
``/concurrency_limits/increment``) count too.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from headwater.server.database import tables as t

__all__ = ["SLOT_WAIT_SECONDS", "SlotRefusal", "acquire_slots", "release_slots"]

#: How long a task run is told to wait before proposing RUNNING again.
SLOT_WAIT_SECONDS = 30.0


@dataclass(frozen=True)
class SlotRefusal:
    """Why a task run may not enter RUNNING yet."""

    status: Literal["WAIT", "ABORT"]
    reason: str
    delay_seconds: float | None = None


async def _limits(conn: AsyncConnection, tags: Sequence[str]) -> list[dict[str, Any]]:
    if not tags:
        return []
    query = sa.select(t.concurrency_limit).where(t.concurrency_limit.c.tag.in_(list(tags)))
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return [dict(r) for r in (await conn.execute(query.order_by(t.concurrency_limit.c.tag)))
            .mappings()]


async def _save(conn: AsyncConnection, limit: dict[str, Any], slots: list[str]) -> None:
    from headwater.server.services.flows_and_runs import now

    await conn.execute(sa.update(t.concurrency_limit)
                       .where(t.concurrency_limit.c.id == limit["id"])
                       .values(active_slots=slots, updated=now()))


async def acquire_slots(conn: AsyncConnection, run_id: uuid.UUID,
                        tags: Sequence[str]) -> SlotRefusal | None:
    """Take a slot on every limited tag, or none of them; return why not, if not."""
    from headwater.server.services.flows_and_runs import now
    from headwater.server.services.leases import TAG_PREFIX, leased_slots

    limits = await _limits(conn, tags)
    leased = await leased_slots(conn, now()) if limits else {}
    key = str(run_id)
    for limit in limits:
        held = key in limit["active_slots"]
        taken = len(limit["active_slots"]) + leased.get(TAG_PREFIX + limit["tag"], 0)
        if limit["concurrency_limit"] == 0:
            return SlotRefusal("ABORT", f"The concurrency limit on tag {limit['tag']!r} is 0 "
                                        "and will deadlock if the task tries to run again.")
        if not held and taken >= limit["concurrency_limit"]:
            return SlotRefusal("WAIT", f"Concurrency limit for the {limit['tag']!r} tag has "
                                       "been reached.", SLOT_WAIT_SECONDS)
    for limit in limits:
        if key not in limit["active_slots"]:
            await _save(conn, limit, [*limit["active_slots"], key])
    return None


async def release_slots(conn: AsyncConnection, run_id: uuid.UUID, tags: Sequence[str]) -> None:
    """Free the run's slots on its tags."""
    key = str(run_id)
    for limit in await _limits(conn, tags):
        if key in limit["active_slots"]:
            await _save(conn, limit, [s for s in limit["active_slots"] if s != key])

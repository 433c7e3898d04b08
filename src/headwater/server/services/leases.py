"""Slot leases: take slots on tag and global limits across processes.

A lease holds ``slots`` slots on each of its ``names`` until it is released
or its ``expires_at`` passes; a live process renews it, so a killed one
loses its slots when its leases expire. A limit's used slots are the sum
over live leases naming it, plus (tag limits) the task runs in its v1
``active_slots``, plus (rate limits) slots not decayed yet.

Atomicity: every increment runs in one write transaction. SQLite has one
writer at a time (``BEGIN IMMEDIATE``); on PostgreSQL the limit rows are
locked (``FOR UPDATE``, in name order, so increments never deadlock each
other) before the leases are counted. Expired leases are deleted lazily, at
the start of every increment: no background service.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from headwater.server.database import tables as t
from headwater.server.schemas.concurrency import LeaseGrant, LeaseIncrement, LimitStatus
from headwater.server.services.runs import now

__all__ = [
    "TAG_PREFIX",
    "LeaseImpossible",
    "decrement",
    "increment",
    "leased_slots",
    "limit_status",
    "reclaim",
    "renew",
    "strip_name",
]

TAG_PREFIX = "tag:"
_EPSILON = 1e-9
_lease = t.concurrency_lease.c
_tag = t.concurrency_limit.c
_glob = t.global_concurrency_limit.c


class LeaseImpossible(ValueError):
    """Raised when a request could never be granted (more slots than the limit)."""


@dataclass
class _Limit:
    name: str
    limit: int
    decay: float = 0.0
    decaying: float = 0.0
    v1_slots: tuple[str, ...] = ()
    row_id: uuid.UUID | None = None


def _split(names: Iterable[str]) -> tuple[list[str], list[str]]:
    tags = sorted({n[len(TAG_PREFIX):] for n in names if n.startswith(TAG_PREFIX)})
    return tags, sorted({n for n in names if not n.startswith(TAG_PREFIX)})


def _decayed(row: dict[str, Any], stamp: dt.datetime) -> float:
    elapsed = max(0.0, (stamp - row["decayed_at"]).total_seconds())
    left: float = float(row["decaying_slots"]) - float(row["slot_decay_per_second"]) * elapsed
    return max(0.0, left)


async def _load(conn: AsyncConnection, names: Collection[str] | None, stamp: dt.datetime,
                lock: bool = False) -> dict[str, _Limit]:
    """The limits among ``names`` (all when None), locked on PostgreSQL when ``lock``."""
    tags, globs = _split(names) if names is not None else ([], [])
    lock = lock and conn.dialect.name == "postgresql"
    tq = sa.select(t.concurrency_limit).order_by(_tag.tag)
    gq = sa.select(t.global_concurrency_limit).order_by(_glob.name)
    if names is not None:
        tq, gq = tq.where(_tag.tag.in_(tags)), gq.where(_glob.name.in_(globs))
    if lock:
        tq, gq = tq.with_for_update(), gq.with_for_update()
    found: dict[str, _Limit] = {}
    if names is None or tags:
        for r in (await conn.execute(tq)).mappings():
            found[TAG_PREFIX + r["tag"]] = _Limit(
                TAG_PREFIX + r["tag"], r["concurrency_limit"], v1_slots=tuple(r["active_slots"]))
    if names is None or globs:
        for r in (await conn.execute(gq)).mappings():
            found[r["name"]] = _Limit(r["name"], r["limit"], float(r["slot_decay_per_second"]),
                                      _decayed(dict(r), stamp), row_id=r["id"])
    return found


async def reclaim(conn: AsyncConnection, stamp: dt.datetime) -> None:
    """Delete the leases that expired by ``stamp``."""
    await conn.execute(sa.delete(t.concurrency_lease).where(_lease.expires_at <= stamp))


async def _live(conn: AsyncConnection, stamp: dt.datetime) -> list[dict[str, Any]]:
    query = sa.select(_lease.id, _lease.names, _lease.slots, _lease.holder).where(
        _lease.expires_at > stamp)
    return [dict(r) for r in (await conn.execute(query)).mappings()]


async def leased_slots(conn: AsyncConnection, stamp: dt.datetime) -> dict[str, int]:
    """Slots held by live leases, by limit name."""
    used: dict[str, int] = {}
    for lease in await _live(conn, stamp):
        for name in lease["names"]:
            used[name] = used.get(name, 0) + lease["slots"]
    return used


def _check(limits: dict[str, _Limit], body: LeaseIncrement) -> None:
    for lim in limits.values():
        if body.mode == "rate_limit" and lim.decay <= 0:
            raise LeaseImpossible(
                f"rate_limit needs a limit with slot decay, and {lim.name!r} has none.")
        if body.slots > lim.limit:
            raise LeaseImpossible(
                f"Cannot take {body.slots} slot(s) of {lim.name!r}: its limit is {lim.limit}, "
                "so the request could never be granted.")


async def increment(conn: AsyncConnection, body: LeaseIncrement) -> LeaseGrant:
    """Take the slots on every limited name at once, or none (``granted`` false).

    Raises:
        LeaseImpossible: The request could never be granted.
    """
    stamp = now()
    await reclaim(conn, stamp)
    limits = await _load(conn, body.names, stamp, lock=True)
    if not limits:
        return LeaseGrant(granted=True)
    _check(limits, body)
    used = await leased_slots(conn, stamp)
    for lim in limits.values():
        taken = used.get(lim.name, 0) + len(lim.v1_slots) + lim.decaying
        if taken + body.slots > lim.limit + _EPSILON:
            return LeaseGrant(granted=False, names=sorted(limits))
    if body.mode == "rate_limit":
        await _add_decaying(conn, limits.values(), body.slots, stamp)
        return LeaseGrant(granted=True, names=sorted(limits))
    lease_id, expires = uuid.uuid4(), stamp + dt.timedelta(seconds=body.lease_duration)
    await conn.execute(sa.insert(t.concurrency_lease).values(
        id=lease_id, created=stamp, names=sorted(limits), slots=body.slots,
        holder=body.holder, expires_at=expires))
    return LeaseGrant(granted=True, lease_id=lease_id, names=sorted(limits), expires_at=expires)


async def _add_decaying(conn: AsyncConnection, limits: Iterable[_Limit], slots: int,
                        stamp: dt.datetime) -> None:
    for lim in limits:
        await conn.execute(sa.update(t.global_concurrency_limit)
                           .where(_glob.id == lim.row_id)
                           .values(decaying_slots=lim.decaying + slots, decayed_at=stamp))


async def decrement(conn: AsyncConnection, lease_id: uuid.UUID) -> bool:
    """Release a lease; False when it was released or reclaimed already."""
    result = await conn.execute(sa.delete(t.concurrency_lease).where(_lease.id == lease_id))
    return bool(result.rowcount)


async def renew(conn: AsyncConnection, lease_id: uuid.UUID,
                seconds: float) -> dt.datetime | None:
    """Push a live lease's expiry ``seconds`` from now; None when it lapsed or is unknown."""
    stamp = now()
    expires = stamp + dt.timedelta(seconds=seconds)
    result = await conn.execute(sa.update(t.concurrency_lease)
                                .where(_lease.id == lease_id, _lease.expires_at > stamp)
                                .values(expires_at=expires))
    return expires if result.rowcount else None


async def strip_name(conn: AsyncConnection, name: str) -> None:
    """Take ``name`` out of every lease (reset or deleted limit); drop leases left empty."""
    stamp = now()
    for lease in await _live(conn, stamp):
        if name not in lease["names"]:
            continue
        rest = [n for n in lease["names"] if n != name]
        query = (sa.update(t.concurrency_lease).where(_lease.id == lease["id"]).values(names=rest)
                 if rest else sa.delete(t.concurrency_lease).where(_lease.id == lease["id"]))
        await conn.execute(query)


async def limit_status(conn: AsyncConnection, names: Collection[str] | None,
                       usage: bool = True) -> list[LimitStatus]:
    """Tag and global limits among ``names`` (all when None), sorted, with slots in use."""
    stamp = now()
    limits = await _load(conn, names, stamp)
    leases = await _live(conn, stamp) if usage and limits else []
    out: list[LimitStatus] = []
    for name in sorted(limits):
        lim = limits[name]
        held = [x for x in leases if name in x["names"]]
        out.append(LimitStatus(
            name=name, limit=lim.limit, slot_decay_per_second=lim.decay,
            active_slots=sum(x["slots"] for x in held) + len(lim.v1_slots),
            decaying_slots=lim.decaying,
            holders=[*lim.v1_slots, *(x["holder"] or str(x["id"]) for x in held)]))
    return out

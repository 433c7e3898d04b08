"""Slot leases: take slots on tag and global limits across processes.

The rules (what counts as used, when a request is granted, expiry,
renewal, lazy reclaim) live in :mod:`.lease_rules`, a sans-I/O core that
embedded processes also run straight on the SQLite file; this module is
the API's driver for it, over the connection of a write transaction:

- on SQLite, each step runs the statement :mod:`.lease_sqlite` gives
  (through ``exec_driver_sql``, as the embedded processes run it through
  ``sqlite3``): the same SQL both ways, so the same rows by construction.
  The transaction is ``BEGIN IMMEDIATE``: one writer at a time.
- on PostgreSQL, each step is a SQLAlchemy Core statement; the limit rows
  are locked (``FOR UPDATE``, in name order, so increments never deadlock
  each other) before the leases are counted.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Collection
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from headwater._private.driving import drive_async
from headwater._private.storage import lease_rules as rules
from headwater._private.storage import lease_sqlite
from headwater._private.storage.lease_rules import TAG_PREFIX, LeaseImpossible
from headwater.server.database import tables as t
from headwater.server.schemas.concurrency import LeaseGrant, LeaseIncrement, LimitStatus
from headwater.server.services.flows_and_runs import now

__all__ = [
    "TAG_PREFIX",
    "LeaseImpossible",
    "decrement",
    "increment",
    "leased_slots",
    "limit_status",
    "renew",
    "strip_name",
]

T = TypeVar("T")
_lease = t.concurrency_lease.c
_tag = t.concurrency_limit.c
_glob = t.global_concurrency_limit.c


async def _run(conn: AsyncConnection, steps: rules.Steps[T]) -> T:
    """Carry out an operation's steps on ``conn``, in the caller's transaction."""
    carry_out = _sqlite_step if conn.dialect.name == "sqlite" else _core_step
    return await drive_async(steps, functools.partial(carry_out, conn))


async def _sqlite_step(conn: AsyncConnection, step: rules.Step) -> Any:
    sql = lease_sqlite.statement(step)
    result = await conn.exec_driver_sql(sql.sql, sql.params)
    return lease_sqlite.decode(step, list(result.all()) if sql.query else result.rowcount)


async def _core_step(conn: AsyncConnection, step: rules.Step) -> Any:
    """``step`` as SQLAlchemy Core (PostgreSQL)."""
    match step:
        case rules.DeleteExpired(stamp):
            await conn.execute(sa.delete(t.concurrency_lease).where(_lease.expires_at <= stamp))
        case rules.ReadLimits(names, lock):
            return await _core_limits(conn, names, lock)
        case rules.ReadLiveLeases(stamp):
            query = sa.select(_lease.id, _lease.names, _lease.slots, _lease.holder).where(
                _lease.expires_at > stamp)
            return [rules.LeaseRow(r.id, tuple(r.names), r.slots, r.holder)
                    for r in await conn.execute(query)]
        case rules.InsertLease(lease_id, created, names, slots, holder, expires_at):
            await conn.execute(sa.insert(t.concurrency_lease).values(
                id=lease_id, created=created, names=list(names), slots=slots, holder=holder,
                expires_at=expires_at))
        case rules.SetDecaying(limit_id, decaying, decayed_at):
            await conn.execute(sa.update(t.global_concurrency_limit).where(_glob.id == limit_id)
                               .values(decaying_slots=decaying, decayed_at=decayed_at))
        case rules.DeleteLease(lease_id):
            result = await conn.execute(
                sa.delete(t.concurrency_lease).where(_lease.id == lease_id))
            return result.rowcount
        case rules.ExtendLease(lease_id, stamp, expires_at):
            result = await conn.execute(
                sa.update(t.concurrency_lease)
                .where(_lease.id == lease_id, _lease.expires_at > stamp)
                .values(expires_at=expires_at))
            return result.rowcount
        case rules.SetLeaseNames(lease_id, names):
            await conn.execute(sa.update(t.concurrency_lease).where(_lease.id == lease_id)
                               .values(names=list(names)))
    return None


async def _core_limits(conn: AsyncConnection, names: tuple[str, ...] | None,
                       lock: bool) -> list[rules.LimitRow]:
    """Tag limits, then global limits, each in name order; locked when ``lock``."""
    tq = sa.select(t.concurrency_limit).order_by(_tag.tag)
    gq = sa.select(t.global_concurrency_limit).order_by(_glob.name)
    if names is not None:
        tags, globs = rules.split_names(names)
        tq, gq = tq.where(_tag.tag.in_(tags)), gq.where(_glob.name.in_(globs))
    if lock:
        tq, gq = tq.with_for_update(), gq.with_for_update()
    rows = [rules.LimitRow(TAG_PREFIX + r.tag, r.concurrency_limit, 0.0, 0.0, None,
                           tuple(r.active_slots), None)
            for r in await conn.execute(tq)]
    rows += [rules.LimitRow(r.name, r.limit, float(r.slot_decay_per_second),
                            float(r.decaying_slots), r.decayed_at, (), r.id)
             for r in await conn.execute(gq)]
    return rows


async def leased_slots(conn: AsyncConnection, stamp: dt.datetime) -> dict[str, int]:
    """Slots held by live leases, by limit name."""
    return await _run(conn, rules.leased_slots(stamp))


async def increment(conn: AsyncConnection, body: LeaseIncrement) -> LeaseGrant:
    """Take the slots on every limited name at once, or none (``granted`` false).

    Raises:
        LeaseImpossible: The request could never be granted.
    """
    request = rules.LeaseRequest(tuple(body.names), body.slots, body.lease_duration,
                                 body.holder, body.mode)
    grant = await _run(conn, rules.increment(request, now()))
    return LeaseGrant(granted=grant.granted, lease_id=grant.lease_id, names=list(grant.names),
                      expires_at=grant.expires_at)


async def decrement(conn: AsyncConnection, lease_id: uuid.UUID) -> bool:
    """Release a lease; False when it was released or reclaimed already."""
    return await _run(conn, rules.decrement(lease_id))


async def renew(conn: AsyncConnection, lease_id: uuid.UUID,
                seconds: float) -> dt.datetime | None:
    """Push a live lease's expiry ``seconds`` from now; None when it lapsed or is unknown."""
    return await _run(conn, rules.renew(lease_id, seconds, now()))


async def strip_name(conn: AsyncConnection, name: str) -> None:
    """Take ``name`` out of every lease (reset or deleted limit); drop leases left empty."""
    await _run(conn, rules.strip_name(name, now()))


async def limit_status(conn: AsyncConnection, names: Collection[str] | None,
                       usage: bool = True) -> list[LimitStatus]:
    """Tag and global limits among ``names`` (all when None), sorted, with slots in use."""
    found = await _run(conn, rules.limit_status(names, now(), usage))
    return [LimitStatus(name=u.name, limit=u.limit, slot_decay_per_second=u.slot_decay_per_second,
                        active_slots=u.active_slots, decaying_slots=u.decaying_slots,
                        holders=list(u.holders))
            for u in found]

"""The rules of slot leases, written once: a sans-I/O core that every driver runs.

A lease holds ``slots`` slots on each of its ``names`` until it is released
or its ``expires_at`` passes; a live process renews it, so a killed one
loses its slots when its leases expire. A limit's used slots are the sum
over live leases naming it, plus (tag limits) the task runs in its v1
``active_slots``, plus (rate limits) slots not decayed yet. Expired leases
are deleted lazily, at the start of every increment: no background service.

Each operation is a generator: it yields :data:`Step` values (read these
limits, insert this lease...) and receives each step's answer, so it knows
nothing about connections, SQL or event loops; its return value is the
operation's result. A driver runs all the steps of one operation in one
write transaction. There are two:

- the API (``services/leases.py``), over its SQLAlchemy write transaction:
  on SQLite it runs the statements of :mod:`.lease_sqlite`, on PostgreSQL
  SQLAlchemy Core statements (``ReadLimits(lock=True)`` becomes ``SELECT
  ... FOR UPDATE`` in name order, so increments never deadlock each other);
- processes in embedded mode (``_private/concurrency/sqlite_slots.py``),
  over a ``sqlite3`` connection, with the same :mod:`.lease_sqlite`
  statements (SQLite's ``BEGIN IMMEDIATE`` is the lock) and no FastAPI,
  SQLAlchemy or httpx import.

So a lease taken either way is stored, counted, renewed and reclaimed
alike, and processes of both kinds share limits on one SQLite file.

Standard library only (a test checks it): embedded processes import it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection, Generator, Iterable
from typing import Any, NamedTuple, TypeVar

__all__ = [
    "TAG_PREFIX",
    "DeleteExpired",
    "DeleteLease",
    "ExtendLease",
    "Grant",
    "InsertLease",
    "LeaseImpossible",
    "LeaseRequest",
    "LeaseRow",
    "LimitRow",
    "LimitUsage",
    "ReadLimits",
    "ReadLiveLeases",
    "SetDecaying",
    "SetLeaseNames",
    "Step",
    "Steps",
    "decrement",
    "increment",
    "leased_slots",
    "limit_status",
    "renew",
    "split_names",
    "strip_name",
]

TAG_PREFIX = "tag:"
"""Tag limits are named ``tag:<tag>``; any other name is a global limit."""
_EPSILON = 1e-9  # float slack for decayed slots

T = TypeVar("T")


class LeaseImpossible(ValueError):
    """Raised when a request could never be granted (more slots than the limit)."""


# ---------------------------------------------------------------------- what drivers answer
class LimitRow(NamedTuple):
    """A stored limit, as read: the answer to `ReadLimits` is a list of them."""

    name: str
    """``tag:<tag>`` for a tag limit, else the global limit's name."""
    limit: int
    slot_decay_per_second: float
    decaying_slots: float
    """Rate-limit slots not decayed as of ``decayed_at`` (as stored)."""
    decayed_at: dt.datetime | None
    active_slots: tuple[str, ...]
    """Tag limits: the task runs holding slots by Prefect 2's rule."""
    id: uuid.UUID | None
    """Global limits: the row's id (`SetDecaying` names it)."""


class LeaseRow(NamedTuple):
    """A live lease, as read: the answer to `ReadLiveLeases` is a list of them."""

    id: uuid.UUID
    names: tuple[str, ...]
    slots: int
    holder: str | None


# ---------------------------------------------------------------------- steps
class DeleteExpired(NamedTuple):
    """Delete the leases whose ``expires_at`` is at or before ``stamp``. Answer: anything."""

    stamp: dt.datetime


class ReadLimits(NamedTuple):
    """Read the limits among ``names`` (all when None). Answer: ``list[LimitRow]``.

    ``lock``: keep the rows locked until the transaction ends (PostgreSQL;
    SQLite's ``BEGIN IMMEDIATE`` already holds the whole file).
    """

    names: tuple[str, ...] | None
    lock: bool


class ReadLiveLeases(NamedTuple):
    """Read the leases with ``expires_at`` after ``stamp``. Answer: ``list[LeaseRow]``."""

    stamp: dt.datetime


class InsertLease(NamedTuple):
    """Store a new lease. Answer: anything."""

    id: uuid.UUID
    created: dt.datetime
    names: tuple[str, ...]
    slots: int
    holder: str | None
    expires_at: dt.datetime


class SetDecaying(NamedTuple):
    """Set a global limit's rate-limit slots as of ``decayed_at``. Answer: anything."""

    limit_id: uuid.UUID
    decaying_slots: float
    decayed_at: dt.datetime


class DeleteLease(NamedTuple):
    """Delete a lease. Answer: how many rows were deleted (0 or 1)."""

    id: uuid.UUID


class ExtendLease(NamedTuple):
    """Set ``expires_at`` of the lease if it is live at ``stamp``. Answer: rows updated."""

    id: uuid.UUID
    stamp: dt.datetime
    expires_at: dt.datetime


class SetLeaseNames(NamedTuple):
    """Set the names a lease holds slots on. Answer: anything."""

    id: uuid.UUID
    names: tuple[str, ...]


Step = (DeleteExpired | ReadLimits | ReadLiveLeases | InsertLease | SetDecaying | DeleteLease
        | ExtendLease | SetLeaseNames)
Steps = Generator[Step, Any, T]
"""An operation: yields steps, receives their answers, returns its result."""


# ---------------------------------------------------------------------- requests and results
class LeaseRequest(NamedTuple):
    """Take ``slots`` slots on every limited name among ``names``, all at once or none."""

    names: tuple[str, ...]
    slots: int = 1
    lease_duration: float = 30.0
    holder: str | None = None
    mode: str = "concurrency"
    """``concurrency`` (a lease to release) or ``rate_limit`` (slots that decay)."""


class Grant(NamedTuple):
    """The answer to an increment.

    ``granted`` false: the slots are taken, try again later. Granted with no
    ``lease_id``: no name has a limit (or, for a rate limit, the slots were
    taken and decay on their own), so there is nothing to release.
    """

    granted: bool
    lease_id: uuid.UUID | None = None
    names: tuple[str, ...] = ()
    expires_at: dt.datetime | None = None


class LimitUsage(NamedTuple):
    """One limit with its slots in use now."""

    name: str
    limit: int
    slot_decay_per_second: float
    active_slots: int
    decaying_slots: float
    holders: tuple[str, ...]


# ---------------------------------------------------------------------- operations
def split_names(names: Iterable[str]) -> tuple[list[str], list[str]]:
    """Sorted tags (prefix removed) and sorted global names among limit ``names``."""
    tags = sorted({n[len(TAG_PREFIX):] for n in names if n.startswith(TAG_PREFIX)})
    return tags, sorted({n for n in names if not n.startswith(TAG_PREFIX)})


def _decayed(row: LimitRow, stamp: dt.datetime) -> float:
    """Rate-limit slots left at ``stamp``: the stored ones minus what decayed since."""
    if row.decayed_at is None:
        return row.decaying_slots
    elapsed = max(0.0, (stamp - row.decayed_at).total_seconds())
    return max(0.0, row.decaying_slots - row.slot_decay_per_second * elapsed)


def _limits(names: Collection[str] | None, stamp: dt.datetime,
            lock: bool) -> Steps[dict[str, LimitRow]]:
    """The limits among ``names`` (all when None) by name, decaying slots as of ``stamp``."""
    asked = None if names is None else tuple(sorted(set(names)))
    if asked == ():
        return {}
    rows: list[LimitRow] = yield ReadLimits(asked, lock)
    return {r.name: r._replace(decaying_slots=_decayed(r, stamp), decayed_at=stamp)
            for r in sorted(rows, key=lambda r: r.name)}


def leased_slots(stamp: dt.datetime) -> Steps[dict[str, int]]:
    """Slots held by live leases at ``stamp``, by limit name."""
    used: dict[str, int] = {}
    leases: list[LeaseRow] = yield ReadLiveLeases(stamp)
    for lease in leases:
        for name in lease.names:
            used[name] = used.get(name, 0) + lease.slots
    return used


def _check(limits: Iterable[LimitRow], request: LeaseRequest) -> None:
    for lim in limits:
        if request.mode == "rate_limit" and lim.slot_decay_per_second <= 0:
            raise LeaseImpossible(
                f"rate_limit needs a limit with slot decay, and {lim.name!r} has none.")
        if request.slots > lim.limit:
            raise LeaseImpossible(
                f"Cannot take {request.slots} slot(s) of {lim.name!r}: its limit is {lim.limit}, "
                "so the request could never be granted.")


def increment(request: LeaseRequest, stamp: dt.datetime) -> Steps[Grant]:
    """Take the slots on every limited name at once, or none (``granted`` false).

    Expired leases are deleted first; the limits are read locked, then the
    live leases counted.

    Raises:
        LeaseImpossible: The request could never be granted.
    """
    yield DeleteExpired(stamp)
    limits = yield from _limits(request.names, stamp, lock=True)
    if not limits:
        return Grant(granted=True)
    _check(limits.values(), request)
    names = tuple(limits)
    used = yield from leased_slots(stamp)
    for lim in limits.values():
        taken = used.get(lim.name, 0) + len(lim.active_slots) + lim.decaying_slots
        if taken + request.slots > lim.limit + _EPSILON:
            return Grant(granted=False, names=names)
    if request.mode == "rate_limit":
        for lim in limits.values():
            assert lim.id is not None  # rate limits are global limits (checked above)
            yield SetDecaying(lim.id, lim.decaying_slots + request.slots, stamp)
        return Grant(granted=True, names=names)
    lease_id, expires = uuid.uuid4(), stamp + dt.timedelta(seconds=request.lease_duration)
    yield InsertLease(lease_id, stamp, names, request.slots, request.holder, expires)
    return Grant(granted=True, lease_id=lease_id, names=names, expires_at=expires)


def decrement(lease_id: uuid.UUID) -> Steps[bool]:
    """Release a lease; False when it was released or reclaimed already."""
    deleted: int = yield DeleteLease(lease_id)
    return bool(deleted)


def renew(lease_id: uuid.UUID, seconds: float,
          stamp: dt.datetime) -> Steps[dt.datetime | None]:
    """Push a live lease's expiry ``seconds`` past ``stamp``; None when it lapsed or is unknown.

    A lease whose time ran out stays lapsed even if nobody reclaimed it
    yet: its slots may already count as free for someone else.
    """
    expires = stamp + dt.timedelta(seconds=seconds)
    updated: int = yield ExtendLease(lease_id, stamp, expires)
    return expires if updated else None


def strip_name(name: str, stamp: dt.datetime) -> Steps[None]:
    """Take ``name`` out of every live lease (reset or deleted limit); drop leases left empty."""
    leases: list[LeaseRow] = yield ReadLiveLeases(stamp)
    for lease in leases:
        if name not in lease.names:
            continue
        rest = tuple(n for n in lease.names if n != name)
        yield SetLeaseNames(lease.id, rest) if rest else DeleteLease(lease.id)


def limit_status(names: Collection[str] | None, stamp: dt.datetime,
                 usage: bool = True) -> Steps[list[LimitUsage]]:
    """Tag and global limits among ``names`` (all when None), by name, with slots in use.

    ``usage`` false reads no lease (``active_slots`` then counts only the
    v1 task-run slots): what clients poll to learn which names have a limit.
    """
    limits = yield from _limits(names, stamp, lock=False)
    leases: list[LeaseRow] = (yield ReadLiveLeases(stamp)) if usage and limits else []
    out = []
    for name, lim in limits.items():
        held = [x for x in leases if name in x.names]
        out.append(LimitUsage(
            name, lim.limit, lim.slot_decay_per_second,
            sum(x.slots for x in held) + len(lim.active_slots), lim.decaying_slots,
            (*lim.active_slots, *(x.holder or str(x.id) for x in held))))
    return out

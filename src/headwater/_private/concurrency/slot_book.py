"""`SlotBook`: the counting behind `SlotManager`, with no locks, threads or waiting.

The book holds every limit (its leased slots, and its decaying rate-limit
slots), every live lease with its expiry, and the FIFO queue of requests;
it decides whether a request fits, grants it, reclaims expired leases and
says how long until time alone may let the queue move. Its caller (the
manager) holds a lock around every call; times are the caller's clock
readings, passed in.

Invariants:

- A limit's ``leased + decaying`` never exceeds its ``limit`` because of a
  grant (lowering a limit can leave it above until leases are released).
- Requests are served first come, first served per limit: a request is only
  granted when no earlier queued request shares a limit with it, so a large
  request is never starved by a stream of small ones, and a new request
  never barges past the queue.
- A request takes all its slots at once or none (several tags never
  deadlock each other: nobody holds some slots while waiting for others).
"""

from __future__ import annotations

import heapq
import uuid

from headwater._private.concurrency.lease_handles import SlotLease, SlotTicket
from headwater._private.concurrency.protocol import TAG_PREFIX, ConcurrencyLimit
from headwater.exceptions import ConcurrencySlotAcquisitionError, ObjectNotFound

__all__ = ["EPSILON", "SlotBook", "SlotLimit"]

EPSILON = 1e-9  # float slack for decayed slots


class SlotLimit:
    """One limit's counters: slots held by leases, and rate-limit slots still decaying."""

    __slots__ = ("decay", "decaying", "holders", "leased", "limit", "name", "stamp")

    def __init__(self, name: str, limit: int, decay: float, now: float) -> None:
        self.name = name
        self.limit = limit
        self.decay = decay
        self.holders: dict[uuid.UUID, int] = {}
        self.leased = 0
        self.decaying = 0.0
        self.stamp = now

    def used(self, now: float) -> float:
        """Return the slots in use at ``now``, after letting decaying slots decay."""
        if self.decaying > 0.0 and self.decay > 0.0:
            self.decaying = max(0.0, self.decaying - self.decay * (now - self.stamp))
        self.stamp = now
        return self.leased + self.decaying


class SlotBook:
    """Limits, live leases, their expiries and the queue of requests (not thread-safe)."""

    def __init__(self) -> None:
        self.limits: dict[str, SlotLimit] = {}
        self.leases: dict[uuid.UUID, SlotLease] = {}
        self.expiries: list[tuple[float, uuid.UUID]] = []
        self.queue: list[SlotTicket] = []

    def limited_tags(self) -> frozenset[str]:
        """Return the tags that have a tag limit."""
        return frozenset(
            n[len(TAG_PREFIX):] for n in self.limits if n.startswith(TAG_PREFIX))

    def require(self, name: str) -> SlotLimit:
        """Return the limit called ``name``.

        Raises:
            ObjectNotFound: No limit has this name.
        """
        lim = self.limits.get(name)
        if lim is None:
            raise ObjectNotFound(f"No concurrency limit named {name!r}.")
        return lim

    def snapshot(self, lim: SlotLimit, now: float) -> ConcurrencyLimit:
        """Return what `SlotManager.read_limit` shows of ``lim``."""
        holders = tuple(
            self.leases[i].holder or str(i) for i in lim.holders if i in self.leases)
        waiting = sum(1 for t in self.queue if lim.name in t.names)
        return ConcurrencyLimit(lim.name, lim.limit, lim.leased, lim.used(now) -
                                lim.leased, lim.decay, holders, waiting)

    def check_possible(self, names: tuple[str, ...], occupy: int, decaying: bool) -> None:
        """Refuse a request that could never be granted.

        Raises:
            ConcurrencySlotAcquisitionError: A rate limit without decay, or
                ``occupy`` over a limit.
        """
        for name in names:
            lim = self.limits[name]
            if decaying and lim.decay <= 0:
                raise ConcurrencySlotAcquisitionError(
                    f"rate_limit needs a limit with slot decay, and {name!r} has none; "
                    "set slot_decay_per_second on it, or use concurrency() instead.")
            if occupy > lim.limit:
                raise ConcurrencySlotAcquisitionError(
                    f"Cannot take {occupy} slot(s) of {name!r}: its limit is {lim.limit}, so "
                    "the request could never be granted.")

    def blocked_by_queue(self, names: tuple[str, ...]) -> bool:
        """Return True when a queued request shares a limit with ``names`` (it goes first)."""
        return any(not set(names).isdisjoint(t.names) for t in self.queue)

    def fits(self, names: tuple[str, ...], occupy: int, now: float) -> bool:
        """Return True when ``occupy`` more slots fit on every limit in ``names``."""
        limits = self.limits
        return all(
            limits[n].used(now) + occupy <= limits[n].limit + EPSILON
            for n in names if n in limits)

    def grant(self, ticket: SlotTicket, now: float) -> None:
        """Take the ticket's slots: a lease, or decaying slots for a rate limit."""
        names = tuple(n for n in ticket.names if n in self.limits)
        ticket.done = True
        if ticket.decaying:
            for n in names:
                self.limits[n].decaying += ticket.occupy
            return
        if not names:
            return  # every limit was deleted while it waited
        lease = SlotLease(ticket.manager, names, ticket.occupy, ticket.duration, now,
                          ticket.holder)
        for n in names:
            lim = self.limits[n]
            lim.holders[lease.id] = ticket.occupy
            lim.leased += ticket.occupy
        self.leases[lease.id] = lease
        if lease.expires_at is not None:
            heapq.heappush(self.expiries, (lease.expires_at, lease.id))
        ticket.lease = lease

    def grant_waiting(self, now: float) -> list[SlotTicket]:
        """Grant queued requests that fit now, first come first served per limit."""
        granted: list[SlotTicket] = []
        blocked: set[str] = set()
        for ticket in list(self.queue):
            names = [n for n in ticket.names if n in self.limits]
            if blocked.intersection(names) or not self.fits(tuple(names), ticket.occupy, now):
                blocked.update(names)
                continue
            self.queue.remove(ticket)
            self.grant(ticket, now)
            granted.append(ticket)
        return granted

    def reclaim(self, now: float) -> None:
        """Drop the leases that expired by ``now``."""
        heap = self.expiries
        while heap and heap[0][0] <= now:
            when, lease_id = heapq.heappop(heap)
            lease = self.leases.get(lease_id)
            if lease is not None and lease.expires_at == when:
                self.drop(lease)

    def drop(self, lease: SlotLease) -> None:
        """Give a lease's slots back and mark it released."""
        lease._released = True
        self.leases.pop(lease.id, None)
        for n in lease.names:
            lim = self.limits.get(n)
            if lim is not None:
                lim.leased -= lim.holders.pop(lease.id, 0)

    def extend(self, lease: SlotLease, seconds: float, now: float) -> None:
        """Make ``lease`` expire ``seconds`` after ``now``."""
        lease.duration = seconds
        lease.expires_at = now + seconds
        heapq.heappush(self.expiries, (lease.expires_at, lease.id))

    def time_until_change(self, ticket: SlotTicket, now: float) -> float | None:
        """Seconds until time alone (expiry, decay) may let the queue move; None: never."""
        waits: list[float] = []
        if self.expiries:
            waits.append(self.expiries[0][0] - now)
        for name in ticket.names:
            lim = self.limits.get(name)
            if lim is None or lim.decay <= 0 or lim.decaying <= 0:
                continue
            excess = lim.used(now) + ticket.occupy - lim.limit
            # Blocked only by the queue (excess <= 0): wake when the decay
            # is over at the latest, never with a zero wait (no busy loop).
            needed = excess if excess > EPSILON else lim.decaying
            waits.append(min(needed, lim.decaying) / lim.decay)
        return max(0.0, min(waits)) if waits else None

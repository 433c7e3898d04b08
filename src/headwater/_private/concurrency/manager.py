"""`SlotManager`: in-process concurrency limits, with leases and a fair queue.

The manager is the thread-safe face of a `SlotBook` (the counting, and the
invariants it keeps: no grant past a limit, first come first served per
limit, all slots of a request or none). Its waits are in `slot_waiting`.

Invariants, all guarded by ``self._lock``:

- Every call into the book holds the lock.
- Nothing runs in the background. Expired leases are reclaimed and decayed
  rate-limit slots recomputed lazily, whenever anyone acquires, releases or
  inspects; waiters whose wait depends on time wake up when that time comes.
- Callbacks (``on_grant``) run after the lock is released.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection

from headwater._private.clock import Clock, get_clock
from headwater._private.concurrency.lease_handles import SlotLease, SlotTicket
from headwater._private.concurrency.protocol import ConcurrencyLimit, Lease
from headwater._private.concurrency.slot_book import SlotBook, SlotLimit
from headwater._private.concurrency.slot_waiting import wait, wait_async

__all__ = ["SlotLease", "SlotManager"]


class SlotManager:
    """Concurrency limits for one process: leases, FIFO waiters, rate limits.

    Args:
        clock: The clock for lease expiry and rate-limit decay; by default the
            clock in force in the calling context (`headwater.testing.use_clock`).
            Timeouts of blocking waits are real time.
    """

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock_override = clock
        self._lock = threading.Lock()
        self._book = SlotBook()
        self.limited_tags: frozenset[str] = frozenset()

    # ------------------------------------------------------------------ limits
    def set_limit(self, name: str, limit: int, slot_decay_per_second: float = 0.0) -> None:
        """Create or change a limit; waiters that now fit are granted at once.

        Raises:
            ValueError: ``limit`` is negative or not an int, or the decay is negative.
        """
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            raise ValueError(f"A concurrency limit must be an int >= 0, got {limit!r}.")
        if slot_decay_per_second < 0:
            raise ValueError(f"slot_decay_per_second must be >= 0, got {slot_decay_per_second!r}.")
        if not name:
            raise ValueError("A concurrency limit needs a name.")
        with self._lock:
            now = self._now()
            existing = self._book.limits.get(name)
            if existing is None:
                self._book.limits[name] = SlotLimit(name, limit, float(slot_decay_per_second),
                                                    now)
            else:
                existing.used(now)
                existing.limit, existing.decay = limit, float(slot_decay_per_second)
            self.limited_tags = self._book.limited_tags()
        self._poke()

    def read_limit(self, name: str) -> ConcurrencyLimit | None:
        """Return a snapshot of a limit (after reclaiming expired leases), or None."""
        with self._lock:
            now = self._now()
            self._book.reclaim(now)
            lim = self._book.limits.get(name)
            return self._book.snapshot(lim, now) if lim is not None else None

    def list_limits(self) -> list[ConcurrencyLimit]:
        """Return snapshots of every limit, sorted by name."""
        with self._lock:
            now = self._now()
            self._book.reclaim(now)
            limits = self._book.limits
            return [self._book.snapshot(limits[n], now) for n in sorted(limits)]

    def reset_limit(self, name: str) -> None:
        """Free every slot of a limit; its leases keep their other limits.

        Raises:
            ObjectNotFound: No limit has this name.
        """
        with self._lock:
            lim = self._book.require(name)
            lim.holders.clear()
            lim.leased, lim.decaying = 0, 0.0
        self._poke()

    def delete_limit(self, name: str) -> None:
        """Remove a limit; its waiters go ahead without it.

        Raises:
            ObjectNotFound: No limit has this name.
        """
        with self._lock:
            self._book.require(name)
            del self._book.limits[name]
            self.limited_tags = self._book.limited_tags()
        self._poke()

    # ------------------------------------------------------------------ acquiring
    def acquire(self, names: Collection[str], occupy: int = 1, *,
                timeout: float | None = None, lease_duration: float | None = None,
                holder: str | None = None) -> SlotLease | None:
        """Block until ``occupy`` slots are free on every limited name, and take them.

        Args:
            names: Limit names; names without a limit are ignored.
            occupy: Slots to take on each.
            timeout: Seconds to wait at most (real time); None waits forever.
            lease_duration: Seconds after which the lease lapses unless renewed;
                None (the default in-process) keeps it until released.
            holder: Who holds it, shown by `read_limit` (a task run id).

        Returns:
            The lease, or None when no name has a limit (nothing to release).

        Raises:
            ConcurrencySlotAcquisitionError: ``occupy`` exceeds a limit.
            AcquireConcurrencySlotTimeoutError: Not granted within ``timeout``.
        """
        ticket = self._open(names, occupy, False, lease_duration, holder)
        if ticket is None or ticket.done:
            return ticket.lease if ticket is not None else None
        wait(self, ticket, timeout)
        return ticket.lease

    async def acquire_async(self, names: Collection[str], occupy: int = 1, *,
                            timeout: float | None = None,
                            lease_duration: float | None = None,
                            holder: str | None = None) -> SlotLease | None:
        """Async twin of `acquire`: waits without blocking the event loop."""
        ticket = self._open(names, occupy, False, lease_duration, holder)
        if ticket is None or ticket.done:
            return ticket.lease if ticket is not None else None
        await wait_async(self, ticket, timeout)
        return ticket.lease

    def take_decaying(self, names: Collection[str], occupy: int = 1, *,
                      timeout: float | None = None) -> None:
        """Block until rate-limit slots are free and take them; they free themselves by decay.

        Raises:
            ConcurrencySlotAcquisitionError: A named limit has no slot decay, or
                ``occupy`` exceeds it.
            AcquireConcurrencySlotTimeoutError: Not granted within ``timeout``.
        """
        ticket = self._open(names, occupy, True, None, None)
        if ticket is not None and not ticket.done:
            wait(self, ticket, timeout)

    async def take_decaying_async(self, names: Collection[str], occupy: int = 1, *,
                                  timeout: float | None = None) -> None:
        """Async twin of `take_decaying`."""
        ticket = self._open(names, occupy, True, None, None)
        if ticket is not None and not ticket.done:
            await wait_async(self, ticket, timeout)

    def request(self, names: Collection[str], on_grant: Callable[[Lease | None], None],
                occupy: int = 1, *, lease_duration: float | None = None,
                holder: str | None = None) -> SlotTicket | None:
        """Queue a request without blocking; ``on_grant(lease)`` is called when granted.

        ``on_grant`` runs in the thread that freed the slots (or in this
        thread, before returning, when the slots are free now). Time-based
        changes (lease expiry) are noticed at the next acquire, release or
        inspection.

        Returns:
            The request (``cancel()`` it to withdraw), or None when no name has
            a limit; ``on_grant`` is then not called.
        """
        ticket = self._open(names, occupy, False, lease_duration, holder, defer=True)
        if ticket is None:
            return None
        ticket.on_grant = lambda: on_grant(ticket.lease)
        self._poke()
        return ticket

    # ------------------------------------------------------------------ internals
    def _now(self) -> float:
        return (self._clock_override or get_clock()).monotonic()

    def _clock(self) -> Clock:
        return self._clock_override or get_clock()

    def _open(self, names: Collection[str], occupy: int, decaying: bool,
              duration: float | None, holder: str | None, defer: bool = False
              ) -> SlotTicket | None:
        if isinstance(names, str):
            names = (names,)
        if occupy < 1:
            raise ValueError(f"occupy must be at least 1, got {occupy!r}.")
        book = self._book
        with self._lock:
            limited = tuple(sorted({n for n in names if n in book.limits}))
            if not limited:
                return None
            book.check_possible(limited, occupy, decaying)
            ticket = SlotTicket(self, limited, occupy, decaying, duration, holder)
            now = self._now()
            book.reclaim(now)
            if not defer and not book.blocked_by_queue(limited) and book.fits(
                    limited, occupy, now):
                book.grant(ticket, now)
            else:
                book.queue.append(ticket)
            return ticket

    def _poke(self) -> None:
        """Reclaim, grant whoever fits now, and tell them (outside the lock)."""
        with self._lock:
            if not self._book.queue:
                self._book.reclaim(self._now())
                return
            now = self._now()
            self._book.reclaim(now)
            granted = self._book.grant_waiting(now)
        for ticket in granted:
            if ticket.on_grant is not None:
                ticket.on_grant()

    def _release(self, lease: SlotLease) -> None:
        with self._lock:
            if lease._released:
                return
            self._book.drop(lease)
        self._poke()

    def _renew(self, lease: SlotLease, duration: float | None) -> bool:
        with self._lock:
            now = self._now()
            self._book.reclaim(now)
            if lease._released:
                return False
            seconds = duration if duration is not None else lease.duration
            if seconds is not None:
                self._book.extend(lease, seconds, now)
            return True

    def _cancel(self, ticket: SlotTicket) -> bool:
        with self._lock:
            if ticket.done:
                return False
            if ticket not in self._book.queue:
                return True  # withdrawn already
            self._book.queue.remove(ticket)
        self._poke()  # requests queued behind it may fit now
        return True

    def _abandon(self, ticket: SlotTicket) -> None:
        """Withdraw a request whose waiter gave up; give back slots granted meanwhile."""
        if not ticket.cancel() and ticket.lease is not None:
            ticket.lease.release()

    def _time_until_change(self, ticket: SlotTicket) -> float | None:
        """Seconds until time alone (expiry, decay) may let the queue move; None: never."""
        with self._lock:
            return self._book.time_until_change(ticket, self._now())

    def _listen(self, ticket: SlotTicket, on_grant: Callable[[], None]) -> bool:
        """Have ``on_grant`` called when ``ticket`` is granted; True if it already is."""
        with self._lock:
            ticket.on_grant = on_grant
            return ticket.done

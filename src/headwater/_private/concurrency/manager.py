"""`SlotManager`: in-process concurrency limits, with leases and a fair queue.

Invariants, all guarded by ``self._lock``:

- A limit's ``leased + decaying`` never exceeds its ``limit`` because of a
  grant (lowering a limit can leave it above until leases are released).
- Requests are served first come, first served per limit: a request is only
  granted when no earlier queued request shares a limit with it, so a large
  request is never starved by a stream of small ones, and a new request
  never barges past the queue.
- A request takes all its slots at once or none (several tags never
  deadlock each other: nobody holds some slots while waiting for others).
- Nothing runs in the background. Expired leases are reclaimed and decayed
  rate-limit slots recomputed lazily, whenever anyone acquires, releases or
  inspects; waiters whose wait depends on time wake up when that time comes.
- Callbacks (``on_grant``) run after the lock is released.
"""

from __future__ import annotations

import asyncio
import heapq
import threading
import time
import uuid
from collections.abc import Callable, Collection, Generator
from typing import Any, NamedTuple

from headwater._private.clock import Clock, get_clock
from headwater._private.concurrency.protocol import TAG_PREFIX, ConcurrencyLimit, Lease
from headwater._private.driving import drive, drive_async
from headwater.exceptions import (
    AcquireConcurrencySlotTimeoutError,
    ConcurrencySlotAcquisitionError,
    ObjectNotFound,
)

_EPSILON = 1e-9  # float slack for decayed slots


class _Limit:
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
        if self.decaying > 0.0 and self.decay > 0.0:
            self.decaying = max(0.0, self.decaying - self.decay * (now - self.stamp))
        self.stamp = now
        return self.leased + self.decaying


class SlotLease:
    """A lease from a `SlotManager` (implements the `Lease` protocol)."""

    __slots__ = ("_manager", "_released", "duration", "expires_at", "holder", "id", "names",
                 "occupy")

    def __init__(self, manager: SlotManager, names: tuple[str, ...], occupy: int,
                 duration: float | None, now: float, holder: str | None) -> None:
        self._manager = manager
        self._released = False
        self.id = uuid.uuid4()
        self.names = names
        self.occupy = occupy
        self.duration = duration
        self.expires_at = now + duration if duration is not None else None
        self.holder = holder

    @property
    def released(self) -> bool:
        """True once released, reset or expired."""
        return self._released

    def renew(self, duration: float | None = None) -> bool:
        """Push the expiry ``duration`` seconds from now; False if the lease lapsed."""
        return self._manager._renew(self, duration)

    def release(self) -> None:
        """Give the slots back (idempotent) and wake the next waiter."""
        self._manager._release(self)

    def __enter__(self) -> SlotLease:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()

    def __repr__(self) -> str:
        return f"SlotLease(names={self.names!r}, occupy={self.occupy}, released={self._released})"


class _Ticket:
    """A queued request; ``on_grant`` is called (outside the lock) once it is granted."""

    __slots__ = ("_manager", "decaying", "done", "duration", "holder", "lease", "names",
                 "occupy", "on_grant")

    def __init__(self, manager: SlotManager, names: tuple[str, ...], occupy: int,
                 decaying: bool, duration: float | None, holder: str | None) -> None:
        self._manager = manager
        self.names = names
        self.occupy = occupy
        self.decaying = decaying
        self.duration = duration
        self.holder = holder
        self.done = False
        self.lease: SlotLease | None = None
        self.on_grant: Callable[[], None] | None = None

    def cancel(self) -> bool:
        """Withdraw the request; False when it was granted already."""
        return self._manager._cancel(self)


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
        self._limits: dict[str, _Limit] = {}
        self._leases: dict[uuid.UUID, SlotLease] = {}
        self._expiries: list[tuple[float, uuid.UUID]] = []
        self._queue: list[_Ticket] = []
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
            existing = self._limits.get(name)
            if existing is None:
                self._limits[name] = _Limit(name, limit, float(slot_decay_per_second), now)
            else:
                existing.used(now)
                existing.limit, existing.decay = limit, float(slot_decay_per_second)
            self._update_tags()
        self._poke()

    def read_limit(self, name: str) -> ConcurrencyLimit | None:
        """Return a snapshot of a limit (after reclaiming expired leases), or None."""
        with self._lock:
            self._reclaim(self._now())
            lim = self._limits.get(name)
            return self._snapshot(lim) if lim is not None else None

    def list_limits(self) -> list[ConcurrencyLimit]:
        """Return snapshots of every limit, sorted by name."""
        with self._lock:
            self._reclaim(self._now())
            return [self._snapshot(self._limits[n]) for n in sorted(self._limits)]

    def reset_limit(self, name: str) -> None:
        """Free every slot of a limit; its leases keep their other limits.

        Raises:
            ObjectNotFound: No limit has this name.
        """
        with self._lock:
            lim = self._require(name)
            lim.holders.clear()
            lim.leased, lim.decaying = 0, 0.0
        self._poke()

    def delete_limit(self, name: str) -> None:
        """Remove a limit; its waiters go ahead without it.

        Raises:
            ObjectNotFound: No limit has this name.
        """
        with self._lock:
            self._require(name)
            del self._limits[name]
            self._update_tags()
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
        self._wait(ticket, timeout)
        return ticket.lease

    async def acquire_async(self, names: Collection[str], occupy: int = 1, *,
                            timeout: float | None = None,
                            lease_duration: float | None = None,
                            holder: str | None = None) -> SlotLease | None:
        """Async twin of `acquire`: waits without blocking the event loop."""
        ticket = self._open(names, occupy, False, lease_duration, holder)
        if ticket is None or ticket.done:
            return ticket.lease if ticket is not None else None
        await self._wait_async(ticket, timeout)
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
            self._wait(ticket, timeout)

    async def take_decaying_async(self, names: Collection[str], occupy: int = 1, *,
                                  timeout: float | None = None) -> None:
        """Async twin of `take_decaying`."""
        ticket = self._open(names, occupy, True, None, None)
        if ticket is not None and not ticket.done:
            await self._wait_async(ticket, timeout)

    def request(self, names: Collection[str], on_grant: Callable[[Lease | None], None],
                occupy: int = 1, *, lease_duration: float | None = None,
                holder: str | None = None) -> _Ticket | None:
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

    def _update_tags(self) -> None:
        self.limited_tags = frozenset(
            n[len(TAG_PREFIX):] for n in self._limits if n.startswith(TAG_PREFIX))

    def _require(self, name: str) -> _Limit:
        lim = self._limits.get(name)
        if lim is None:
            raise ObjectNotFound(f"No concurrency limit named {name!r}.")
        return lim

    def _snapshot(self, lim: _Limit) -> ConcurrencyLimit:
        holders = tuple(
            self._leases[i].holder or str(i) for i in lim.holders if i in self._leases)
        waiting = sum(1 for t in self._queue if lim.name in t.names)
        return ConcurrencyLimit(lim.name, lim.limit, lim.leased, lim.used(self._now()) -
                                lim.leased, lim.decay, holders, waiting)

    def _open(self, names: Collection[str], occupy: int, decaying: bool,
              duration: float | None, holder: str | None, defer: bool = False
              ) -> _Ticket | None:
        if isinstance(names, str):
            names = (names,)
        if occupy < 1:
            raise ValueError(f"occupy must be at least 1, got {occupy!r}.")
        with self._lock:
            limited = tuple(sorted({n for n in names if n in self._limits}))
            if not limited:
                return None
            self._check_possible(limited, occupy, decaying)
            ticket = _Ticket(self, limited, occupy, decaying, duration, holder)
            now = self._now()
            self._reclaim(now)
            if not defer and not self._blocked_by_queue(limited) and self._fits(
                    limited, occupy, now):
                self._grant(ticket, now)
            else:
                self._queue.append(ticket)
            return ticket

    def _check_possible(self, names: tuple[str, ...], occupy: int, decaying: bool) -> None:
        for name in names:
            lim = self._limits[name]
            if decaying and lim.decay <= 0:
                raise ConcurrencySlotAcquisitionError(
                    f"rate_limit needs a limit with slot decay, and {name!r} has none; "
                    "set slot_decay_per_second on it, or use concurrency() instead.")
            if occupy > lim.limit:
                raise ConcurrencySlotAcquisitionError(
                    f"Cannot take {occupy} slot(s) of {name!r}: its limit is {lim.limit}, so "
                    "the request could never be granted.")

    def _blocked_by_queue(self, names: tuple[str, ...]) -> bool:
        return any(not set(names).isdisjoint(t.names) for t in self._queue)

    def _fits(self, names: tuple[str, ...], occupy: int, now: float) -> bool:
        limits = self._limits
        return all(
            limits[n].used(now) + occupy <= limits[n].limit + _EPSILON
            for n in names if n in limits)

    def _grant(self, ticket: _Ticket, now: float) -> None:
        names = tuple(n for n in ticket.names if n in self._limits)
        ticket.done = True
        if ticket.decaying:
            for n in names:
                self._limits[n].decaying += ticket.occupy
            return
        if not names:
            return  # every limit was deleted while it waited
        lease = SlotLease(self, names, ticket.occupy, ticket.duration, now, ticket.holder)
        for n in names:
            lim = self._limits[n]
            lim.holders[lease.id] = ticket.occupy
            lim.leased += ticket.occupy
        self._leases[lease.id] = lease
        if lease.expires_at is not None:
            heapq.heappush(self._expiries, (lease.expires_at, lease.id))
        ticket.lease = lease

    def _grant_waiting(self, now: float) -> list[_Ticket]:
        granted: list[_Ticket] = []
        blocked: set[str] = set()
        for ticket in list(self._queue):
            names = [n for n in ticket.names if n in self._limits]
            if blocked.intersection(names) or not self._fits(tuple(names), ticket.occupy, now):
                blocked.update(names)
                continue
            self._queue.remove(ticket)
            self._grant(ticket, now)
            granted.append(ticket)
        return granted

    def _reclaim(self, now: float) -> None:
        heap = self._expiries
        while heap and heap[0][0] <= now:
            when, lease_id = heapq.heappop(heap)
            lease = self._leases.get(lease_id)
            if lease is not None and lease.expires_at == when:
                self._drop(lease)

    def _drop(self, lease: SlotLease) -> None:
        lease._released = True
        self._leases.pop(lease.id, None)
        for n in lease.names:
            lim = self._limits.get(n)
            if lim is not None:
                lim.leased -= lim.holders.pop(lease.id, 0)

    def _poke(self) -> None:
        """Reclaim, grant whoever fits now, and tell them (outside the lock)."""
        with self._lock:
            if not self._queue:
                self._reclaim(self._now())
                return
            now = self._now()
            self._reclaim(now)
            granted = self._grant_waiting(now)
        for ticket in granted:
            if ticket.on_grant is not None:
                ticket.on_grant()

    def _release(self, lease: SlotLease) -> None:
        with self._lock:
            if lease._released:
                return
            self._drop(lease)
        self._poke()

    def _renew(self, lease: SlotLease, duration: float | None) -> bool:
        with self._lock:
            now = self._now()
            self._reclaim(now)
            if lease._released:
                return False
            seconds = duration if duration is not None else lease.duration
            if seconds is not None:
                lease.duration = seconds
                lease.expires_at = now + seconds
                heapq.heappush(self._expiries, (lease.expires_at, lease.id))
            return True

    def _cancel(self, ticket: _Ticket) -> bool:
        with self._lock:
            if ticket.done:
                return False
            if ticket not in self._queue:
                return True  # withdrawn already
            self._queue.remove(ticket)
        self._poke()  # requests queued behind it may fit now
        return True

    def _abandon(self, ticket: _Ticket) -> None:
        """Withdraw a request whose waiter gave up; give back slots granted meanwhile."""
        if not ticket.cancel() and ticket.lease is not None:
            ticket.lease.release()

    def _time_until_change(self, ticket: _Ticket) -> float | None:
        """Seconds until time alone (expiry, decay) may let the queue move; None: never."""
        with self._lock:
            now = self._now()
            waits: list[float] = []
            if self._expiries:
                waits.append(self._expiries[0][0] - now)
            for name in ticket.names:
                lim = self._limits.get(name)
                if lim is None or lim.decay <= 0 or lim.decaying <= 0:
                    continue
                excess = lim.used(now) + ticket.occupy - lim.limit
                # Blocked only by the queue (excess <= 0): wake when the decay
                # is over at the latest, never with a zero wait (no busy loop).
                needed = excess if excess > _EPSILON else lim.decaying
                waits.append(min(needed, lim.decaying) / lim.decay)
            return max(0.0, min(waits)) if waits else None

    def _timeout_error(self, ticket: _Ticket, timeout: float | None) -> BaseException:
        return AcquireConcurrencySlotTimeoutError(
            f"Could not acquire {ticket.occupy} slot(s) of {', '.join(ticket.names)} "
            f"within {timeout:g} second(s).")

    def _waiting(self, ticket: _Ticket, timeout: float | None,
                 granted: Callable[[], bool]) -> Generator[_WaitStep, bool, None]:
        """What waiting for ``ticket`` takes, a step at a time: the one loop of both waits.

        Yields :class:`_Sleep` (let time pass on a substituted clock) or
        :class:`_Park` (wait for the grant, bounded); a park's answer says
        whether the grant came. Time alone may let the queue move (a lease
        expires, slots decay): the queue is poked then. At ``timeout`` the
        ticket is cancelled and the timeout raised, unless it was granted
        meanwhile.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while not granted():
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                if ticket.cancel():
                    raise self._timeout_error(ticket, timeout)
                return
            change = self._time_until_change(ticket)
            if change is not None and type(self._clock()) is not Clock:
                # A substituted clock (tests' FakeClock) decides how time
                # passes: sleeping on it moves time on at once.
                yield _Sleep(change)
                self._poke()
                continue
            if not (yield _Park(_shortest(remaining, change))) and change is not None:
                self._poke()

    def _listen(self, ticket: _Ticket, on_grant: Callable[[], None]) -> bool:
        """Have ``on_grant`` called when ``ticket`` is granted; True if it already is."""
        with self._lock:
            ticket.on_grant = on_grant
            return ticket.done

    def _wait(self, ticket: _Ticket, timeout: float | None) -> None:
        """Block the calling thread until ``ticket`` is granted (:meth:`_waiting`'s driver)."""
        event = threading.Event()
        if self._listen(ticket, event.set):
            return

        def carry_out(step: _WaitStep) -> bool:
            if isinstance(step, _Sleep):
                self._clock().sleep(step.seconds)
                return True
            return event.wait(step.seconds)

        try:
            drive(self._waiting(ticket, timeout, event.is_set), carry_out)
        except BaseException:
            self._abandon(ticket)
            raise

    async def _wait_async(self, ticket: _Ticket, timeout: float | None) -> None:
        """Wait on the running loop until ``ticket`` is granted (:meth:`_waiting`'s driver)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()

        def wake() -> None:
            try:
                loop.call_soon_threadsafe(_resolve, future)
            except RuntimeError:  # the loop is closed: nobody will take the lease
                if ticket.lease is not None:
                    ticket.lease.release()

        if self._listen(ticket, wake):
            return

        async def carry_out(step: _WaitStep) -> bool:
            if isinstance(step, _Sleep):
                await self._clock().sleep_async(step.seconds)
                return True
            done, _ = await asyncio.wait({future}, timeout=step.seconds)
            return bool(done)

        try:
            await drive_async(self._waiting(ticket, timeout, lambda: ticket.done), carry_out)
        except BaseException:
            self._abandon(ticket)
            raise


class _Sleep(NamedTuple):
    """Let ``seconds`` pass on the manager's substituted clock."""

    seconds: float


class _Park(NamedTuple):
    """Wait at most ``seconds`` (None: no bound) for the grant; answer whether it came."""

    seconds: float | None


_WaitStep = _Sleep | _Park


def _resolve(future: asyncio.Future[Any]) -> None:
    if not future.done():
        future.set_result(None)


def _shortest(*seconds: float | None) -> float | None:
    given = [s for s in seconds if s is not None]
    return max(0.0, min(given)) if given else None

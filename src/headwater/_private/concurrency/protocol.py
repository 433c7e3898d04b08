"""The interfaces a concurrency backend offers: leases, limits and acquisition.

`SlotManager` (in process) and `APIConcurrencyBackend` (leases stored by the
API, shared across processes) implement them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Protocol

TAG_PREFIX = "tag:"
"""Tag limits are limits named ``tag:<tag>`` (as in Prefect 3's global limits)."""


def tag_limit_name(tag: str) -> str:
    """Return the limit name for a tag: ``db`` -> ``tag:db``."""
    return TAG_PREFIX + tag


@dataclass(frozen=True)
class ConcurrencyLimit:
    """A snapshot of one limit.

    Attributes:
        name: The limit's name (``warehouse``, or ``tag:db`` for a tag limit).
        limit: How many slots it has.
        active_slots: Slots held by leases now.
        decaying_slots: Slots taken by ``rate_limit`` that have not decayed yet.
        slot_decay_per_second: How fast rate-limit slots free themselves (0: never).
        holders: Who holds the active leases (task run ids when the engine acquired).
        waiting: Requests queued for it.
    """

    name: str
    limit: int
    active_slots: int = 0
    decaying_slots: float = 0.0
    slot_decay_per_second: float = 0.0
    holders: tuple[str, ...] = ()
    waiting: int = 0

    @property
    def tag(self) -> str | None:
        """The tag of a tag limit, else None."""
        return self.name[len(TAG_PREFIX):] if self.name.startswith(TAG_PREFIX) else None

    @property
    def concurrency_limit(self) -> int:
        """Prefect 2's name for `limit`."""
        return self.limit


class Lease(Protocol):
    """Slots held on one or more limits until released or expired.

    Releasing is idempotent; a lease whose time ran out was reclaimed and its
    release does nothing.
    """

    @property
    def id(self) -> uuid.UUID:
        """The lease's id."""

    @property
    def names(self) -> tuple[str, ...]:
        """The limits it holds slots on."""

    @property
    def occupy(self) -> int:
        """Slots held on each of them."""

    @property
    def expires_at(self) -> float | None:
        """Clock time (``Clock.monotonic``) at which it lapses; None: never."""

    @property
    def released(self) -> bool:
        """True once released, reset or expired."""

    def renew(self, duration: float | None = None) -> bool:
        """Push the expiry ``duration`` seconds (default: the lease's own) from now.

        Returns:
            False when the lease had already lapsed or been released.
        """

    def release(self) -> None:
        """Give the slots back and wake the next waiter."""


class SlotRequest(Protocol):
    """A queued request for slots, granted later through its callback."""

    @property
    def lease(self) -> Lease | None:
        """The granted lease (None before the grant, or when no limit applied)."""

    @property
    def done(self) -> bool:
        """True once granted."""

    def cancel(self) -> bool:
        """Withdraw the request; False when it was granted already (release the lease)."""


class ConcurrencyBackend(Protocol):
    """What the engine and the public functions need from a store of limits."""

    @property
    def limited_tags(self) -> frozenset[str]:
        """Tags that have a limit now (read without locking, for the fast path)."""

    def acquire(self, names: Collection[str], occupy: int = 1, *,
                timeout: float | None = None, lease_duration: float | None = None,
                holder: str | None = None) -> Lease | None:
        """Block until slots on every limited name are free; None when none is limited."""

    async def acquire_async(self, names: Collection[str], occupy: int = 1, *,
                            timeout: float | None = None,
                            lease_duration: float | None = None,
                            holder: str | None = None) -> Lease | None:
        """Async twin of `acquire`."""

    def request(self, names: Collection[str], on_grant: Callable[[Lease | None], None],
                occupy: int = 1, *, lease_duration: float | None = None,
                holder: str | None = None) -> SlotRequest | None:
        """Queue a request; ``on_grant`` is called with the lease when granted."""

    def take_decaying(self, names: Collection[str], occupy: int = 1, *,
                      timeout: float | None = None) -> None:
        """Block until ``occupy`` rate-limit slots are free and take them (they decay)."""

    async def take_decaying_async(self, names: Collection[str], occupy: int = 1, *,
                                  timeout: float | None = None) -> None:
        """Async twin of `take_decaying`."""

    def set_limit(self, name: str, limit: int, slot_decay_per_second: float = 0.0) -> None:
        """Create or change a limit."""

    def read_limit(self, name: str) -> ConcurrencyLimit | None:
        """Return a snapshot of a limit, or None."""

    def reset_limit(self, name: str) -> None:
        """Free every slot of a limit (its leases keep their other names)."""

    def delete_limit(self, name: str) -> None:
        """Remove a limit; its waiters go ahead."""

    def list_limits(self) -> list[ConcurrencyLimit]:
        """Return snapshots of every limit, by name."""

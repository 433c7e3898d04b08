"""What the engine calls to hold tag slots around a task run.

The common case costs one frozenset test: when no tag of the run has a
limit, every function here returns None at once and takes no lock.
"""

from __future__ import annotations

from collections.abc import Callable

from headwater._private.concurrency.protocol import (
    ConcurrencyBackend,
    Lease,
    SlotRequest,
    tag_limit_name,
)
from headwater._private.concurrency.registry import get_slot_manager


def _limited(tags: frozenset[str] | set[str]) -> tuple[ConcurrencyBackend, list[str]] | None:
    if not tags:
        return None
    manager = get_slot_manager()
    limited = manager.limited_tags
    if not limited or limited.isdisjoint(tags):
        return None
    return manager, [tag_limit_name(t) for t in sorted(limited.intersection(tags))]


def acquire_tag_slots(tags: frozenset[str], *, timeout: float | None = None,
                      holder: str | None = None) -> Lease | None:
    """Block until one slot of every limited tag is free, and take them all at once.

    Args:
        tags: The task run's tags.
        timeout: Seconds to wait at most; None waits forever.
        holder: Shown by ``inspect`` (pass the task run id).

    Returns:
        The lease to release when the run ends (any way it ends), or None
        when no tag has a limit.

    Raises:
        ConcurrencySlotAcquisitionError: A tag's limit is 0: the run can never start.
        AcquireConcurrencySlotTimeoutError: ``timeout`` passed first.
    """
    found = _limited(tags)
    if found is None:
        return None
    manager, names = found
    return manager.acquire(names, 1, timeout=timeout, holder=holder)


async def acquire_tag_slots_async(tags: frozenset[str], *, timeout: float | None = None,
                                  holder: str | None = None) -> Lease | None:
    """Async twin of `acquire_tag_slots`: waits without blocking the loop."""
    found = _limited(tags)
    if found is None:
        return None
    manager, names = found
    return await manager.acquire_async(names, 1, timeout=timeout, holder=holder)


def request_tag_slots(tags: frozenset[str], on_grant: Callable[[Lease | None], None], *,
                      holder: str | None = None) -> SlotRequest | None:
    """Queue for tag slots without blocking a thread; ``on_grant(lease)`` is called when granted.

    Meant for dispatch: hand the job to the runner from ``on_grant``, so a
    waiting task holds neither a slot nor a worker thread. ``on_grant`` runs
    in the thread that released the slots, or in this thread before
    returning when the slots are free now.

    Returns:
        The request (``cancel()`` withdraws it; False means it was granted
        already), or None when no tag has a limit (``on_grant`` is not called).

    Raises:
        ConcurrencySlotAcquisitionError: A tag's limit is 0.
    """
    found = _limited(tags)
    if found is None:
        return None
    manager, names = found
    return manager.request(names, on_grant, 1, holder=holder)

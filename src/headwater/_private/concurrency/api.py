"""The public functions: ``concurrency()``, ``rate_limit()`` and managing limits.

Global limits are named freely (``warehouse``); tag limits are the limits
named ``tag:<tag>``, which ``@task(tags=[...])`` runs acquire.
"""

from __future__ import annotations

from collections.abc import Collection
from types import TracebackType

from headwater._private.concurrency.protocol import ConcurrencyLimit, Lease, tag_limit_name
from headwater._private.concurrency.registry import get_slot_manager
from headwater.exceptions import ConcurrencySlotAcquisitionError, InvalidOptionError

#: The longest lease the API grants (a day): a longer one could never be taken.
MAX_LEASE_SECONDS = 86_400.0


def _names(names: str | Collection[str]) -> list[str]:
    return [names] if isinstance(names, str) else list(names)


def _check(occupy: object, timeout_seconds: object, lease_duration: object = None) -> None:
    """Refuse arguments no limit could ever grant, at the call (not after a wait)."""
    if isinstance(occupy, bool) or not isinstance(occupy, int) or occupy < 1:
        raise InvalidOptionError(f"occupy must be a whole number of slots, 1 or more; got "
                                 f"{occupy!r}.")
    if timeout_seconds is not None and (
            isinstance(timeout_seconds, bool) or not isinstance(timeout_seconds, int | float)
            or not timeout_seconds >= 0):
        raise InvalidOptionError(f"timeout_seconds must be None (wait as long as it takes) or "
                                 f"0 or more seconds; got {timeout_seconds!r}.")
    if lease_duration is not None and (
            isinstance(lease_duration, bool) or not isinstance(lease_duration, int | float)
            or not 0 < lease_duration <= MAX_LEASE_SECONDS):
        raise InvalidOptionError(
            f"lease_duration must be None (hold the slots until the block ends) or more than "
            f"0 and at most {MAX_LEASE_SECONDS:g} seconds; got {lease_duration!r}.")


def _check_strict(names: list[str]) -> None:
    manager = get_slot_manager()
    missing = [n for n in names if manager.read_limit(n) is None]
    if missing:
        raise ConcurrencySlotAcquisitionError(
            f"No concurrency limit named {', '.join(map(repr, missing))} (strict=True).")


class concurrency:
    """Hold slots of global concurrency limits for the body of a ``with`` or ``async with``.

    Names without a limit are ignored: they create nothing and cost nothing.
    The slots are released when the block ends, however it ends.

    Args:
        names: One limit name or several; slots of all are taken at once.
        occupy: Slots to take on each.
        timeout_seconds: Wait at most this long, then raise
            `AcquireConcurrencySlotTimeoutError` (a ``TimeoutError``).
        lease_duration: Seconds after which the slots lapse unless the lease
            is renewed; None (the default) holds them until the block ends.
        strict: Raise `ConcurrencySlotAcquisitionError` when a name has no limit.
        create_if_missing: Accepted for Prefect 2 compatibility; headwater never
            creates a limit implicitly.

    Raises:
        InvalidOptionError: ``occupy``, ``timeout_seconds`` or ``lease_duration``
            could never be granted (said at the call, not after a wait).

    Example:
        >>> with concurrency("warehouse", occupy=2):
        ...     load_batch()
        >>> async with concurrency("warehouse"):
        ...     await load_batch_async()
    """

    def __init__(self, names: str | Collection[str], occupy: int = 1,
                 timeout_seconds: float | None = None, *,
                 lease_duration: float | None = None, strict: bool = False,
                 create_if_missing: bool | None = None) -> None:
        del create_if_missing
        _check(occupy, timeout_seconds, lease_duration)
        self._names = _names(names)
        self._occupy = occupy
        self._timeout = timeout_seconds
        self._duration = lease_duration
        self._strict = strict
        self._leases: list[Lease | None] = []

    def __enter__(self) -> Lease | None:
        if self._strict:
            _check_strict(self._names)
        lease = get_slot_manager().acquire(self._names, self._occupy, timeout=self._timeout,
                                           lease_duration=self._duration)
        self._leases.append(lease)
        return lease

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        lease = self._leases.pop()
        if lease is not None:
            lease.release()

    async def __aenter__(self) -> Lease | None:
        if self._strict:
            _check_strict(self._names)
        lease = await get_slot_manager().acquire_async(
            self._names, self._occupy, timeout=self._timeout, lease_duration=self._duration)
        self._leases.append(lease)
        return lease

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        self.__exit__(exc_type, exc, tb)


def rate_limit(names: str | Collection[str], occupy: int = 1,
               timeout_seconds: float | None = None, *, strict: bool = False,
               create_if_missing: bool | None = None) -> None:
    """Block until ``occupy`` slots of each rate limit are free, and take them.

    The slots are never released: they decay at the limit's
    ``slot_decay_per_second``. So a limit of 10 with a decay of 2 allows
    bursts of 10, then 2 calls a second. Names without a limit are ignored.

    Args:
        names: One limit name or several.
        occupy: Slots to take on each.
        timeout_seconds: Wait at most this long, then raise
            `AcquireConcurrencySlotTimeoutError`.
        strict: Raise `ConcurrencySlotAcquisitionError` when a name has no limit.
        create_if_missing: Accepted for Prefect 2 compatibility; ignored.

    Raises:
        ConcurrencySlotAcquisitionError: A named limit has no slot decay.
        InvalidOptionError: ``occupy`` or ``timeout_seconds`` could never be granted.
    """
    del create_if_missing
    _check(occupy, timeout_seconds)
    listed = _names(names)
    if strict:
        _check_strict(listed)
    get_slot_manager().take_decaying(listed, occupy, timeout=timeout_seconds)


async def rate_limit_async(names: str | Collection[str], occupy: int = 1,
                           timeout_seconds: float | None = None, *, strict: bool = False,
                           create_if_missing: bool | None = None) -> None:
    """Async twin of `rate_limit`: waits without blocking the event loop."""
    del create_if_missing
    _check(occupy, timeout_seconds)
    listed = _names(names)
    if strict:
        _check_strict(listed)
    await get_slot_manager().take_decaying_async(listed, occupy, timeout=timeout_seconds)


# ---------------------------------------------------------------------- managing limits
def set_concurrency_limit(tag: str, limit: int) -> None:
    """Allow at most ``limit`` task runs tagged ``tag`` to run at once in this process.

    Raises:
        ValueError: ``limit`` is not an int >= 0.
    """
    get_slot_manager().set_limit(tag_limit_name(tag), limit)


def read_concurrency_limit(tag: str) -> ConcurrencyLimit | None:
    """Return the tag's limit with its active slots, or None when it has none."""
    return get_slot_manager().read_limit(tag_limit_name(tag))


def reset_concurrency_limit(tag: str) -> None:
    """Free every slot of the tag's limit (runs holding them keep running).

    Raises:
        ObjectNotFound: The tag has no limit.
    """
    get_slot_manager().reset_limit(tag_limit_name(tag))


def delete_concurrency_limit(tag: str) -> None:
    """Remove the tag's limit; runs waiting for it start.

    Raises:
        ObjectNotFound: The tag has no limit.
    """
    get_slot_manager().delete_limit(tag_limit_name(tag))


def list_concurrency_limits() -> list[ConcurrencyLimit]:
    """Return every tag limit, by tag."""
    return [lim for lim in get_slot_manager().list_limits() if lim.tag is not None]


def set_global_concurrency_limit(name: str, limit: int,
                                 slot_decay_per_second: float = 0.0) -> None:
    """Create or change the global limit ``name`` used by `concurrency` and `rate_limit`.

    Args:
        name: The limit's name.
        limit: How many slots it has.
        slot_decay_per_second: For rate limits: how many slots free themselves
            each second (``rate_limit`` needs it > 0).
    """
    get_slot_manager().set_limit(name, limit, slot_decay_per_second)


def read_global_concurrency_limit(name: str) -> ConcurrencyLimit | None:
    """Return the global limit ``name`` with its active slots, or None."""
    return get_slot_manager().read_limit(name)


def delete_global_concurrency_limit(name: str) -> None:
    """Remove the global limit ``name``; its waiters go ahead.

    Raises:
        ObjectNotFound: No limit has this name.
    """
    get_slot_manager().delete_limit(name)

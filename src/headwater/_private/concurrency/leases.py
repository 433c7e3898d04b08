"""`APILease` and `APIRequest`: slots held through the API, and a queued request for them."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from headwater._private.concurrency.protocol import Lease

if TYPE_CHECKING:
    import asyncio


class LeaseBackend(Protocol):
    """What an `APILease` calls back into: the `APIConcurrencyBackend` that granted it."""

    def renew_lease(self, lease: APILease, duration: float) -> bool: ...

    def release_lease(self, lease: APILease) -> None: ...


class APILease:
    """Slots held through the API (implements the `Lease` protocol).

    With ``auto_renew`` the backend renews it in the background every third
    of its duration while it is held, so only a dead process loses it.
    """

    __slots__ = ("_backend", "_lock", "_released", "auto_renew", "duration", "expires_at",
                 "holder", "id", "names", "occupy")

    def __init__(self, backend: LeaseBackend | None, lease_id: uuid.UUID,
                 names: tuple[str, ...], occupy: int, duration: float,
                 auto_renew: bool, holder: str | None) -> None:
        self._backend = backend
        self._lock = threading.Lock()
        self._released = backend is None
        self.id = lease_id
        self.names = names
        self.occupy = occupy
        self.duration = duration
        self.auto_renew = auto_renew
        self.holder = holder
        self.expires_at: float | None = time.monotonic() + duration

    @property
    def released(self) -> bool:
        """True once released or lapsed."""
        return self._released

    def mark_lapsed(self) -> bool:
        """Record that the API reclaimed it; False if it was released already."""
        with self._lock:
            was_held, self._released = not self._released, True
        return was_held

    def renew(self, duration: float | None = None) -> bool:
        """Push the expiry ``duration`` seconds (default: its own) from now.

        Returns:
            False when it had lapsed or been released.
        """
        if self._released or self._backend is None:
            return False
        return self._backend.renew_lease(self, duration if duration is not None else
                                         self.duration)

    def release(self) -> None:
        """Give the slots back (idempotent; the API call is made in the background)."""
        with self._lock:
            if self._released:
                return
            self._released = True
        if self._backend is not None:
            self._backend.release_lease(self)

    def __enter__(self) -> APILease:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()

    def __repr__(self) -> str:
        return f"APILease(names={self.names!r}, occupy={self.occupy}, released={self._released})"


def no_lease() -> APILease:
    """A lease holding nothing: what a queued request gets when its limits were deleted."""
    return APILease(None, uuid.uuid4(), (), 0, 0.0, False, None)


class APIRequest:
    """Slots wanted: queued in the backend until the API grants them, or withdrawn.

    ``claim`` and ``withdraw`` race (the grant arrives in the backend's
    thread, a cancel in any thread); the lock lets exactly one of them win.
    """

    __slots__ = ("_lock", "auto_renew", "cancelled", "done", "duration", "future", "holder",
                 "lease", "mode", "names", "occupy", "on_grant")

    def __init__(self, names: tuple[str, ...], occupy: int, mode: str, duration: float,
                 auto_renew: bool, holder: str | None,
                 on_grant: Callable[[Lease | None], None] | None = None) -> None:
        self._lock = threading.Lock()
        self.names = names
        self.occupy = occupy
        self.mode = mode
        self.duration = duration
        self.auto_renew = auto_renew
        self.holder = holder
        self.on_grant = on_grant
        self.future: asyncio.Future[APILease | None] | None = None
        self.done = False
        self.cancelled = False
        self.lease: APILease | None = None

    def claim(self, lease: APILease | None) -> bool:
        """Record the grant; False when the request was withdrawn (release the lease)."""
        with self._lock:
            if self.cancelled:
                return False
            self.done, self.lease = True, lease
            return True

    def withdraw(self) -> bool:
        """Stop wanting the slots; False when they were granted already."""
        with self._lock:
            if self.done:
                return False
            self.cancelled = True
            return True

    def cancel(self) -> bool:
        """Withdraw the request (`SlotRequest`); False when it was granted already."""
        return self.withdraw()

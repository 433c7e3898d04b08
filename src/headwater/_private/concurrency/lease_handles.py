"""What a `SlotManager` hands out: `SlotLease` (slots held) and `SlotTicket` (a queued request)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Protocol

__all__ = ["SlotKeeper", "SlotLease", "SlotTicket"]


class SlotKeeper(Protocol):
    """What leases and tickets call back into: the `SlotManager` that handed them out."""

    def _release(self, lease: SlotLease) -> None: ...

    def _renew(self, lease: SlotLease, duration: float | None) -> bool: ...

    def _cancel(self, ticket: SlotTicket) -> bool: ...


class SlotLease:
    """A lease from a `SlotManager` (implements the `Lease` protocol)."""

    __slots__ = ("_manager", "_released", "duration", "expires_at", "holder", "id", "names",
                 "occupy")

    def __init__(self, manager: SlotKeeper, names: tuple[str, ...], occupy: int,
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


class SlotTicket:
    """A queued request; ``on_grant`` is called (outside the lock) once it is granted."""

    __slots__ = ("decaying", "done", "duration", "holder", "lease", "manager", "names",
                 "occupy", "on_grant")

    def __init__(self, manager: SlotKeeper, names: tuple[str, ...], occupy: int,
                 decaying: bool, duration: float | None, holder: str | None) -> None:
        self.manager = manager
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
        return self.manager._cancel(self)

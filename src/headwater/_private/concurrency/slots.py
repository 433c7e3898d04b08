"""Where an `APIConcurrencyBackend` takes, renews and releases its leases.

The backend queues, retries and renews; a `SlotStore` only carries out one
call at a time, on the backend's loop:

- `APISlots`: the API over HTTP (a server, or the in-process app), the
  ``/concurrency_limits/increment`` family of routes;
- `SQLiteSlots` (``sqlite_slots.py``): the embedded SQLite file itself,
  with ``sqlite3`` and the API's own lease rules, no server stack.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from headwater._private.concurrency.protocol import ConcurrencyLimit
from headwater.exceptions import ConcurrencySlotAcquisitionError

if TYPE_CHECKING:
    from headwater._private.concurrency.leases import APIRequest
    from headwater._private.concurrency.link import ApiLink


class Granted(NamedTuple):
    """The answer to an increment: ``lease_id`` None when there is nothing to release."""

    granted: bool
    lease_id: uuid.UUID | None = None
    names: tuple[str, ...] = ()


class SlotStore(Protocol):
    """One call at a time to wherever leases are stored (on the backend's loop)."""

    async def increment(self, want: APIRequest) -> Granted:
        """Take ``want``'s slots, all at once or none.

        Raises:
            ConcurrencySlotAcquisitionError: The request could never be granted.
        """

    async def decrement(self, lease_id: uuid.UUID) -> None:
        """Release a lease (nothing happens if it was released or reclaimed already)."""

    async def renew(self, lease_id: uuid.UUID, duration: float) -> bool:
        """Push the lease's expiry ``duration`` seconds from now; False when it lapsed."""

    async def status(self, names: list[str] | None) -> list[ConcurrencyLimit]:
        """The limits among ``names`` (all when None) with their slots in use, by name."""

    def close(self) -> None:
        """Let go of what the store holds (after the backend's loop stopped)."""


class APISlots:
    """Leases through the API, with the client of the backend's `ApiLink`."""

    def __init__(self, link: ApiLink) -> None:
        self._link = link

    async def _post(self, path: str, body: Any) -> Any:
        return await self._link.client().request("POST", path, json=body)

    async def increment(self, want: APIRequest) -> Granted:
        """``POST /concurrency_limits/increment``; a 409 means it could never be granted."""
        from headwater.client import APIError

        body = {"names": list(want.names), "slots": want.occupy, "mode": want.mode,
                "lease_duration": want.duration, "holder": want.holder}
        try:
            answer = await self._post("concurrency_limits/increment", body)
        except APIError as exc:
            if exc.status_code == 409:
                raise ConcurrencySlotAcquisitionError(exc.detail) from None
            raise
        lease_id = answer["lease_id"]
        return Granted(answer["granted"], uuid.UUID(lease_id) if lease_id is not None else None,
                       tuple(answer["names"]))

    async def decrement(self, lease_id: uuid.UUID) -> None:
        """``POST /concurrency_limits/decrement``."""
        await self._post("concurrency_limits/decrement", {"lease_id": str(lease_id)})

    async def renew(self, lease_id: uuid.UUID, duration: float) -> bool:
        """``POST /concurrency_leases/{id}/renew``; a 404 means the lease lapsed."""
        from headwater.client import APIError

        try:
            await self._post(f"concurrency_leases/{lease_id}/renew",
                             {"lease_duration": duration})
        except APIError as exc:
            if exc.status_code == 404:
                return False
            raise
        return True

    async def status(self, names: list[str] | None) -> list[ConcurrencyLimit]:
        """``POST /concurrency_limits/status``."""
        rows = await self._post("concurrency_limits/status", {"names": names})
        return [ConcurrencyLimit(r["name"], r["limit"], r["active_slots"], r["decaying_slots"],
                                 r["slot_decay_per_second"], tuple(r["holders"]))
                for r in rows]

    def close(self) -> None:
        """Nothing to do: the link closes its client."""

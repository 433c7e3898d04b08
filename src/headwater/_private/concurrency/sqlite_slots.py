"""`SQLiteSlots`: leases in the embedded SQLite file, written with ``sqlite3`` alone.

Embedded mode on SQLite. Going through the in-process API cost about 6 ms
per slot taken (httpx's ASGI transport, FastAPI, SQLAlchemy, aiosqlite) and
imported that whole stack into every flow with a tag limit; this store runs
the API's own lease rules (the storage core's ``lease_rules.py``) with the
API's own SQLite statements (``lease_sqlite.py``) over a ``sqlite3``
connection: the same tables, rows, expiry, renewal and reclaim, so
processes writing the file directly and processes going through a server
on the same file share their limits.

Each call is one short transaction. Writes start with ``BEGIN IMMEDIATE``
under a 30 s busy timeout, as the server's do: a process that finds the
file locked waits its turn and never sees "database is locked". Waiting
for a slot holds no lock: the backend retries with backoff between
transactions.

The transactions run on the background io thread (`background.run_blocking`),
in order with the recorder's writes: the background loop is shared by every
service and by async tasks of sync flows, so it must never wait for the
file, which takes a fraction of a millisecond, but can take seconds while
another process holds the write lock (a waiter's ``timeout`` can then end
that much late).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from headwater._private import background
from headwater._private.concurrency.protocol import ConcurrencyLimit
from headwater._private.concurrency.slots import Granted
from headwater._private.storage import lease_rules as rules
from headwater._private.storage import lease_sqlite
from headwater.exceptions import ConcurrencySlotAcquisitionError

if TYPE_CHECKING:
    from headwater._private.concurrency.leases import APIRequest

T = TypeVar("T")

BUSY_TIMEOUT_MS = 30_000
"""As the server's: another process's write makes a call wait, not fail."""


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class SQLiteSlots:
    """The `SlotStore` of embedded mode on SQLite (see the module docstring).

    Args:
        path: The database file. It is never created here: slots are only
            asked for names whose limit was read from it, and a status read
            of a missing file (or one without the tables) finds no limits.
        now: The clock of lease times (aware UTC), for tests.
    """

    def __init__(self, path: Path, now: Callable[[], dt.datetime] = _utc_now) -> None:
        self.path = path
        self._now = now
        self._con: sqlite3.Connection | None = None

    def _connection(self) -> sqlite3.Connection:
        if self._con is None:
            con = sqlite3.connect(f"{self.path.absolute().as_uri()}?mode=rw", uri=True,
                                  isolation_level=None, check_same_thread=False)
            try:
                con.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
                if con.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                    con.execute("PRAGMA journal_mode=WAL")  # as the server and the recorder
                con.execute("PRAGMA synchronous=NORMAL")  # safe with WAL: durable at checkpoint
            except BaseException:
                con.close()
                raise
            self._con = con
        return self._con

    async def _write(self, steps: rules.Steps[T]) -> T:
        return await background.run_blocking(self._run, steps, True)

    def _run(self, steps: rules.Steps[T], write: bool) -> T:
        """Drive ``steps`` over the connection (on the io thread)."""
        return lease_sqlite.run(self._connection(), steps, write=write)

    async def increment(self, want: APIRequest) -> Granted:
        """Take ``want``'s slots in one write transaction, all at once or none.

        Raises:
            ConcurrencySlotAcquisitionError: The request could never be granted.
        """
        request = rules.LeaseRequest(want.names, want.occupy, want.duration, want.holder,
                                     want.mode)
        try:
            grant = await self._write(rules.increment(request, self._now()))
        except rules.LeaseImpossible as exc:
            raise ConcurrencySlotAcquisitionError(str(exc)) from None
        return Granted(grant.granted, grant.lease_id, grant.names)

    async def decrement(self, lease_id: uuid.UUID) -> None:
        """Delete the lease (nothing happens if it was released or reclaimed already)."""
        await self._write(rules.decrement(lease_id))

    async def renew(self, lease_id: uuid.UUID, duration: float) -> bool:
        """Push the lease's expiry ``duration`` seconds from now; False when it lapsed."""
        return await self._write(rules.renew(lease_id, duration, self._now())) is not None

    async def status(self, names: list[str] | None) -> list[ConcurrencyLimit]:
        """The limits among ``names`` (all when None) with their slots in use (a read)."""
        if not self.path.exists():
            return []
        try:
            found = await background.run_blocking(
                self._run, rules.limit_status(names, self._now()), False)
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return []
            raise
        return [ConcurrencyLimit(u.name, u.limit, u.active_slots, u.decaying_slots,
                                 u.slot_decay_per_second, u.holders) for u in found]

    def close(self) -> None:
        """Close the connection (after the backend's loop stopped)."""
        con, self._con = self._con, None
        if con is not None:
            con.close()

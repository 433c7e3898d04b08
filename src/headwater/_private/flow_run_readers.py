"""Reading the recorded state of this process's active flow runs, cheaply, for the watcher.

Two readers, one per kind of place runs are recorded in (the process's
target, `headwater._private.target`):

- `SqliteReader`: embedded mode on SQLite reads the ``flow_run`` rows
  straight from the database file with the standard library's ``sqlite3``
  (one indexed query per poll, on the background io thread; the server
  stack is never imported).
- `ApiReader`: a server (``HEADWATER_API_URL``), or embedded mode on another
  database, gets one ``POST /flow_runs/filter`` by ids per poll (per 1,000
  active runs), with a client that lives on the background loop.

Both return only the runs whose recorded state may be a request: CANCELLING
for any active run, RUNNING for a paused one.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from headwater._private import background

if TYPE_CHECKING:
    from headwater._private.target import Target
    from headwater.client import HeadwaterClient

__all__ = ["ApiReader", "Observed", "Reader", "SqliteReader", "reader_for"]

_CHUNK = 1000  # ids per API request


def reader_for(target: Target) -> Reader:
    """A new reader for the place ``target`` names."""
    if target.sqlite is not None:
        return SqliteReader(target.sqlite)
    return ApiReader(target)


@dataclass(frozen=True)
class Observed:
    """The recorded current state of one flow run."""

    run_id: uuid.UUID
    state_type: str
    state_id: str
    message: str | None
    details: dict[str, Any]


class Reader(Protocol):
    """Reads recorded states on the background loop; ``read`` raises on failure (tried again)."""

    async def read(self, active: Sequence[uuid.UUID],
                   paused: Sequence[uuid.UUID]) -> list[Observed]:
        """The active runs recorded CANCELLING or PAUSED, and the paused ones recorded RUNNING."""

    async def close(self) -> None:
        """Release connections."""


# Two indexed lookups (the primary key, then the state row): cost grows with the
# number of active runs, not with the size of the database.
_SQL = """
SELECT r.id, r.state_type, s.id, s.message, s.state_details
FROM flow_run AS r LEFT JOIN flow_run_state AS s ON s.id = r.state_id
WHERE r.id IN (SELECT value FROM json_each(?)) AND r.state_type = ?
"""


class SqliteReader:
    """Reads an embedded SQLite database file; never creates it."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._con: Any = None

    def _connect(self) -> Any:
        import sqlite3

        if self._con is None and self._path.exists():
            self._con = sqlite3.connect(self._path, timeout=5)
        return self._con

    async def read(self, active: Sequence[uuid.UUID],
                   paused: Sequence[uuid.UUID]) -> list[Observed]:
        """See `Reader.read`; a database without tables (not written yet) has nothing."""
        return await background.run_blocking(self._read, active, paused)

    def _read(self, active: Sequence[uuid.UUID],
              paused: Sequence[uuid.UUID]) -> list[Observed]:
        import sqlite3

        con = self._connect()
        if con is None:
            return []
        rows = []
        try:
            for ids, state_type in ((active, "CANCELLING"), (active, "PAUSED"),
                                    (paused, "RUNNING")):
                if ids:
                    rows += con.execute(_SQL, (json.dumps([i.hex for i in ids]),
                                               state_type)).fetchall()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return []
            raise
        return [Observed(uuid.UUID(run), kind, str(state), message,
                         json.loads(details) if details else {})
                for run, kind, state, message, details in rows]

    async def close(self) -> None:
        """Close the connection (on the io thread, which used it)."""
        con, self._con = self._con, None
        if con is not None:
            await background.run_blocking(con.close)


class ApiReader:
    """Reads through the API, with a client built on (and used from) the background loop."""

    def __init__(self, target: Target) -> None:
        self._target = target
        self._client: HeadwaterClient | None = None

    async def read(self, active: Sequence[uuid.UUID],
                   paused: Sequence[uuid.UUID]) -> list[Observed]:
        """See `Reader.read`."""
        if self._client is None:
            # No retries: a poll that fails is simply repeated at the next interval.
            self._client = self._target.client(timeout=10.0, retries=0)
        types = ["CANCELLING", "PAUSED", "RUNNING"] if paused else ["CANCELLING", "PAUSED"]
        waiting = set(paused)
        found: list[Observed] = []
        for start in range(0, len(active), _CHUNK):
            runs = await self._client.read_flow_runs_by_id(active[start:start + _CHUNK],
                                                           state_types=types)
            found += [_observed(run) for run in runs]
        # RUNNING matters for paused runs only (the filter cannot say "RUNNING and paused").
        return [o for o in found
                if o.state_type in ("CANCELLING", "PAUSED") or o.run_id in waiting]

    async def close(self) -> None:
        """Close the client."""
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()


def _observed(run: dict[str, Any]) -> Observed:
    state = run.get("state") or {}
    return Observed(uuid.UUID(str(run["id"])), str(state.get("type") or run.get("state_type")),
                    str(state.get("id") or run.get("state_id")), state.get("message"),
                    dict(state.get("state_details") or {}))

"""Reading the recorded state of this process's active flow runs, cheaply, for the watcher.

Two readers, one per kind of place runs are recorded in:

- `SqliteReader`: embedded mode on SQLite reads the ``flow_run`` rows
  straight from the database file with the standard library's ``sqlite3``
  (one indexed query per poll; the server stack is never imported).
- `ApiReader`: a server (``HEADWATER_API_URL``), or embedded mode on another
  database, gets one ``POST /flow_runs/filter`` by ids per poll (per 1,000
  active runs), on a private event loop in the watcher's thread.

Both return only the runs whose recorded state may be a request: CANCELLING
for any active run, RUNNING for a paused one.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from headwater.client import HeadwaterClient

__all__ = ["ApiReader", "Observed", "Reader", "Source", "SqliteReader", "current_source"]

_CHUNK = 1000  # ids per API request


@dataclass(frozen=True)
class Source:
    """Where runs are recorded: a server URL, an SQLite file, or another database URL."""

    url: str | None = None
    key: str | None = None
    sqlite: Path | None = None
    database_url: str | None = None

    def reader(self) -> Reader:
        """A new reader for this place."""
        if self.sqlite is not None:
            return SqliteReader(self.sqlite)
        return ApiReader(self)


_last: tuple[Any, tuple[Source, float]] | None = None  # (settings, answer): settings are frozen


def current_source() -> tuple[Source, float]:
    """Where the settings record runs, and the watch interval they ask for."""
    global _last
    from headwater._private.settings import get_current_settings

    settings = get_current_settings()
    last = _last
    if last is not None and last[0] is settings:
        return last[1]
    answer = _source(settings), settings.flow_run.watch_interval
    _last = (settings, answer)
    return answer


def _source(settings: Any) -> Source:
    from headwater._private.recording.transports import sqlite_path

    api = settings.api
    if api.url:
        key = api.key.get_secret_value() if api.key is not None else None
        return Source(url=api.url, key=key)
    secret = api.database_connection_url
    database_url = secret.get_secret_value() if secret is not None else None
    path = sqlite_path(settings.home, database_url or None)
    if path is not None:
        return Source(sqlite=path)
    return Source(database_url=database_url)


@dataclass(frozen=True)
class Observed:
    """The recorded current state of one flow run."""

    run_id: uuid.UUID
    state_type: str
    state_id: str
    message: str | None
    details: dict[str, Any]


class Reader(Protocol):
    """Reads recorded states; ``read`` raises on failure (the watcher tries again later)."""

    def read(self, active: Sequence[uuid.UUID],
             paused: Sequence[uuid.UUID]) -> list[Observed]:
        """The active runs recorded CANCELLING, and the paused ones recorded RUNNING."""

    def close(self) -> None:
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

    def read(self, active: Sequence[uuid.UUID],
             paused: Sequence[uuid.UUID]) -> list[Observed]:
        """See `Reader.read`; a database without tables (not written yet) has nothing."""
        import sqlite3

        con = self._connect()
        if con is None:
            return []
        rows = []
        try:
            for ids, state_type in ((active, "CANCELLING"), (paused, "RUNNING")):
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

    def close(self) -> None:
        """Close the connection."""
        if self._con is not None:
            self._con.close()
            self._con = None


class ApiReader:
    """Reads through the API, on a private event loop (the watcher's thread is sync)."""

    def __init__(self, source: Source) -> None:
        self._source = source
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: HeadwaterClient | None = None

    def _make_client(self) -> HeadwaterClient:
        # No retries: a poll that fails is simply repeated at the next interval.
        if self._source.url is not None:
            from headwater.client import HeadwaterClient

            return HeadwaterClient(self._source.url, self._source.key, timeout=10.0, retries=0)
        from headwater.client._factory import embedded_client

        return embedded_client(self._source.database_url, retries=0)

    async def _read(self, active: Sequence[uuid.UUID],
                    paused: Sequence[uuid.UUID]) -> list[Observed]:
        if self._client is None:
            self._client = self._make_client()
        types = ["CANCELLING", "RUNNING"] if paused else ["CANCELLING"]
        waiting = set(paused)
        found: list[Observed] = []
        for start in range(0, len(active), _CHUNK):
            runs = await self._client.read_flow_runs_by_id(active[start:start + _CHUNK],
                                                           state_types=types)
            found += [_observed(run) for run in runs]
        # RUNNING matters for paused runs only (the filter cannot say "RUNNING and paused").
        return [o for o in found if o.state_type == "CANCELLING" or o.run_id in waiting]

    def read(self, active: Sequence[uuid.UUID],
             paused: Sequence[uuid.UUID]) -> list[Observed]:
        """See `Reader.read`."""
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
        return self._loop.run_until_complete(self._read(active, paused))

    def close(self) -> None:
        """Close the client and the private loop."""
        if self._loop is None:
            return
        if self._client is not None:
            self._loop.run_until_complete(self._client.aclose())
            self._client = None
        self._loop.close()
        self._loop = None


def _observed(run: dict[str, Any]) -> Observed:
    state = run.get("state") or {}
    return Observed(uuid.UUID(str(run["id"])), str(state.get("type") or run.get("state_type")),
                    str(state.get("id") or run.get("state_id")), state.get("message"),
                    dict(state.get("state_details") or {}))

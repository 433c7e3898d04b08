"""Transports for the recorder: the local SQLite database, or an API server.

Embedded mode (no ``HEADWATER_API_URL``) writes straight to the SQLite file
with the standard library (`SQLiteTransport`), through the server's own
write path for record batches (the storage core, ``headwater._private.storage``):
the same rows as ``POST /api/records/batch`` stores, without importing
FastAPI, SQLAlchemy and pydantic into every flow run (~600 ms) or paying
for HTTP framing per batch. (Concurrency slots and the flow-run watcher
read and write the file directly too; the CLI and limit management go
through the in-process app.)
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from headwater._private import background
from headwater._private.files import create_private
from headwater.exceptions import RecordsRefusedError

if TYPE_CHECKING:
    from headwater._private.storage.prepared import Prepared
    from headwater._private.target import Target
    from headwater.client import HeadwaterClient

_BUSY_TIMEOUT_MS = 30_000  # as the server's: another process's write makes us wait, not fail
_WAL_BOUND_BYTES = 64 * 1024 * 1024  # the write-ahead log's size between idle checkpoints


class ClientTransport:
    """Sends batches with a ``HeadwaterClient``: runs and states first, then their logs.

    A batch's runs and states go to ``POST /records/batch``, then its log
    lines to ``POST /logs/``, in requests of at most ``max_log_bytes`` bytes
    of JSON each (a longer line goes alone). Logs go second so that a line
    never names a run the server has not stored yet. Every record carries the
    id the recorder gave it, so after a failure at any step the recorder sends
    the whole batch again and the server skips what it already stored.

    Args:
        client: The client to send with (closed by :meth:`close`).
        max_log_bytes: The most bytes of log lines per request. The default
            is a fifth of the server's default body limit (20 MiB), leaving
            room for a server configured with less; one line is at most
            ``HEADWATER_LOGGING_TO_API_MAX_LOG_SIZE`` (1 MB) plus its fields.
    """

    MAX_LOG_BYTES = 4 * 1024 * 1024

    def __init__(self, client: HeadwaterClient, *, max_log_bytes: int = MAX_LOG_BYTES) -> None:
        self.client = client
        self.max_log_bytes = max_log_bytes

    async def send(self, batch: dict[str, Any]) -> None:
        """Store one batch; raises on failure (the recorder keeps it and retries).

        Raises:
            RecordsRefusedError: The batch cannot even be turned into JSON
                (text UTF-8 cannot encode, nesting too deep): like an API
                refusal, sending it again cannot help.
        """
        import pydantic_core

        records = {key: part for key, part in batch.items() if key != "logs"}
        try:
            if any(self._has_rows(part) for part in records.values()):
                await self.client.send_record_batch(records)
            for chunk in self._log_chunks(batch.get("logs") or ()):
                await self.client.create_logs(chunk)
        except (pydantic_core.PydanticSerializationError, UnicodeError, RecursionError) as exc:
            raise RecordsRefusedError(
                f"A batch of run records cannot be sent as JSON: {type(exc).__name__}: {exc}"
            ) from exc

    @staticmethod
    def _has_rows(part: Any) -> bool:
        # Rows come as a list, or as columns: a dict of lists of equal length.
        return any(part.values()) if isinstance(part, dict) else bool(part)

    def _log_chunks(self, lines: Iterable[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
        """Split ``lines`` into request bodies of at most ``max_log_bytes`` (measured)."""
        import pydantic_core

        chunk: list[dict[str, Any]] = []
        size = 2  # the list's brackets
        for line in lines:
            n = len(pydantic_core.to_json(line)) + 1  # the line and its comma
            if chunk and size + n > self.max_log_bytes:
                yield chunk
                chunk, size = [], 2
            chunk.append(line)
            size += n
        if chunk:
            yield chunk

    async def close(self) -> None:
        """Close the client (and an embedded app's database)."""
        await self.client.aclose()


class SQLiteTransport:
    """Writes batches to a local SQLite database file, on the background io thread.

    The connection is opened (and the schema created or migrated) by
    :meth:`open`; each batch is one ``BEGIN IMMEDIATE`` transaction.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._con: sqlite3.Connection | None = None

    async def open(self) -> SQLiteTransport:
        """Connect, set the pragmas the server uses, and bring the schema to the head revision."""
        create_private(self.path)  # runs, parameters and logs are the user's alone
        con = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            con.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
            if con.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                from headwater._private.storage.sqlite_schema import PAGE_SIZE

                con.execute(f"PRAGMA page_size={PAGE_SIZE}")  # a new file's: before WAL mode
                con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=NORMAL")  # safe with WAL: durable at checkpoint
            # Inserts append at the end of each B-tree (time-ordered ids), so
            # a small page cache writes as fast as a large one: 8 MiB, not the
            # server's 64 (which a recorded 10,000-task flow filled: +37 MB RSS).
            con.execute("PRAGMA cache_size=-8192")
            # Checkpoints move the log into the database file: done when the
            # recorder is idle (``idle``), not every 1,000 pages in the middle
            # of a flow (-10-15% write time); 64 MiB bounds the log meanwhile
            # (the setting counts pages, 4 or 16 KiB depending on the file).
            page_size = con.execute("PRAGMA page_size").fetchone()[0]
            con.execute(f"PRAGMA wal_autocheckpoint={_WAL_BOUND_BYTES // page_size}")
            await _ensure_schema(con, self.path)
            from headwater._private.zombie_check import sweep_once

            sweep_once(con, str(self.path.absolute()))
        except BaseException:
            con.close()
            raise
        self._con = con
        return self

    async def send(self, batch: dict[str, Any]) -> None:
        """Store one API-shaped batch whole (a spooled one), or raise with nothing stored."""
        from headwater._private.storage.record_writer import write_batch

        await self._write(write_batch, await self._connection(), batch)

    def stage(self, items: list[tuple[Any, ...]]) -> Prepared:
        """Turn queued record tuples into the values to store (in the recorder's thread)."""
        from headwater._private.recording.prepare import prepare_items

        return prepare_items(items)

    async def send_staged(self, prepared: Prepared) -> None:
        """Store staged records whole, or raise with nothing stored."""
        from headwater._private.storage.record_writer import write_batch

        await self._write(write_batch, await self._connection(), prepared)

    async def send_items(self, items: list[tuple[Any, ...]]) -> None:
        """Store queued record tuples whole, or raise with nothing stored."""
        await self.send_staged(self.stage(items))

    async def idle(self) -> None:
        """Checkpoint the write-ahead log while nothing else is written (PASSIVE: never waits)."""
        if self._con is not None:
            await self._write(self._con.execute, "PRAGMA wal_checkpoint(PASSIVE)")

    async def _write(self, fn: Callable[..., object], *args: Any) -> None:
        """Run ``fn(*args)`` on the io thread; the background loop is free meanwhile.

        SQLite does its work with the GIL released, so the recorder stages
        the next batch while this one is written. One thread, so writes
        keep their order; a daemon, so a write stuck on another process's
        lock cannot hold up the interpreter's exit (the recorder's exit
        flush is bounded).

        Raises:
            RecordsRefusedError: The database refused what the batch holds
                (text it cannot encode, a value too deep to serialise, a
                broken reference): sending it again cannot help.
            sqlite3.OperationalError: The file is locked, full or unreadable:
                try again later.
        """
        try:
            await background.run_blocking(fn, *args)
        except sqlite3.OperationalError:
            raise  # locked, disk full, I/O: an outage, not the batch's fault
        except (sqlite3.DatabaseError, sqlite3.InterfaceError, ValueError, TypeError,
                KeyError, RecursionError, OverflowError) as exc:
            raise RecordsRefusedError(
                f"The local database refused a batch of run records: "
                f"{type(exc).__name__}: {exc}") from exc

    async def _connection(self) -> sqlite3.Connection:
        if self._con is None:
            await self.open()
        assert self._con is not None
        return self._con

    async def close(self) -> None:
        """Close the connection (on the io thread, after the writes queued before)."""
        con, self._con = self._con, None
        if con is not None:
            await background.run_blocking(con.close)


async def _ensure_schema(con: sqlite3.Connection, path: Path) -> None:
    from headwater._private.storage.sqlite_schema import ensure_sqlite_schema

    if ensure_sqlite_schema(con):
        return
    # An older (or foreign) database: the alembic migrations, through the server's stack.
    from headwater.client._factory import upgrade_database

    await upgrade_database(f"sqlite+aiosqlite:///{path}")


def transport_factory(target: Target) -> Any:
    """Return a factory for the transport to ``target``.

    Embedded on SQLite: the file directly; embedded on another database: the
    API app in process; a server: its API over HTTP, with one quick retry
    (the recorder itself keeps failed batches and tries again).
    """
    path = target.sqlite

    async def factory() -> SQLiteTransport | ClientTransport:
        if path is not None:
            return await SQLiteTransport(path).open()
        if target.api_url:
            return ClientTransport(target.client(retries=1, backoff=0.2, timeout=30))
        return ClientTransport(target.client(retries=0))

    return factory

"""The database handle: engine, read connections, and serialized writes.

SQLite allows one writer at a time. Instead of letting concurrent requests
race for the file lock (and surface ``database is locked``), every write
transaction in this process goes through :meth:`Database.write`, which holds
one ``asyncio.Lock`` and opens the transaction with ``BEGIN IMMEDIATE``;
other processes sharing the file wait on ``busy_timeout``, and a write that
still finds the file locked is retried whole. Readers use other connections
and never block the writer (WAL).

PostgreSQL needs none of this: writes run concurrently and row locks
(``SELECT ... FOR UPDATE``) order the ones that touch the same run.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

from headwater._private.files import create_private
from headwater._private.storage.sqlite_schema import PAGE_SIZE
from headwater._private.storage.sqlite_schema import (
    default_database_url as storage_default_database_url,
)

__all__ = ["Database", "DatabaseBusyError", "default_database_url", "normalize_url"]

logger = logging.getLogger("headwater.server.database")

T = TypeVar("T")

_BUSY_TIMEOUT_MS = 30_000
_WRITE_ATTEMPTS = 5


class DatabaseBusyError(RuntimeError):
    """Raised when a SQLite write still finds the file locked after every retry."""


def default_database_url(home: Path) -> str:
    """Return the SQLite URL of ``home/headwater.db`` (as the storage core names it)."""
    return storage_default_database_url(home)


def normalize_url(url: str) -> str:
    """Return ``url`` with the async driver this server uses (aiosqlite, asyncpg).

    ``sqlite:///x.db``, ``postgres://...`` and ``postgresql+psycopg2://...``
    are all accepted.
    """
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend in ("postgres", "postgresql"):
        return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite").render_as_string(hide_password=False)
    raise ValueError(
        f"unsupported database {backend!r}: headwater's server runs on SQLite or PostgreSQL"
    )


def _is_locked(exc: OperationalError) -> bool:
    text = str(exc.orig).lower()
    return "database is locked" in text or "database is busy" in text


class Database:
    """One database: its engine, migrations, and the write discipline.

    Args:
        url: An SQLAlchemy URL (SQLite or PostgreSQL; sync driver names are
            swapped for the async ones).
        on_start: Awaited with the database once it is started (the app's
            zombie check); its errors are logged, never raised.
    """

    def __init__(self, url: str,
                 on_start: Callable[[Database], Awaitable[None]] | None = None) -> None:
        self.url = normalize_url(url)
        self._on_start = on_start
        self.dialect = make_url(self.url).get_backend_name()
        self._engine: AsyncEngine | None = None
        self._write_engine: AsyncEngine | None = None
        self._write_lock = asyncio.Lock()
        self._start_lock = asyncio.Lock()

    @property
    def is_sqlite(self) -> bool:
        """True for SQLite, False for PostgreSQL."""
        return self.dialect == "sqlite"

    def display_url(self) -> str:
        """The URL without its password, for banners and logs."""
        return make_url(self.url).render_as_string(hide_password=True)

    @property
    def engine(self) -> AsyncEngine:
        """The engine; :meth:`start` must have run."""
        if self._engine is None:
            raise RuntimeError("the database is not started")
        return self._engine

    async def start(self) -> None:
        """Create the engine and apply migrations; later calls return at once.

        A SQLite file that is fresh (or already at the head revision) is
        prepared with :func:`~headwater._private.storage.sqlite_schema.ensure_sqlite_schema`
        instead, without importing alembic; anything else is migrated by alembic.
        """
        if self._engine is not None:
            return
        async with self._start_lock:
            if self._engine is not None:
                return
            engine = self._create_engine()
            write_engine = engine.execution_options(headwater_write=True)
            try:
                path = self._sqlite_file()
                # A fresh (or up-to-date) SQLite file needs no alembic; see sqlite_schema.
                if path is None or not await asyncio.to_thread(_ensure_sqlite_file, path):
                    from headwater.server.database.migrate import upgrade

                    async with write_engine.begin() as conn:
                        await upgrade(conn)
            except BaseException:
                await engine.dispose()
                raise
            self._write_engine = write_engine
            self._engine = engine
            if self._on_start is not None:
                try:
                    await self._on_start(self)
                except Exception as exc:
                    logger.warning("Starting the database: %r", exc, exc_info=exc)

    async def aclose(self) -> None:
        """Close every connection; :meth:`start` may be called again afterwards."""
        engine, self._engine, self._write_engine = self._engine, None, None
        if engine is not None:
            await engine.dispose()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reading (its transaction is rolled back at the end)."""
        await self.start()
        async with self.engine.connect() as conn:
            yield conn

    async def write(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """Run ``work(conn)`` in one write transaction and commit it.

        On SQLite the transaction holds this process's write lock, and is
        retried whole if another process kept the file locked past the busy
        timeout; ``work`` must therefore have no effect outside the database.

        Raises:
            DatabaseBusyError: SQLite stayed locked through every attempt.
        """
        await self.start()
        assert self._write_engine is not None
        if not self.is_sqlite:
            async with self._write_engine.begin() as conn:
                return await work(conn)
        for attempt in range(1, _WRITE_ATTEMPTS + 1):
            try:
                async with self._write_lock, self._write_engine.begin() as conn:
                    return await work(conn)
            except OperationalError as exc:  # noqa: PERF203
                if not _is_locked(exc):
                    raise
                logger.warning("SQLite database locked by another process (attempt %d)", attempt)
                await asyncio.sleep(0.05 * attempt)
        raise DatabaseBusyError(
            "the database stayed locked by another process; try again later"
        )

    def _sqlite_file(self) -> str | None:
        """The file of a SQLite database given by a plain path, as the driver opens it.

        None for PostgreSQL, an in-memory database, or a URL with query
        options (``?uri=true`` and the like), which take the alembic path.
        """
        url = make_url(self.url)
        if not self.is_sqlite or url.query or url.database in (None, "", ":memory:"):
            return None
        return os.path.abspath(url.database)  # what SQLAlchemy's pysqlite dialect opens

    def _create_engine(self) -> AsyncEngine:
        url = make_url(self.url)
        kwargs: dict[str, Any] = {}
        if self.is_sqlite:
            memory = url.database in (None, "", ":memory:")
            if memory:
                # One shared connection, or every connection is a new empty database.
                kwargs.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
            elif url.database:
                Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            engine = create_async_engine(url, **kwargs)
            _configure_sqlite(engine.sync_engine, wal=not memory)
            return engine
        return create_async_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def _ensure_sqlite_file(path: str) -> bool:
    """Create a fresh SQLite file's schema from the packaged DDL (True: at head).

    A plain :mod:`sqlite3` connection before the engine opens the file: no
    alembic import, one ``BEGIN IMMEDIATE`` transaction (processes starting
    together wait on the busy timeout, then find the schema). False: the
    database is older or foreign, and the alembic migrations must run.
    """
    from headwater._private.storage.sqlite_schema import ensure_sqlite_schema

    create_private(Path(path))  # runs, parameters and logs are the user's alone
    con = sqlite3.connect(path, timeout=_BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    try:
        con.execute(f"PRAGMA page_size={PAGE_SIZE}")  # a new file's: before WAL mode
        con.execute("PRAGMA journal_mode=WAL")  # as the engine's connections set it
        return ensure_sqlite_schema(con)
    finally:
        con.close()


def _configure_sqlite(engine: sa.Engine, *, wal: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event (below) emit BEGIN itself, so write
        # transactions can take the lock up front with BEGIN IMMEDIATE.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        if wal:
            cursor.execute(f"PRAGMA page_size={PAGE_SIZE}")  # a new file's: before WAL mode
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL: durable at checkpoint
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA temp_store=MEMORY")
        cursor.execute("PRAGMA cache_size=-65536")  # 64 MiB page cache per connection
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        write = conn.get_execution_options().get("headwater_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

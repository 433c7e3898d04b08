"""Apply the packaged alembic migrations, from inside the server process.

Starting on a database that is already at the latest revision is the common
case, and it does not import alembic at all: one cheap query reads the
stored revision and compares it with :data:`HEAD_REVISION` (defined in
:mod:`headwater._private.storage.revision`, kept in sync with
``migrations/versions``; a test checks it). Only an older or unknown
database goes through ``alembic upgrade head``, and a fresh one too unless
it is a SQLite file, which :class:`~headwater.server.database.engine.Database`
creates from the packaged DDL first
(:mod:`headwater._private.storage.sqlite_schema`).
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

# Re-exported: defined, with what a new migration needs, in the stdlib-only module.
from headwater._private.storage.revision import HEAD_REVISION

__all__ = ["HEAD_REVISION", "MIGRATIONS", "alembic_config", "current_revisions", "regenerate_sql",
           "upgrade"]

MIGRATIONS = Path(__file__).parent / "migrations"

# Any constant: servers starting together on one PostgreSQL database migrate one at a time.
_PG_MIGRATION_LOCK = 0x68656164


def alembic_config(connection: sa.Connection | None = None) -> object:
    """An alembic ``Config`` for the packaged migrations, bound to ``connection``."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def current_revisions(connection: sa.Connection) -> tuple[str, ...]:
    """The revisions stored in ``alembic_version`` (empty: no table, or no row).

    Only catalog lookups and one ``SELECT``: nothing that fails, so the
    caller's transaction stays usable (an error would abort it on PostgreSQL).
    """
    if connection.dialect.name == "postgresql":
        exists = connection.execute(
            sa.text("SELECT to_regclass('alembic_version') IS NOT NULL")).scalar()
    else:
        exists = connection.execute(sa.text(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
        )).scalar()
    if not exists:
        return ()
    rows = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalars()
    return tuple(str(row) for row in rows)


def _alembic_upgrade(connection: sa.Connection) -> None:
    from alembic import command
    from alembic.config import Config

    config = alembic_config(connection)
    assert isinstance(config, Config)
    command.upgrade(config, "head")


def _upgrade(connection: sa.Connection) -> None:
    if current_revisions(connection) == (HEAD_REVISION,):
        return  # up to date: no alembic (a revision row is only committed with its schema)
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK})"))
    _alembic_upgrade(connection)


async def upgrade(conn: AsyncConnection) -> None:
    """Bring the schema to the latest revision, in the caller's transaction."""
    await conn.run_sync(_upgrade)


def regenerate_sql() -> str:
    """The text of the storage core's ``sqlite_schema.sql``, from a database migrated by alembic.

    Runs ``alembic upgrade head`` on a new database in a temporary folder and
    writes out its ``sqlite_master`` statements in creation order, SQLite's
    internal objects left out (they follow from the rest).
    ``scripts/dump_sqlite_schema.py`` writes it to
    :data:`~headwater._private.storage.sqlite_schema.SCHEMA_FILE`. Here, not
    in the storage core, because it needs SQLAlchemy and alembic.

    Raises:
        RuntimeError: The migrations end at another revision than ``HEAD_REVISION``.
    """
    import sqlite3
    import tempfile

    from headwater._private.storage.sqlite_schema import render

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "schema.db"
        engine = sa.create_engine(f"sqlite:///{path}")
        try:
            with engine.begin() as connection:
                _alembic_upgrade(connection)
                revisions = list(current_revisions(connection))
        finally:
            engine.dispose()
        con = sqlite3.connect(path)
        try:
            rows = con.execute(
                "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL "
                "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY rowid"
            ).fetchall()
        finally:
            con.close()
    if revisions != [HEAD_REVISION]:
        raise RuntimeError(
            f"the migrations end at {revisions}, not HEAD_REVISION {HEAD_REVISION!r}: "
            "bump HEAD_REVISION in headwater/_private/storage/revision.py first"
        )
    return render(HEAD_REVISION, [sql for (sql,) in rows])

"""Apply the packaged alembic migrations, from inside the server process."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ["MIGRATIONS", "alembic_config", "upgrade"]

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


def _upgrade(connection: sa.Connection) -> None:
    from alembic import command
    from alembic.config import Config

    if connection.dialect.name == "postgresql":
        connection.execute(sa.text(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK})"))
    config = alembic_config(connection)
    assert isinstance(config, Config)
    command.upgrade(config, "head")


async def upgrade(conn: AsyncConnection) -> None:
    """Bring the schema to the latest revision, in the caller's transaction."""
    await conn.run_sync(_upgrade)

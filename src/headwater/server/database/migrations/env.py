"""alembic environment: always run by the server with a live connection."""

from __future__ import annotations

from alembic import context

from headwater.server.database.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "headwater's migrations run when the server starts (headwater.server.database.migrate)"
    )

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    transactional_ddl=True,
)
with context.begin_transaction():
    context.run_migrations()

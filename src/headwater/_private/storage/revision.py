"""The schema revision this package creates, as a constant (standard library only).

Importing it costs nothing: :mod:`headwater.server.database.migrate` compares
the stored revision with it before deciding to import alembic, and
:mod:`headwater._private.storage.sqlite_schema` stores it in a database it
creates from the packaged DDL.
"""

from __future__ import annotations

__all__ = ["HEAD_REVISION"]

#: The newest revision in ``migrations/versions``. A new migration needs: bump
#: HEAD_REVISION, regenerate sqlite_schema.sql (``python scripts/dump_sqlite_schema.py``).
#: ``tests/server/test_migrations_head.py`` and ``tests/server/test_sqlite_schema.py``
#: fail until both are done.
HEAD_REVISION = "0009_liveness_switches"

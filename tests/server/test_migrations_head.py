"""The revision constant the server compares against without alembic is the real head."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

pytest.importorskip("alembic")
pytest.importorskip("sqlalchemy")


def test_head_constant_matches_the_migrations_folder() -> None:
    from alembic.script import ScriptDirectory

    from headwater.server.database.migrate import HEAD_REVISION, MIGRATIONS

    script = ScriptDirectory(str(MIGRATIONS))
    assert script.get_heads() == [HEAD_REVISION], (
        "a migration was added: set migrate.HEAD_REVISION to its revision"
    )


def test_head_constant_matches_the_newest_version_file() -> None:
    # The same check without alembic's loader: each file's down_revision chain.
    import re

    from headwater.server.database.migrate import HEAD_REVISION, MIGRATIONS

    revisions: dict[str, str | None] = {}
    for path in sorted((MIGRATIONS / "versions").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        rev = re.search(r'^revision\s*=\s*"([^"]+)"', text, re.M)
        down = re.search(r'^down_revision\s*=\s*(?:"([^"]+)"|None)', text, re.M)
        assert rev is not None and down is not None, path
        revisions[rev.group(1)] = down.group(1)
    parents = {down for down in revisions.values() if down is not None}
    assert [rev for rev in revisions if rev not in parents] == [HEAD_REVISION]


@pytest.mark.slow
def test_up_to_date_database_starts_without_alembic(tmp_path: Path) -> None:
    import subprocess

    url = f"sqlite:///{tmp_path / 'headwater.db'}"
    code = (
        "import asyncio, sys\n"
        "from headwater.server.database.engine import Database\n"
        "async def main():\n"
        f"    db = Database({url!r})\n"
        "    await db.start()\n"
        "    await db.aclose()\n"
        "asyncio.run(main())\n"
        "print('alembic' in sys.modules)\n"
    )
    first = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True)
    # A fresh SQLite file is created from the packaged DDL (sqlite_schema), not by alembic.
    assert first.stdout.strip() == "False"
    second = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert second.stdout.strip() == "False"  # then it is at head: alembic is not imported


def test_older_database_is_upgraded(tmp_path: Path) -> None:
    import sqlalchemy as sa

    from headwater.server.database.engine import Database
    from headwater.server.database.migrate import HEAD_REVISION, alembic_config

    url = f"sqlite:///{tmp_path / 'headwater.db'}"

    async def main() -> tuple[list[str], set[str]]:
        from alembic import command

        db = Database(url)
        engine = db._create_engine()
        try:
            async with engine.begin() as conn:
                await conn.run_sync(
                    lambda sync: command.upgrade(alembic_config(sync), "0001")  # type: ignore[arg-type]
                )
                tables = set(await conn.run_sync(lambda sync: sa.inspect(sync).get_table_names()))
                assert "concurrency_lease" not in tables
        finally:
            await engine.dispose()
        await db.start()
        try:
            async with db.read() as conn:
                versions = list((await conn.execute(
                    sa.text("SELECT version_num FROM alembic_version"))).scalars())
                tables = set(await conn.run_sync(lambda sync: sa.inspect(sync).get_table_names()))
        finally:
            await db.aclose()
        return versions, tables

    versions, tables = asyncio.run(main())
    assert versions == [HEAD_REVISION]
    assert {"concurrency_lease", "global_concurrency_limit", "flow_run"} <= tables


def test_restart_on_each_database_keeps_the_head(database_url: str) -> None:
    # SQLite and PostgreSQL: the first start migrates (or finds the head), the
    # second takes the fast path; both leave exactly the head revision.
    import sqlalchemy as sa

    from headwater.server.database.engine import Database
    from headwater.server.database.migrate import HEAD_REVISION, current_revisions

    async def main() -> list[tuple[str, ...]]:
        seen = []
        for _ in range(2):
            db = Database(database_url)
            await db.start()
            try:
                async with db.read() as conn:
                    seen.append(await conn.run_sync(current_revisions))
                    await conn.execute(sa.text("SELECT count(*) FROM flow_run"))
            finally:
                await db.aclose()
        return seen

    assert asyncio.run(main()) == [(HEAD_REVISION,), (HEAD_REVISION,)]


def test_the_migrations_create_exactly_the_tables_the_code_declares(tmp_path: Path) -> None:
    # tables.py (what queries are written against) and migrations/versions
    # (what databases get) are kept by hand: alembic's autogenerate compares
    # them, column types, indexes and constraints included.
    import sqlalchemy as sa
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from headwater.server.database import tables
    from headwater.server.database.migrate import alembic_config

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'migrated.db'}")
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), "head")  # type: ignore[arg-type]
        with engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), tables.metadata)
    finally:
        engine.dispose()
    assert diff == [], diff

"""A fresh SQLite database created from the packaged DDL, without alembic.

The first test is the one that fails when a migration is added and
``sqlite_schema.sql`` is not regenerated (``python scripts/dump_sqlite_schema.py``).
"""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("alembic")
pytest.importorskip("sqlalchemy")

from headwater._private.storage import sqlite_schema
from headwater._private.storage.revision import HEAD_REVISION
from headwater._private.storage.sqlite_schema import PAGE_SIZE, ensure_sqlite_schema
from headwater.server.database.migrate import regenerate_sql

from .server_helpers import make_flow_run

_REGENERATE = "a migration was added: run python scripts/dump_sqlite_schema.py"

Snapshot = tuple[list[tuple[Any, ...]], list[str] | None, int, bytes]


def _master(path: Path) -> list[tuple[Any, ...]]:
    con = sqlite3.connect(path)
    try:
        return con.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
        ).fetchall()
    finally:
        con.close()


def _versions(path: Path) -> list[str]:
    con = sqlite3.connect(path)
    try:
        return [row[0] for row in con.execute("SELECT version_num FROM alembic_version")]
    finally:
        con.close()


def _snapshot(con: sqlite3.Connection) -> Snapshot:
    """The schema, the revision rows, the schema cookie, and the file's bytes."""
    master = con.execute(
        "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name").fetchall()
    has_version = any(row[1] == "alembic_version" for row in master)
    versions = ([row[0] for row in con.execute("SELECT version_num FROM alembic_version")]
                if has_version else None)
    cookie = con.execute("PRAGMA schema_version").fetchone()[0]
    path = Path(con.execute("PRAGMA database_list").fetchone()[2])
    return master, versions, cookie, path.read_bytes() if path.exists() else b""


def _create_fast(path: Path) -> None:
    con = sqlite3.connect(path, isolation_level=None)
    try:
        assert ensure_sqlite_schema(con) is True, f"the packaged schema was not used: {_REGENERATE}"
    finally:
        con.close()


def _create_with_alembic(path: Path) -> None:
    # The migrations as the server runs them: its engine, one BEGIN IMMEDIATE transaction.
    from alembic import command

    from headwater.server.database.engine import Database
    from headwater.server.database.migrate import alembic_config

    async def main() -> None:
        engine = Database(f"sqlite:///{path}")._create_engine()
        try:
            async with engine.execution_options(headwater_write=True).begin() as conn:
                await conn.run_sync(
                    lambda sync: command.upgrade(alembic_config(sync), "head")  # type: ignore[arg-type]
                )
        finally:
            await engine.dispose()

    asyncio.run(main())


@pytest.fixture
def fresh(tmp_path: Path) -> Path:
    """The path of a database file that does not exist yet."""
    return tmp_path / "headwater.db"


def test_packaged_schema_is_what_the_migrations_create(tmp_path: Path) -> None:
    fast, migrated = tmp_path / "fast.db", tmp_path / "migrated.db"
    _create_fast(fast)
    _create_with_alembic(migrated)
    assert _master(fast) == _master(migrated), _REGENERATE
    assert _versions(fast) == _versions(migrated) == [HEAD_REVISION], _REGENERATE


def test_packaged_file_is_the_regenerated_text() -> None:
    packaged = sqlite_schema.SCHEMA_FILE.read_text(encoding="utf-8")
    assert packaged == regenerate_sql(), _REGENERATE


def test_alembic_version_is_alembics_own_table(fresh: Path) -> None:
    _create_fast(fresh)
    sql = {row[1]: row[3] for row in _master(fresh)}["alembic_version"]
    assert " ".join(sql.split()) == (
        "CREATE TABLE alembic_version ( version_num VARCHAR(32) NOT NULL, "
        "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num) )"
    )


@pytest.mark.anyio
@pytest.mark.parametrize("created_by", ["ensure_sqlite_schema", "Database.start"])
async def test_server_app_works_on_the_fast_path_database(fresh: Path, created_by: str) -> None:
    import httpx

    from headwater.server.app import create_app

    if created_by == "ensure_sqlite_schema":
        _create_fast(fresh)
        before = _master(fresh)
    app = create_app(f"sqlite:///{fresh}", use_settings=False)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test/api") as client:
            run = await make_flow_run(client, "fast-path", parameters={"x": 1}, tags=["t"],
                                      state={"type": "PENDING"})
            got = await client.get(f"/flow_runs/{run['id']}")
    finally:
        await app.state.database.aclose()
    assert got.status_code == 200
    body = got.json()
    assert body["parameters"] == {"x": 1} and body["tags"] == ["t"]
    assert body["state_type"] == "PENDING"
    assert _versions(fresh) == [HEAD_REVISION]
    if created_by == "ensure_sqlite_schema":
        assert _master(fresh) == before
    else:  # the server took the fast path on the fresh file, with large pages
        assert sqlite3.connect(fresh).execute("PRAGMA page_size").fetchone()[0] == PAGE_SIZE
        reference = fresh.with_name("reference.db")
        _create_fast(reference)
        assert _master(fresh) == _master(reference)


def test_up_to_date_database_is_left_alone(fresh: Path) -> None:
    _create_fast(fresh)
    con = sqlite3.connect(fresh, isolation_level=None)
    try:
        before = _snapshot(con)
        assert ensure_sqlite_schema(con) is True
        assert _snapshot(con) == before and not con.in_transaction
    finally:
        con.close()


def test_older_revision_is_left_to_alembic(fresh: Path) -> None:
    _create_fast(fresh)
    con = sqlite3.connect(fresh, isolation_level=None)
    try:
        con.execute("UPDATE alembic_version SET version_num = '0001'")
        before = _snapshot(con)
        assert ensure_sqlite_schema(con) is False
        assert _snapshot(con) == before and not con.in_transaction
    finally:
        con.close()
    assert _versions(fresh) == ["0001"]


@pytest.mark.parametrize("setup", [
    "CREATE TABLE unrelated (x INTEGER)",
    "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)",  # no row
    "CREATE VIEW lonely AS SELECT 1",
])
def test_database_with_other_objects_is_left_to_alembic(fresh: Path, setup: str) -> None:
    con = sqlite3.connect(fresh, isolation_level=None)
    try:
        con.execute(setup)
        before = _snapshot(con)
        assert ensure_sqlite_schema(con) is False
        assert _snapshot(con) == before and not con.in_transaction
    finally:
        con.close()


def test_stale_packaged_file_leaves_a_fresh_database_to_alembic(
    fresh: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # HEAD_REVISION bumped, sqlite_schema.sql not regenerated: never stamp an old schema new.
    monkeypatch.setattr(sqlite_schema, "HEAD_REVISION", "9999")
    con = sqlite3.connect(fresh, isolation_level=None)
    try:
        assert ensure_sqlite_schema(con) is False
        assert _snapshot(con)[:3] == ([], None, 0)
    finally:
        con.close()


def test_failure_midway_leaves_no_schema(fresh: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    statements = sqlite_schema.schema_statements()
    broken = (*statements[:5], "CREATE TABLE flow (x)", *statements[5:])  # already exists
    monkeypatch.setattr(sqlite_schema, "schema_statements", lambda: broken)
    con = sqlite3.connect(fresh)
    try:
        with pytest.raises(sqlite3.OperationalError, match="already exists"):
            ensure_sqlite_schema(con)
        assert not con.in_transaction
        assert con.isolation_level == ""  # restored
        assert _snapshot(con)[:3] == ([], None, 0)
    finally:
        con.close()
    monkeypatch.undo()
    _create_fast(fresh)  # and the file is still usable


def test_connection_inside_a_transaction_is_refused(fresh: Path) -> None:
    con = sqlite3.connect(fresh, isolation_level=None)
    try:
        con.execute("BEGIN")
        with pytest.raises(ValueError, match="outside a transaction"):
            ensure_sqlite_schema(con)
        assert con.in_transaction  # the caller's transaction is untouched
    finally:
        con.close()


def test_threads_racing_on_one_fresh_file_create_it_once(fresh: Path) -> None:
    threads = 6
    barrier = threading.Barrier(threads)
    results: list[bool] = []
    errors: list[BaseException] = []

    def race() -> None:
        con = sqlite3.connect(fresh, timeout=30, isolation_level=None)
        try:
            barrier.wait(timeout=10)
            results.append(ensure_sqlite_schema(con))
        except BaseException as exc:
            errors.append(exc)
        finally:
            con.close()

    workers = [threading.Thread(target=race) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    assert errors == [] and results == [True] * threads
    reference = fresh.with_name("reference.db")
    _create_fast(reference)
    assert _master(fresh) == _master(reference)
    assert _versions(fresh) == [HEAD_REVISION]


@pytest.mark.slow
def test_processes_racing_on_one_fresh_file_create_it_once(fresh: Path) -> None:
    # Each process waits for a "go" file, so they all reach BEGIN IMMEDIATE together.
    go = fresh.with_name("go")
    code = (
        "import os, sqlite3, sys, time\n"
        "from headwater._private.storage.sqlite_schema import ensure_sqlite_schema\n"
        "db, go = sys.argv[1], sys.argv[2]\n"
        "con = sqlite3.connect(db, timeout=30, isolation_level=None)\n"
        "print('ready', flush=True)\n"
        "deadline = time.monotonic() + 20\n"
        "while not os.path.exists(go) and time.monotonic() < deadline:\n"
        "    time.sleep(0.001)\n"
        "print(ensure_sqlite_schema(con))\n"
    )
    procs = [subprocess.Popen([sys.executable, "-c", code, str(fresh), str(go)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(3)]
    try:
        for proc in procs:
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "ready"
        go.touch()
        outputs = [proc.communicate(timeout=30) for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    results = [(proc.returncode, out.strip(), err)
               for proc, (out, err) in zip(procs, outputs, strict=True)]
    assert results == [(0, "True", "")] * 3
    reference = fresh.with_name("reference.db")
    _create_fast(reference)
    assert _master(fresh) == _master(reference)
    assert _versions(fresh) == [HEAD_REVISION]


def test_module_imports_no_server_stack(fresh: Path) -> None:
    code = (
        "import sqlite3, sys\n"
        "from headwater._private.storage.sqlite_schema import ensure_sqlite_schema\n"
        "con = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "assert ensure_sqlite_schema(con)\n"
        "heavy = {'sqlalchemy', 'alembic', 'fastapi', 'pydantic', 'starlette', 'aiosqlite'}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(fresh)], capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "[]"
    assert _versions(fresh) == [HEAD_REVISION]


def test_in_memory_database_still_migrates_with_alembic() -> None:
    from headwater.server.database.engine import Database
    from headwater.server.database.migrate import current_revisions

    async def main() -> tuple[str, ...]:
        db = Database("sqlite:///:memory:")
        assert db._sqlite_file() is None
        await db.start()
        try:
            async with db.read() as conn:
                return await conn.run_sync(current_revisions)
        finally:
            await db.aclose()

    assert asyncio.run(main()) == (HEAD_REVISION,)
    assert Database("sqlite:///x.db?uri=true")._sqlite_file() is None
    assert Database("postgresql://u@h/db")._sqlite_file() is None

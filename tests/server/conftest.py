"""Fixtures of the server tests: an app on each database, and a client for it.

This folder is a package (``__init__.py``) so this conftest imports as
``server.conftest`` and does not shadow ``tests/conftest.py``, which other
test modules import by name.

The tests run on SQLite (in ``tmp_path``) and, when ``HEADWATER_TEST_POSTGRES_URL``
names a PostgreSQL server, on PostgreSQL too (one scratch database per test
session, emptied before each test). Without the ``server`` extra installed
every test module here is skipped (``pytest.importorskip`` at its top).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

PG_ENV = "HEADWATER_TEST_POSTGRES_URL"
_TABLES = ("flow, flow_run, task_run, flow_run_state, task_run_state, log, concurrency_limit, "
           "global_concurrency_limit, concurrency_lease, project, deployment, "
           "deployment_schedule, flow_run_liveness, work_pool, work_queue, worker, run_lock")


def _asyncpg_dsn(url: str) -> str:
    from sqlalchemy.engine import make_url

    parsed = make_url(url).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


async def _pg_admin(url: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A scratch PostgreSQL database for this session (skipped without the env var)."""
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"PostgreSQL not configured: set {PG_ENV} (a postgresql:// URL, "
                    "from .ci/postgres.sh); see README, Running all tests")
    from sqlalchemy.engine import make_url

    name = f"headwater_test_{uuid.uuid4().hex[:10]}"
    asyncio.run(_pg_admin(base, f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_pg_admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _empty_postgres(url: str) -> None:
    async def truncate() -> None:
        import asyncpg

        try:
            await _pg_admin(url, f"TRUNCATE {_TABLES} CASCADE")
        except asyncpg.UndefinedTableError:
            pass  # not migrated yet

    asyncio.run(truncate())


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    """A fresh, empty database: SQLite in tmp_path, or the session's PostgreSQL one."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'headwater.db'}"
    url: str = request.getfixturevalue("postgres_url")
    _empty_postgres(url)
    return url


@pytest.fixture
async def app(database_url: str) -> AsyncIterator[Any]:
    """The API app on ``database_url``, no API key, settings ignored."""
    from headwater.server.app import create_app

    application = create_app(database_url, use_settings=False)
    try:
        yield application
    finally:
        await application.state.database.aclose()


@pytest.fixture
async def client(app: Any) -> AsyncIterator[Any]:
    """An httpx client calling the app in process; base URL ends in ``/api``."""
    import httpx

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test/api") as c:
        yield c


"""Fixtures for the deployment tests: a fresh home recording to its own database."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from headwater._private import recording
from headwater.settings import temporary_settings


def _clean(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    for key in list(os.environ):
        if key.startswith("HEADWATER_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("HEADWATER_HOME", str(home))


def _close_recorder() -> None:
    recorder = recording.ACTIVE
    recording.ensure_recorder()
    if recorder is not None:
        recorder.close()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A new ``HEADWATER_HOME`` with recording on (embedded SQLite), for this test only."""
    _clean(monkeypatch, tmp_path / "home")
    with temporary_settings(HEADWATER_API_ENABLE_RECORDING="true"):
        yield tmp_path / "home"
        _close_recorder()


@contextmanager
def _postgres_database(base: str | None) -> Iterator[str]:
    """A new PostgreSQL database for one test (skipped without HEADWATER_TEST_POSTGRES_URL)."""
    import asyncio

    if not base:
        pytest.skip("PostgreSQL not configured: set HEADWATER_TEST_POSTGRES_URL (from "
                    ".ci/postgres.sh); see README, Running all tests")
    from sqlalchemy.engine import make_url

    async def admin(sql: str) -> None:
        import asyncpg

        conn = await asyncpg.connect(make_url(base).set(drivername="postgresql")
                                     .render_as_string(hide_password=False))
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    name = f"headwater_test_{uuid.uuid4().hex[:10]}"
    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["embedded", "server", "postgresql"])
def target_home(request: pytest.FixtureRequest, tmp_path: Path,
                monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Like ``home``; for "server" and "postgresql" runs are recorded to a live API on
    loopback (over SQLite, or PostgreSQL)."""
    postgres = os.environ.get("HEADWATER_TEST_POSTGRES_URL")
    _clean(monkeypatch, tmp_path / "home")
    if request.param == "embedded":
        with temporary_settings(HEADWATER_API_ENABLE_RECORDING="true"):
            yield tmp_path / "home"
            _close_recorder()
        return
    from headwater.server.app import create_app
    from server.server_helpers import LiveServer

    with ExitStack() as stack:
        url = (f"sqlite:///{tmp_path / 'server.db'}" if request.param == "server"
               else stack.enter_context(_postgres_database(postgres)))
        application = create_app(url, use_settings=False)
        server = stack.enter_context(LiveServer(application))
        monkeypatch.setenv("HEADWATER_API_URL", server.url)
        with temporary_settings(HEADWATER_API_ENABLE_RECORDING="true",
                                HEADWATER_API_URL=server.url):
            yield tmp_path / "home"
            _close_recorder()

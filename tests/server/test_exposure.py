"""Auth and exposure: a refused key keeps records; no empty key; loopback Host; private files."""

from __future__ import annotations

import asyncio
import json
import logging
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from headwater import flow, task
from headwater._private.recording import Recorder
from headwater._private.recording.transports import ClientTransport
from headwater.client import HeadwaterClient
from headwater.exceptions import SettingsError
from headwater.settings import temporary_settings
from recording_helpers import active

KEY = "the-right-key"


def _app(database_url: str, **options: Any) -> Any:
    from headwater.server.app import create_app

    return create_app(database_url, use_settings=False, **options)


@task
def double(x: int) -> int:
    return 2 * x


@flow
def doubles(n: int) -> list[int]:
    return [f.result() for f in double.map(range(n))]


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite only here: the key and Host rules sit in front of the database."""
    return f"sqlite+aiosqlite:///{tmp_path / 'server.db'}"


def _recorder(database_url: str, key: str, spool: Path) -> Recorder:
    async def factory() -> ClientTransport:
        app = _app(database_url, api_key=KEY)
        client = HeadwaterClient("http://localhost/api", key,
                                 transport=httpx.ASGITransport(app=app), retries=0)
        client.on_close(app.state.database.aclose)
        return ClientTransport(client)

    return Recorder(factory, interval=60, spool_dir=spool)


def _stored_task_runs(database_url: str) -> int:
    async def count() -> int:
        app = _app(database_url, api_key=KEY)
        async with HeadwaterClient("http://localhost/api", KEY,
                                   transport=httpx.ASGITransport(app=app)) as client:
            runs = await client.read_task_runs(limit=200)
        await app.state.database.aclose()
        return len(runs)

    return asyncio.run(count())


class _Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_a_refused_key_keeps_the_records_and_says_so_once(database_url: str,
                                                          tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    doubles(0)  # logging is configured at the first run: the handler goes on after it
    kept = _Kept()
    logger = logging.getLogger("headwater.recording")
    logger.addHandler(kept)
    wrong = _recorder(database_url, "a-rotated-key", spool)
    try:
        with active(wrong):
            for _ in range(3):
                assert doubles(10) == [2 * i for i in range(10)]
            wrong.flush(30)
        wrong.close()
    finally:
        logger.removeHandler(kept)
    warnings = [r.getMessage() for r in kept.records]
    assert len(warnings) == 1, warnings
    assert "refused this process's API key" in warnings[0]
    assert "HEADWATER_API_KEY" in warnings[0] and str(spool) in warnings[0]
    assert kept.records[0].levelno == logging.WARNING
    spooled = sorted(spool.glob("*.json"))
    assert spooled, "the refused records must be kept"
    assert sum(len(json.loads(p.read_text())["task_runs"]["id"]
                   if isinstance(json.loads(p.read_text())["task_runs"], dict)
                   else json.loads(p.read_text())["task_runs"]) for p in spooled) == 30

    # With the right key, the next process ships them (and its own records).
    right = _recorder(database_url, KEY, spool)
    with active(right):
        doubles(1)
        right.flush(30)
    right.close()
    assert not list(spool.glob("*.json"))
    assert _stored_task_runs(database_url) == 31


def test_an_empty_server_key_is_refused(database_url: str) -> None:
    with pytest.raises(SettingsError, match="HEADWATER_SERVER_API_KEY is set but empty"), \
            temporary_settings(HEADWATER_SERVER_API_KEY=""):
        pass
    with pytest.raises(ValueError, match="empty"):
        _app(database_url, api_key="  ")


@pytest.mark.anyio
@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
async def test_the_bearer_scheme_is_matched_case_insensitively(database_url: str,
                                                               scheme: str) -> None:
    app = _app(database_url, api_key=KEY)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost/api") as c:
        ok = await c.get("/hello", headers={"Authorization": f"{scheme} {KEY}"})
        basic = await c.get("/hello", headers={"Authorization": f"Basic {KEY}"})
        glued = await c.get("/hello", headers={"Authorization": f"{scheme}{KEY}"})
    await app.state.database.aclose()
    assert ok.status_code == 200
    assert basic.status_code == glued.status_code == 401


@pytest.mark.anyio
async def test_the_max_body_size_setting_is_honoured(database_url: str) -> None:
    from headwater.server.app import create_app

    with temporary_settings(HEADWATER_SERVER_MAX_BODY_SIZE="2048"):
        app = create_app(database_url)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost/api") as c:
        small = await c.post("/flows/", json={"name": "x"})
        big = await c.post("/flows/", json={"name": "x", "tags": ["t" * 100] * 40})
    await app.state.database.aclose()
    assert small.status_code == 201
    assert big.status_code == 413 and "2048" in big.json()["detail"]


@pytest.mark.anyio
@pytest.mark.parametrize(("host", "status"), [
    ("localhost:4200", 200), ("127.0.0.1:4200", 200), ("[::1]:4200", 200), ("localhost", 200),
    ("evil.example:4200", 421), ("evil.example", 421), ("127.0.0.1.evil.example", 421),
])
async def test_a_keyless_loopback_server_answers_loopback_names_only(
        database_url: str, host: str, status: int) -> None:
    app = _app(database_url, bind_host="127.0.0.1")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://x/api") as c:
        response = await c.get("/hello", headers={"Host": host})
        health = await c.get("/health", headers={"Host": host})
    await app.state.database.aclose()
    assert response.status_code == status
    assert health.status_code == status  # a rebinding page learns nothing either
    if status == 421:
        assert "HEADWATER_SERVER_API_KEY" in response.json()["detail"]


@pytest.mark.anyio
async def test_a_server_with_a_key_or_on_all_interfaces_serves_any_name(database_url: str
                                                                       ) -> None:
    for options, headers in (({"api_key": KEY, "bind_host": "127.0.0.1"},
                              {"Authorization": f"Bearer {KEY}"}),
                             ({"bind_host": "0.0.0.0"}, {}), ({}, {})):
        app = _app(database_url, **options)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://x/api") as c:
            response = await c.get("/hello", headers={"Host": "server.example", **headers})
        await app.state.database.aclose()
        assert response.status_code == 200, options


def test_a_keyless_server_on_the_network_is_warned_about() -> None:
    from headwater.cli._server import _exposure_warning

    warning = _exposure_warning("0.0.0.0", auth=False)
    assert warning is not None and "HEADWATER_SERVER_API_KEY" in warning
    assert _exposure_warning("192.168.1.5", auth=False) is not None
    assert _exposure_warning("0.0.0.0", auth=True) is None
    assert _exposure_warning("127.0.0.1", auth=False) is None
    assert _exposure_warning("localhost", auth=False) is None


@pytest.fixture
def fresh_home(tmp_path: Path) -> Iterator[Path]:
    home = tmp_path / "home"
    with temporary_settings(HEADWATER_HOME=str(home)):
        yield home


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_database_and_result_files_are_private(fresh_home: Path) -> None:
    @task(persist_result=True)
    def secret() -> str:
        return "s3cret"

    @flow
    def keeps() -> str:
        return secret()

    assert keeps() == "s3cret"
    database = fresh_home / "headwater.db"
    assert _mode(database) == 0o600
    for extra in (fresh_home / "headwater.db-wal", fresh_home / "headwater.db-shm"):
        if extra.exists():
            assert _mode(extra) == 0o600
    results = [p for p in (fresh_home / "storage").rglob("*") if p.is_file()]
    assert results and all(_mode(p) == 0o600 for p in results)

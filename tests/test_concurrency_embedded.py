"""Embedded mode on SQLite takes slots in the database file directly, with ``sqlite3``.

No server stack is imported for a flow whose tasks have tag limits; short
tasks reach their limit; and the leases are the API's own, so a process
writing the file and a process going through a server on the same file
share one limit.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from concurrency_helpers import WORKER, httpx, make_backend, max_overlap, spawn
from headwater import flow, task
from headwater._private.concurrency import get_slot_manager, reset_slot_manager
from headwater._private.concurrency.leases import APIRequest
from headwater._private.concurrency.remote import APIConcurrencyBackend
from headwater._private.concurrency.sqlite_slots import SQLiteSlots
from headwater.concurrency import set_concurrency_limit
from headwater.exceptions import AcquireConcurrencySlotTimeoutError


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def embedded(home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """This process in embedded mode on ``home`` (recording on, no API URL)."""
    for key in list(os.environ):
        if key.startswith("HEADWATER_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("HEADWATER_HOME", str(home))
    monkeypatch.setenv("HEADWATER_API_ENABLE_RECORDING", "true")
    reset_slot_manager()
    try:
        yield home
    finally:
        reset_slot_manager()


NO_SERVER_STACK = """
    import sys
    from headwater import flow, task
    from headwater.concurrency import read_concurrency_limit

    @task(tags=["db"])
    def work(i: int) -> int:
        limit = read_concurrency_limit("db")
        assert limit is not None and limit.active_slots == 1, limit  # this run's own slot
        return i

    @flow
    def run() -> int:
        return sum(work.map(range(20)).result())

    assert run() == 190
    stack = {"fastapi", "sqlalchemy", "httpx", "starlette", "aiosqlite"}
    print(sorted(m for m in sys.modules if m.split(".")[0] in stack))
"""


def test_tag_limited_flows_import_no_server_stack(tmp_path: Path, home: Path) -> None:
    creator = make_backend(home)
    creator.set_limit("tag:db", 1)  # as `headwater concurrency-limit create db 1` would
    creator.close()
    child = spawn(tmp_path, home, NO_SERVER_STACK)
    out, err = child.communicate(timeout=50)
    assert child.returncode == 0, err
    assert out.strip() == "[]"


@pytest.mark.slow
def test_half_millisecond_tasks_reach_a_limit_of_3(embedded: Path) -> None:
    set_concurrency_limit("db", 3)
    assert isinstance(get_slot_manager(), APIConcurrencyBackend)
    assert isinstance(get_slot_manager()._slots, SQLiteSlots)  # type: ignore[attr-defined]
    lock = threading.Lock()
    running, peak = [0], [0]
    three = threading.Event()  # set once three ran at once: the limit is reachable

    @task(tags=["db"])
    def short(i: int) -> int:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
            if running[0] == 3:
                three.set()
        # The first ones wait (a while at most) for the third: how fast slots turn
        # over is the machine's business, that three are granted at once is ours.
        three.wait(0.0005 if three.is_set() else 10.0)
        with lock:
            running[0] -= 1
        return i

    @flow
    def many() -> int:
        return sum(short.map(range(300)).result())

    assert many() == sum(range(300))
    assert peak[0] == 3


@pytest.mark.slow
def test_a_direct_process_and_a_server_process_share_a_limit(tmp_path: Path,
                                                              home: Path) -> None:
    from headwater.server.app import create_app
    from server.server_helpers import LiveServer

    app = create_app(f"sqlite:///{home / 'headwater.db'}", use_settings=False)
    log = tmp_path / "runs.log"
    with LiveServer(app) as server:
        created = httpx.post(f"{server.url}/concurrency_limits/",
                             json={"tag": "db", "concurrency_limit": 2})
        assert created.status_code == 201, created.text
        direct = spawn(tmp_path, home, WORKER, str(log), "6", "0.15")
        # Its own home: it shares nothing with the other child but the server.
        through_server = spawn(tmp_path, tmp_path / "other-home", WORKER, str(log), "6", "0.15",
                               api_url=server.url)
        for child in (direct, through_server):
            _, err = child.communicate(timeout=50)
            assert child.returncode == 0, err
        status = httpx.post(f"{server.url}/concurrency_limits/status",
                            json={"names": ["tag:db"]}).json()
    lines = log.read_text().splitlines()
    assert len(lines) == 12 and {line.split()[0] for line in lines} == {
        str(direct.pid), str(through_server.pid)}
    assert max_overlap(lines) == 2
    assert status[0]["active_slots"] == 0


def test_direct_leases_are_the_apis_leases(home: Path) -> None:
    api, direct = make_backend(home), make_backend(home, direct=True)
    try:
        api.set_limit("w", 1)
        lease = direct.acquire(["w"], holder="direct-run")
        assert lease is not None
        seen = api.read_limit("w")
        assert seen is not None and (seen.active_slots, seen.holders) == (1, ("direct-run",))
        with pytest.raises(AcquireConcurrencySlotTimeoutError):
            api.acquire(["w"], timeout=0.2)
        lease.release()
        other = api.acquire(["w"], timeout=5, holder="api-run")
        assert other is not None
        seen = direct.read_limit("w")
        assert seen is not None and seen.holders == ("api-run",)
        with pytest.raises(AcquireConcurrencySlotTimeoutError):
            direct.acquire(["w"], timeout=0.2)
        other.release()
        again = direct.acquire(["w"], timeout=5)
        assert again is not None
        again.release()
    finally:
        api.close()
        direct.close()


def test_direct_waiters_of_one_process_are_served_in_order(home: Path) -> None:
    api, direct = make_backend(home), make_backend(home, direct=True)
    try:
        api.set_limit("w", 1)
        first = direct.acquire(["w"])
        assert first is not None
        order: list[int] = []

        def waiter(i: int) -> None:
            lease = direct.acquire(["w"], timeout=10)
            assert lease is not None
            order.append(i)
            lease.release()

        threads = []
        for i in range(5):
            threads.append(threading.Thread(target=waiter, args=(i,)))
            threads[-1].start()
            deadline = time.monotonic() + 30  # a hang guard, not a timing claim
            while direct.read_limit("w").waiting != i + 1:  # type: ignore[union-attr]
                assert time.monotonic() < deadline
                time.sleep(0.005)
        first.release()
        for thread in threads:
            thread.join(10)
        assert order == list(range(5))
    finally:
        api.close()
        direct.close()


def test_direct_rate_limits_decay_as_through_the_api(home: Path) -> None:
    api, direct = make_backend(home), make_backend(home, direct=True)
    try:
        api.set_limit("calls", 2, slot_decay_per_second=4.0)
        api.take_decaying(["calls"])
        direct.take_decaying(["calls"])
        with pytest.raises(AcquireConcurrencySlotTimeoutError):
            direct.take_decaying(["calls"], timeout=0.05)
        started = time.monotonic()
        direct.take_decaying(["calls"], timeout=5)  # a slot decays in 0.25 s
        assert time.monotonic() - started > 0.1  # how much more is the machine's speed
    finally:
        api.close()
        direct.close()


def test_a_lapsed_lease_is_not_renewed_and_its_slot_is_reclaimed(home: Path) -> None:
    api = make_backend(home)
    api.set_limit("w", 1)
    clock = [dt.datetime.now(dt.timezone.utc)]
    slots = SQLiteSlots(home / "headwater.db", now=lambda: clock[0])
    want = APIRequest(("w",), 1, "concurrency", 1.0, True, None)

    async def scenario() -> None:
        first = await slots.increment(want)
        assert first.granted and first.lease_id is not None
        assert not (await slots.increment(want)).granted
        assert await slots.renew(first.lease_id, 1.0)
        clock[0] += dt.timedelta(seconds=2)  # past its expiry: lapsed, even if still stored
        assert not await slots.renew(first.lease_id, 30.0)
        second = await slots.increment(want)  # reclaims the lapsed lease first
        assert second.granted and second.lease_id is not None
        assert await slots.renew(second.lease_id, 30.0)

    try:
        asyncio.run(scenario())
        seen = api.read_limit("w")
        assert seen is not None and seen.active_slots == 1
    finally:
        slots.close()
        api.close()


def test_reading_a_missing_database_creates_nothing(tmp_path: Path) -> None:
    slots = SQLiteSlots(tmp_path / "nothing" / "headwater.db")
    assert asyncio.run(slots.status(None)) == []
    assert not (tmp_path / "nothing").exists()
    sqlite3.connect(tmp_path / "empty.db").close()
    assert asyncio.run(SQLiteSlots(tmp_path / "empty.db").status(["w"])) == []

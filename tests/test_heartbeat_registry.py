"""What liveness costs a flow run: no write of its own at start, one heartbeat task for all runs.

A run's liveness row goes with its records (the recorder's batch, one
transaction); one task on the background loop then beats for every live
run of the process in one write per interval. Time is a ``FakeClock``:
the tests move it and ask the task to look (``heartbeats.tick``).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import sqlite3
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from headwater import flow, runtime
from headwater._private import heartbeats, recording
from headwater._private.storage import liveness_sqlite, record_writer
from headwater._private.storage.processes import local_host, process_start_token
from headwater._private.storage.stored_values import stored_time
from headwater.settings import temporary_settings
from headwater.testing import FakeClock, use_clock

INTERVAL = 10.0


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    with temporary_settings(HEADWATER_HOME=str(tmp_path / "home"),
                            HEADWATER_FLOW_RUN_HEARTBEAT_SECONDS=str(INTERVAL)):
        yield tmp_path / "home"


def liveness_rows(home: Path) -> dict[uuid.UUID, tuple[Any, ...]]:
    """Every liveness row: run id -> (host, pid, process start, interval, last heartbeat)."""
    con = sqlite3.connect(home / "headwater.db")
    try:
        rows = con.execute("SELECT flow_run_id, host, pid, process_start, heartbeat_interval, "
                           "last_heartbeat FROM flow_run_liveness").fetchall()
    finally:
        con.close()
    return {uuid.UUID(row[0]): tuple(row[1:]) for row in rows}


def flush() -> None:
    recorder = recording.ACTIVE
    assert recorder is not None and recorder.flush(30)


@contextlib.contextmanager
def counting_writes(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """Count the write transactions of the records writer and of the liveness statements."""
    writes: Counter[str] = Counter()
    for name, module in (("records", record_writer), ("liveness", liveness_sqlite)):
        original = module.sqlite_transaction

        def counted(con: sqlite3.Connection, *, write: bool = True,
                    _name: str = name, _original: Any = original) -> Any:
            if write:
                writes[_name] += 1
            return _original(con, write=write)

        monkeypatch.setattr(module, "sqlite_transaction", counted)
    yield writes


def test_starting_runs_writes_their_liveness_rows_with_their_records(
        home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    @flow
    def warm_up() -> None:
        pass

    warm_up()  # the database and its schema exist before we count
    seen: dict[str, Any] = {}

    @flow
    def child() -> str:
        flush()  # this run, its parent and their states are stored now
        seen["rows"] = liveness_rows(home)
        return str(runtime.flow_run.id)

    @flow
    def parent() -> tuple[str, str]:
        return str(runtime.flow_run.id), child()

    with counting_writes(monkeypatch) as writes:
        parent_id, child_id = parent()
    rows = seen["rows"]
    token = process_start_token(os.getpid())
    for run_id in (parent_id, child_id):  # the subflow run too
        assert rows[uuid.UUID(run_id)][:4] == (local_host(), os.getpid(), token, INTERVAL)
    # Every write was a batch of the recorder: no liveness write of its own.
    assert writes["records"] >= 1
    assert writes["liveness"] == 0


def stamp(clock: FakeClock) -> str:
    return stored_time(clock.now())


def test_one_heartbeat_task_beats_for_all_live_runs_in_one_write(home: Path) -> None:
    clock = FakeClock(wall=dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc))
    checks: dict[str, Any] = {}

    @flow
    async def child(n: int, release: asyncio.Event) -> str:
        await release.wait()
        return str(runtime.flow_run.id)

    @flow
    async def parent() -> list[str]:
        releases = [asyncio.Event() for _ in range(3)]
        children = [asyncio.ensure_future(child(i, releases[i])) for i in range(3)]
        while len(heartbeats.beating()) < 4:  # the parent and its three children started
            await asyncio.sleep(0.001)
        live = heartbeats.beating()
        service = heartbeats._service
        await asyncio.to_thread(flush)
        checks["rows at start"] = liveness_rows(home)
        assert await asyncio.to_thread(heartbeats.tick) == 0  # not due yet
        clock.advance(INTERVAL)
        checks["writes, all live"] = await asyncio.to_thread(heartbeats.tick)
        checks["rows, all live"] = liveness_rows(home)
        checks["first beat"] = stamp(clock)
        releases[0].set()
        first_child = await children[0]
        assert uuid.UUID(first_child) not in heartbeats.beating()  # at once
        clock.advance(INTERVAL)
        checks["writes, one ended"] = await asyncio.to_thread(heartbeats.tick)
        checks["rows, one ended"] = liveness_rows(home)
        checks["second beat"] = stamp(clock)
        assert heartbeats._service is service  # one task all along, not one per run
        for release in releases[1:]:
            release.set()
        return [str(i) for i in live] + [first_child]

    with use_clock(clock):
        result = asyncio.run(parent())
    live, first_child = [uuid.UUID(i) for i in result[:4]], uuid.UUID(result[4])
    assert set(checks["rows at start"]) >= set(live)  # rows came with the runs' records
    # One write for the four runs: each row carries the same (fake) time.
    assert checks["writes, all live"] == 1
    assert {checks["rows, all live"][i][4] for i in live} == {checks["first beat"]}
    # The ended run is left out of the next write; the others are beaten again.
    assert checks["writes, one ended"] == 1
    after = checks["rows, one ended"]
    assert after[first_child][4] == checks["first beat"]
    assert {after[i][4] for i in live if i != first_child} == {checks["second beat"]}
    # Every run ended: nothing is beaten, and the task parks (no write).
    assert heartbeats.beating() == []
    clock.advance(INTERVAL)
    assert heartbeats.tick() == 0


def test_the_heartbeat_task_outlives_runs_one_after_the_other(home: Path) -> None:
    @flow
    def one() -> Any:
        return heartbeats._service

    services = {id(one()) for _ in range(3)}
    assert len(services) == 1  # started once, parked between runs, never respawned


def test_the_process_identity_is_read_once_for_many_runs(
        home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from headwater._private.storage import processes

    reads: list[int] = []
    real = processes.process_start_token

    def counted(pid: int) -> str | None:
        reads.append(pid)
        return real(pid)

    seen: list[Any] = []

    @flow
    def child() -> None:
        flush()
        seen.append(liveness_rows(home)[uuid.UUID(str(runtime.flow_run.id))])

    @flow
    def parent() -> None:
        child()
        child()

    processes.process_identity.cache_clear()
    monkeypatch.setattr(processes, "process_start_token", counted)
    try:
        parent()
        parent()
    finally:
        processes.process_identity.cache_clear()
    assert reads == [os.getpid()]  # once, for six runs (four of them checked)
    assert len(seen) == 4 and {row[:3] for row in seen} == {
        (local_host(), os.getpid(), real(os.getpid()))}

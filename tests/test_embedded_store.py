"""The embedded recorder writes SQLite directly: same rows as the API, nothing heavy imported."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from headwater import flow, get_run_logger, task
from headwater._private import recording
from headwater._private.recording.prepare import prepare_items
from headwater._private.recording.recorder import STATE, TASK_RUN, Recorder, _json_batch
from headwater._private.recording.transports import SQLiteTransport
from headwater._private.storage.record_writer import write_batch
from headwater._private.target import sqlite_path
from headwater.client._factory import embedded_client
from headwater.states import Completed, Pending, Running

Items = list[tuple[Any, ...]]


class Capture:
    """A transport keeping the queued items it is given (what the embedded store receives)."""

    def __init__(self) -> None:
        self.batches: list[Items] = []

    async def send(self, batch: dict[str, Any]) -> None:
        raise AssertionError("items are given as they are")

    async def send_items(self, items: Items) -> None:
        self.batches.append(list(items))

    async def close(self) -> None:
        pass


@pytest.fixture
def captured() -> Iterator[Capture]:
    capture = Capture()

    async def factory() -> Capture:
        return capture

    recorder = Recorder(factory, interval=0.01)
    recording.activate(recorder)
    try:
        yield capture
    finally:
        recorder.close()
        recording.deactivate()
        recording._configured_from = None  # the next run's settings choose its recorder


def _database(path: Path) -> sqlite3.Connection:
    return asyncio.run(SQLiteTransport(path).open())._con  # type: ignore[return-value]


def _rows(path: Path) -> dict[str, list[dict[str, Any]]]:
    """Every stored record, minus what is made at write time (ids of states and logs, stamps)."""
    con = sqlite3.connect(path)
    out = {}
    for table in ("flow_run", "task_run", "flow_run_state", "task_run_state", "log",
                  "task_run_state_cache"):
        cursor = con.execute(f"SELECT * FROM {table}")
        names = [d[0] for d in cursor.description]
        made_here = {"created", "updated", "flow_id", "state_id", "task_run_state_id"}
        if table.endswith("state") or table == "log":
            made_here.add("id")
        rows = [{k: v for k, v in zip(names, row, strict=True) if k not in made_here}
                for row in cursor]
        out[table] = sorted(rows, key=lambda r: json.dumps(r, sort_keys=True, default=str))
    con.close()
    return out


def _through_api(path: Path, batches: list[Items]) -> None:
    async def send() -> None:
        client = embedded_client(f"sqlite+aiosqlite:///{path}")
        try:
            for items in batches:
                await client.send_record_batch(json.loads(json.dumps(_json_batch(items))))
        finally:
            await client.aclose()

    asyncio.run(send())


@task
def work(x: int) -> int:
    get_run_logger().info("working on %d", x)
    if x == 2:
        time.sleep(0.05)  # its states span more than one batch
    if x == 3:
        raise ValueError("three")
    return x


@task(cache_key_fn=lambda _context, parameters: f"square-{parameters['x']}",
      cache_expiration=dt.timedelta(hours=1))
def square(x: int) -> int:
    return x * x


@flow
def child() -> int:
    return work(10) + square(3)


@flow(log_prints=True)
def parent(n: int) -> int:
    futures = work.map(range(n))
    child()
    print("printed")
    return sum(f.result() for f in futures if f.wait().is_completed())


def test_the_embedded_store_writes_what_the_api_writes(captured: Capture, tmp_path: Path) -> None:
    parent(6)
    recording.ACTIVE.flush()  # type: ignore[union-attr]
    assert len(captured.batches) > 1
    direct, api = tmp_path / "direct.db", tmp_path / "api.db"
    con = _database(direct)
    prepared = [prepare_items(items) for items in captured.batches]
    counts = [write_batch(con, p) for p in prepared]
    assert sum(c.task_runs for c in counts) == 8
    # A batch stored again (replayed) adds nothing.
    assert all(sum(write_batch(con, p)) == 0 for p in prepared)
    con.close()
    _database(api).close()
    _through_api(api, captured.batches)
    mine, theirs = _rows(direct), _rows(api)
    assert {t: len(r) for t, r in mine.items()} == {t: len(r) for t, r in theirs.items()}
    assert mine == theirs
    states = {r["type"] for r in mine["task_run_state"]}
    assert {"PENDING", "RUNNING", "COMPLETED", "FAILED"} <= states
    (cached,) = mine["task_run_state_cache"]  # the cache key index, kept by both paths
    assert cached["cache_key"] == "square-3" and cached["cache_expiration"] is not None


def _stored_both_ways(folder: Path, batches: list[Items]) -> dict[str, list[dict[str, Any]]]:
    """Store ``batches`` directly and through the API, in two databases; return the rows.

    Asserts that both stored the same rows.
    """
    direct, api = folder / "direct.db", folder / "api.db"
    con = _database(direct)
    for b in batches:
        write_batch(con, prepare_items(b))
    con.close()
    _database(api).close()
    _through_api(api, batches)
    mine, theirs = _rows(direct), _rows(api)
    assert mine == theirs
    return mine


def _task_items(times: list[dt.datetime]) -> Items:
    run_id, flow_run_id = uuid.uuid4(), None
    items: Items = [(TASK_RUN, run_id.int, flow_run_id, "k", "t", "0", "t-0", (), times[0])]
    for make, when in zip((Pending, Running, Completed), times, strict=True):
        state = make()
        state.timestamp = when
        items.append((STATE, run_id.int, True, state.type.value, state.name, state.message,
                      state.timestamp, None))
    return items


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(offsets=st.lists(st.integers(-10**6, 10**6), min_size=3, max_size=3),
       split=st.integers(0, 4),
       base=st.datetimes(min_value=dt.datetime(1900, 1, 2), max_value=dt.datetime(2200, 1, 1),
                         timezones=st.sampled_from([None, dt.timezone.utc,
                                                    dt.timezone(dt.timedelta(hours=-7)),
                                                    dt.timezone(dt.timedelta(hours=5.5))])))
@pytest.mark.slow
def test_bookkeeping_matches_the_api_whatever_the_clock_and_batching(
        tmp_path_factory: pytest.TempPathFactory, offsets: list[int], split: int,
        base: dt.datetime) -> None:
    # Any time, any zone (naive taken as UTC), and clocks that step back: the
    # direct store (which hands SQLite POSIX seconds to format) stores the
    # same text, to the microsecond, as the API does from ISO 8601.
    items = _task_items([base + dt.timedelta(microseconds=o) for o in offsets])
    batches = [b for b in (items[:split], items[split:]) if b]
    mine = _stored_both_ways(tmp_path_factory.mktemp("clock"), batches)
    (run,) = mine["task_run"]
    assert run["run_count"] == 1
    # A state older than the current one, arriving in a later batch, joins the
    # history without becoming current (so without a new state version).
    assert 1 <= run["state_version"] <= 3
    assert len(mine["task_run_state"]) == 3


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(types=st.lists(st.sampled_from(["PENDING", "RUNNING", "PAUSED", "CANCELLING",
                                       "CANCELLED", "COMPLETED"]), min_size=1, max_size=7),
       split=st.integers(0, 8))
@pytest.mark.slow
def test_bookkeeping_of_cancel_requests_matches_the_api(
        tmp_path_factory: pytest.TempPathFactory, types: list[str], split: int) -> None:
    # A CANCELLING state stays current until a final one, in one batch (the
    # recorder's own bookkeeping) or across batches (folded into the stored run).
    base = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)
    run_id = uuid.uuid4().int
    items: Items = [(TASK_RUN, run_id, None, "k", "t", "0", "t-0", (), base)]
    items += [(STATE, run_id, True, t, t.capitalize(), None, base + dt.timedelta(seconds=i), None)
              for i, t in enumerate(types)]
    batches = [b for b in (items[:split + 1], items[split + 1:]) if b]
    mine = _stored_both_ways(tmp_path_factory.mktemp("cancel"), batches)
    (run,) = mine["task_run"]
    expected = None  # the rule, for states in time order
    for t in types:
        if expected != "CANCELLING" or t in ("CANCELLED", "COMPLETED"):
            expected = t
    assert run["state_type"] == expected


@pytest.mark.parametrize("sqlite_version", [(3, 31, 0), None])
def test_large_batches_split_across_statements_store_what_the_api_stores(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        sqlite_version: tuple[int, int, int] | None) -> None:
    # 333 task runs: statements of 256, 64, 8, 4 and 1 rows; their later
    # states come in a second batch and are folded into the stored runs (one
    # UPDATE ... FROM per chunk, or a row at a time before SQLite 3.33).
    if sqlite_version is not None:
        monkeypatch.setattr(sqlite3, "sqlite_version_info", sqlite_version)
    base = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)
    runs = [_task_items([base + dt.timedelta(milliseconds=i + k) for k in range(3)])
            for i in range(333)]
    batches = [[item for r in runs for item in r[:2]], [item for r in runs for item in r[2:]]]
    direct, api = tmp_path / "direct.db", tmp_path / "api.db"
    con = _database(direct)
    counts = [write_batch(con, prepare_items(b)) for b in batches]
    con.close()
    assert [(c.task_runs, c.states) for c in counts] == [(333, 333), (0, 666)]
    _database(api).close()
    _through_api(api, batches)
    mine, theirs = _rows(direct), _rows(api)
    assert mine == theirs
    assert {r["state_type"] for r in mine["task_run"]} == {"COMPLETED"}


def test_a_recorded_flow_imports_no_server_stack(tmp_path: Path) -> None:
    script = textwrap.dedent("""
        import sys
        from headwater import flow, task

        @task
        def one() -> int:
            return 1

        @flow
        def f() -> int:
            return one() + one.submit().result()

        assert f() == 2
        heavy = sorted(m for m in ("fastapi", "sqlalchemy", "alembic", "httpx", "starlette",
                                   "uvicorn", "aiosqlite") if m in sys.modules)
        print("heavy:", heavy)
    """)
    env = {"HEADWATER_HOME": str(tmp_path / "home"), "HEADWATER_API_ENABLE_RECORDING": "true",
           "PATH": "/usr/bin:/bin"}
    for fresh in (True, False):  # a new database, then an existing one
        out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                             text=True, timeout=60, check=True).stdout
        assert "heavy: []" in out, (fresh, out)
    con = sqlite3.connect(tmp_path / "home" / "headwater.db")
    assert con.execute("SELECT count(*) FROM task_run").fetchone() == (4,)
    assert con.execute("SELECT count(*) FROM task_run_state").fetchone() == (12,)
    con.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork only")
def test_a_forked_child_runs_and_records_its_own_flows(tmp_path: Path) -> None:
    # The child inherits the parent's recorder and runtime loop, whose threads
    # (and connection) do not exist there: without care its flows waited 30 s
    # for a flush that never came and lost their records, and async tasks of
    # a sync flow hung.
    script = textwrap.dedent("""
        import multiprocessing as mp, time
        from headwater import flow, task

        @task
        async def inc(x: int) -> int:
            return x + 1

        @flow
        def f(n: int) -> int:
            return sum(inc.map(range(n)).result())

        def child(q) -> None:
            start = time.perf_counter()
            q.put((f(10), time.perf_counter() - start))

        if __name__ == "__main__":
            assert f(10) == 55
            ctx = mp.get_context("fork")
            q = ctx.Queue()
            p = ctx.Process(target=child, args=(q,))
            p.start()
            result, seconds = q.get(timeout=60)
            p.join(60)
            print("child", result, seconds < 5, p.exitcode)
    """)
    (tmp_path / "forked.py").write_text(script)
    env = {"HEADWATER_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, str(tmp_path / "forked.py")], env=env,
                         capture_output=True, text=True, timeout=120, check=True).stdout
    assert "child 55 True 0" in out, out
    con = sqlite3.connect(tmp_path / "home" / "headwater.db")
    assert con.execute("SELECT count(*) FROM flow_run").fetchone() == (2,)
    assert con.execute("SELECT count(*) FROM task_run").fetchone() == (20,)
    assert con.execute("SELECT count(*) FROM task_run_state").fetchone() == (60,)
    con.close()


def test_an_older_database_is_migrated_before_recording(tmp_path: Path) -> None:
    from alembic import command

    from headwater.server.database.migrate import alembic_config

    path = tmp_path / "old.db"
    import sqlalchemy as sa

    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0001")  # type: ignore[arg-type]
    engine.dispose()
    con = _database(path)  # migrates to the head revision through the server's stack
    from headwater._private.storage.revision import HEAD_REVISION

    assert con.execute("SELECT version_num FROM alembic_version").fetchall() == [(HEAD_REVISION,)]
    items = _task_items([dt.datetime.now(dt.timezone.utc)] * 3)
    assert write_batch(con, prepare_items(items)).states == 3
    con.close()


@pytest.mark.parametrize("page_size", [None, 4096])
def test_new_files_get_large_pages_and_the_log_stays_bounded(tmp_path: Path,
                                                             page_size: int | None) -> None:
    # A file made before 16 KiB pages keeps its 4 KiB ones; either way the
    # write-ahead log is checkpointed by 64 MiB (the setting counts pages).
    path = tmp_path / "h.db"
    if page_size is not None:
        old = sqlite3.connect(path)
        old.execute(f"PRAGMA page_size={page_size}")
        old.execute("VACUUM")
        old.close()
    con = _database(path)
    size = con.execute("PRAGMA page_size").fetchone()[0]
    assert size == (page_size or 16384)
    assert con.execute("PRAGMA wal_autocheckpoint").fetchone()[0] * size == 64 * 1024 * 1024
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    items = _task_items([dt.datetime.now(dt.timezone.utc)] * 3)
    assert write_batch(con, prepare_items(items)).states == 3
    con.close()


@pytest.mark.parametrize(("url", "expected"), [
    (None, "home/headwater.db"),
    ("sqlite:///relative.db", "relative.db"),
    ("sqlite+aiosqlite:////abs/x.db", "/abs/x.db"),
    ("sqlite:///:memory:", None),
    ("postgresql+asyncpg://u:p@h/db", None),
])
def test_the_embedded_database_file_follows_the_settings(url: str | None,
                                                        expected: str | None) -> None:
    path = sqlite_path(Path("home"), url)
    assert (str(path) if path is not None else None) == expected

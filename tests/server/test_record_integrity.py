"""Records that name a missing run, or repeat one, are never lost or half-stored silently.

Through the real recorder, to the local database directly and through the
API on SQLite and PostgreSQL:

* a state of a run that is neither in its batch nor stored is set aside
  alone with a reason naming the run, reported once, and every other record
  of the batch is stored;
* a run created a second time (another recorder, another process) keeps
  its row, gets the fields its first writer left empty, and its new states
  are folded into its bookkeeping;
* a task run whose (flow run, task key, dynamic key) another task run holds
  is refused by name, never stored without its row.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from headwater import flow, task
from headwater._private.recording import Recorder
from headwater._private.recording.transports import ClientTransport, SQLiteTransport
from headwater._private.run_records import FlowRun, TaskRun
from headwater._private.storage.record_statements import UnknownRunsError
from headwater._private.storage.record_writer import write_batch
from headwater.client import HeadwaterClient
from headwater.states import Completed, Pending, Running
from recording_helpers import active

from .conftest import _empty_postgres


class Store:
    """Where a recorder writes: ``kind`` "direct" (the SQLite file) or "api" (the app)."""

    def __init__(self, kind: str, database_url: str) -> None:
        self.kind = kind
        self.database_url = database_url

    def client(self) -> HeadwaterClient:
        import httpx

        from headwater.server.app import create_app

        app = create_app(self.database_url, use_settings=False)
        client = HeadwaterClient("http://localhost/api",
                                 transport=httpx.ASGITransport(app=app), retries=0)
        client.on_close(app.state.database.aclose)
        return client

    def recorder(self, spool: Path) -> Recorder:
        async def factory() -> SQLiteTransport | ClientTransport:
            if self.kind == "direct":
                return await SQLiteTransport(Path(self.database_url.split("///", 1)[1])).open()
            return ClientTransport(self.client())

        # A long interval: what is queued leaves in one batch, at the flush.
        return Recorder(factory, interval=60, spool_dir=spool)

    def read(self, path: str) -> Any:
        async def get() -> Any:
            async with self.client() as client:
                response = await client._http.get(path)
                return response.json() if response.status_code == 200 else None

        return asyncio.run(get())

    def post(self, path: str, body: Any) -> Any:
        async def send() -> Any:
            async with self.client() as client:
                return await client._http.post(path, json=body)

        return asyncio.run(send())


@pytest.fixture(params=["direct", "api-sqlite", "api-postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "direct":
        yield Store("direct", f"sqlite+aiosqlite:///{tmp_path / 'direct.db'}")
    elif request.param == "api-sqlite":
        yield Store("api", f"sqlite+aiosqlite:///{tmp_path / 'api.db'}")
    else:
        url = request.getfixturevalue("postgres_url")  # skips without PostgreSQL
        _empty_postgres(url)
        yield Store("api", url)


@task
def one() -> int:
    return 1


@flow
def clean() -> int:
    return one() + one()


def _flow_run(name: str = "again", **fields: Any) -> FlowRun:
    return FlowRun(uuid.uuid4(), name, "twice", frozenset(fields.get("tags", ())),
                   fields.get("parameters", {}), None, None, dt.datetime.now(dt.timezone.utc))


def test_a_state_of_an_unknown_run_is_set_aside_alone_and_reported_once(
        store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    ghosts = [uuid.uuid4(), uuid.uuid4()]
    recorder = store.recorder(tmp_path / "spool")
    with active(recorder), caplog.at_level(logging.DEBUG, "headwater"):
        for ghost in ghosts:  # in the same batch as the clean run
            recorder.state_set(ghost, False, Running())
        state = clean(return_state=True)
        assert recorder.flush(60)
    # The clean run is stored whole.
    run = store.read(f"/flow_runs/{state.state_details.flow_run_id}")
    assert run["state_type"] == "COMPLETED"
    # Each orphan is set aside alone, with a reason naming its run.
    rejected = tmp_path / "spool" / "rejected"
    units = [json.loads(p.read_text()) for p in sorted(rejected.glob("*.json"))]
    reasons = " ".join(p.read_text() for p in rejected.glob("*.reason"))
    assert recorder.records_set_aside == 2 == len(units)
    assert sorted(str(u["states"]["run_id"][0] if isinstance(u["states"], dict)
                      else u["states"][0]["run_id"]) for u in units) == sorted(map(str, ghosts))
    for ghost in ghosts:
        assert str(ghost) in reasons
    assert "unknown flow run" in reasons
    # Reported: one error, the rest at debug level.
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR
              and "could not be stored" in r.getMessage()]
    assert len(errors) == 1 and "unknown flow run" in errors[0].getMessage()


def test_a_run_created_again_fills_what_its_first_writer_left_empty(
        store: Store, tmp_path: Path) -> None:
    first = _flow_run()
    first._state = Pending()
    with active(store.recorder(tmp_path / "a")) as recorder:
        recorder.flow_run_created(first)
        assert recorder.flush(60)
    # Another recorder (another process) creates the same run, with more to say.
    again = FlowRun(first.id, first.name, "twice", frozenset({"etl"}), {"x": 1}, None, None,
                    first.expected_start_time)
    again._state = Running()
    with active(store.recorder(tmp_path / "b")) as recorder:
        recorder.flow_run_created(again)
        recorder.state_set(first.id, False, Completed())
        assert recorder.flush(60)
        assert recorder.records_set_aside == 0
    run = store.read(f"/flow_runs/{first.id}")
    assert run["parameters"] == {"x": 1} and run["tags"] == ["etl"]
    assert run["state_type"] == "COMPLETED" and run["run_count"] == 1
    assert run["start_time"] is not None and run["end_time"] is not None
    # Fields the first writer gave are kept: a third creation changes nothing.
    third = FlowRun(first.id, first.name, "twice", frozenset({"other"}), {"x": 2}, None, None,
                    first.expected_start_time)
    with active(store.recorder(tmp_path / "c")) as recorder:
        recorder.flow_run_created(third)
        assert recorder.flush(60)
    after = store.read(f"/flow_runs/{first.id}")
    assert (after["parameters"], after["tags"], after["updated"]) == (
        {"x": 1}, ["etl"], run["updated"])


def _task_batch(flow_run_id: str, task_id: str) -> dict[str, Any]:
    return {"task_runs": [{"id": task_id, "flow_run_id": flow_run_id, "task_key": "k",
                           "dynamic_key": "0", "name": "k-0", "tags": []}],
            "states": [{"id": str(uuid.uuid4()), "run_id": task_id, "run_kind": "task",
                        "type": "RUNNING", "timestamp": "2024-01-01T00:00:00+00:00"}]}


def test_a_duplicate_task_identity_is_refused_by_name_never_stored_half(tmp_path: Path) -> None:
    con = asyncio.run(SQLiteTransport(tmp_path / "h.db").open())._con
    assert con is not None
    flow_run_id, first, clone = (str(uuid.uuid4()) for _ in range(3))
    write_batch(con, {"flow_runs": [{"id": flow_run_id, "flow_name": "f", "name": "r"}],
                      **_task_batch(flow_run_id, first)})
    with pytest.raises(UnknownRunsError, match=f"task run.*{clone}.*same identity"):
        write_batch(con, _task_batch(flow_run_id, clone))
    rows = sqlite3.connect(tmp_path / "h.db").execute(
        "SELECT count(*), (SELECT count(*) FROM task_run_state) FROM task_run").fetchone()
    assert rows == (1, 1)  # the clone's state was not stored without its row


def test_a_duplicate_task_identity_is_set_aside_by_the_recorder(store: Store,
                                                                 tmp_path: Path) -> None:
    flow_run_id, first = str(uuid.uuid4()), str(uuid.uuid4())
    assert store.post("/records/batch", {
        "flow_runs": [{"id": flow_run_id, "flow_name": "f", "name": "r"}],
        **_task_batch(flow_run_id, first)}).status_code == 200
    clone = TaskRun(uuid.uuid4(), "k-0", "k", "k", "0", uuid.UUID(flow_run_id), frozenset(),
                    dt.datetime.now(dt.timezone.utc))
    clone._state = Running()
    recorder = store.recorder(tmp_path / "spool")
    with active(recorder):
        recorder.task_run_created(clone)  # in the same batch as the clean run
        state = clean(return_state=True)
        assert recorder.flush(60)
    assert store.read(f"/flow_runs/{state.state_details.flow_run_id}")["state_type"] == (
        "COMPLETED")
    reasons = " ".join(p.read_text() for p in (tmp_path / "spool" / "rejected").glob("*.reason"))
    assert str(clone.id) in reasons and "same identity" in reasons
    assert recorder.records_set_aside == 2  # the clone's row and its state
    assert store.read(f"/task_runs/{clone.id}") is None


def test_a_spooled_batch_with_an_orphan_state_ships_the_rest(store: Store,
                                                             tmp_path: Path) -> None:
    from headwater._private.recording.spool import ship_spool

    spool = tmp_path / "spool"
    spool.mkdir()
    flow_run_id, ghost = str(uuid.uuid4()), str(uuid.uuid4())
    batch = {"flow_runs": [{"id": flow_run_id, "flow_name": "f", "name": "r"}],
             "states": [{"id": str(uuid.uuid4()), "run_id": run_id, "run_kind": "flow",
                         "type": "RUNNING", "timestamp": "2024-01-01T00:00:00+00:00"}
                        for run_id in (flow_run_id, ghost)]}
    (spool / "20260101T000000000001-a.json").write_text(json.dumps(batch))
    (spool / "20260101T000000000002-b.json").write_text(json.dumps(
        {"flows": [{"name": "behind"}]}))

    async def ship() -> Any:
        transport = await store.recorder(tmp_path / "unused")._factory()
        try:
            return await ship_spool(spool, transport)
        finally:
            await transport.close()

    report = asyncio.run(ship())
    assert report.error is None and report.shipped_files == 1  # the batch behind it
    assert [(p.name, ghost in reason) for p, reason in report.rejected] == [
        ("20260101T000000000001-a.json", True)]
    set_aside = json.loads((spool / "rejected" / "20260101T000000000001-a.json").read_text())
    assert [s["run_id"] for s in set_aside["states"]] == [ghost]
    assert not list(spool.glob("*.json"))
    assert store.read(f"/flow_runs/{flow_run_id}")["state_type"] == "RUNNING"

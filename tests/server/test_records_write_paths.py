"""The records batch's two write paths: refusals store nothing, and both store the same rows.

On SQLite the API stores a batch with ``record_statements``' statements (the
embedded recorder's write path); on PostgreSQL with SQLAlchemy Core. The Core
path runs on SQLite too, which lets these tests hold the two to the same rows.
"""

from __future__ import annotations

import copy
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from .server_helpers import at, new_id

pytest.importorskip("sqlalchemy")
pytestmark = pytest.mark.anyio

_TASK_FIELDS = ("id", "flow_run_id", "task_key", "task_name", "dynamic_key", "name", "tags",
                "expected_start_time", "cache_key", "task_version")
_STATE_FIELDS = ("id", "run_id", "run_kind", "type", "name", "message", "timestamp",
                 "state_details", "data")


def _columns(rows: list[dict[str, Any]], fields: tuple[str, ...]) -> dict[str, list[Any]]:
    return {name: [row.get(name) for row in rows] for name in fields}


def _as_columns(body: dict[str, Any]) -> dict[str, Any]:
    out = dict(body)
    if body.get("task_runs"):
        out["task_runs"] = _columns(body["task_runs"], _TASK_FIELDS)
    if body.get("states"):
        out["states"] = _columns(body["states"], _STATE_FIELDS)
    return out


def _task(flow_run_id: str | None, i: int, **fields: Any) -> dict[str, Any]:
    return {"id": new_id(), "flow_run_id": flow_run_id, "task_key": "add", "dynamic_key": str(i),
            "name": f"add-{i}", **fields}


def _state(run_id: str, kind: str, type_: str, seconds: float, **fields: Any) -> dict[str, Any]:
    return {"id": new_id(), "run_id": run_id, "run_kind": kind, "type": type_,
            "timestamp": at(seconds), **fields}


async def _counts(client: Any) -> tuple[int, int, int]:
    return ((await client.post("/flow_runs/count", json={})).json(),
            (await client.post("/task_runs/count", json={})).json(),
            len((await client.post("/flows/filter", json={})).json()))


@pytest.mark.parametrize("shape", ["rows", "columns"])
async def test_a_run_whose_identity_is_taken_fails_the_batch_and_stores_nothing(
        client: Any, shape: str) -> None:
    # The refusal comes after some of the batch was written (on SQLite, from
    # the foreign key of the skipped run's states): all of it is rolled back.
    run_id = new_id()
    first = _task(run_id, 0)
    stored = {"flow_runs": [{"id": run_id, "flow_name": "etl", "name": "r"}],
              "task_runs": [first], "states": [_state(first["id"], "task", "RUNNING", 0)]}
    assert (await client.post("/records/batch", json=stored)).status_code == 200
    before = await _counts(client)
    other_run = new_id()
    clone = dict(first, id=new_id())
    fine = _task(other_run, 1)
    body = {"flows": [{"name": "fresh"}],
            "flow_runs": [{"id": other_run, "flow_name": "another", "name": "r2"}],
            "task_runs": [fine, clone],
            "states": [_state(other_run, "flow", "RUNNING", 1),
                       _state(fine["id"], "task", "RUNNING", 1),
                       _state(clone["id"], "task", "COMPLETED", 2)],
            "logs": [{"name": "x", "level": 20, "message": "m", "timestamp": at(1),
                      "flow_run_id": other_run}]}
    response = await client.post("/records/batch",
                                  json=_as_columns(body) if shape == "columns" else body)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert clone["id"] in detail and "task run" in detail and "identity" in detail
    assert fine["id"] not in detail
    assert await _counts(client) == before
    assert (await client.post("/logs/filter", json={})).json() == []
    assert (await client.get(f"/flow_runs/{other_run}")).status_code == 404


@pytest.mark.parametrize("shape", ["rows", "columns"])
async def test_unknown_references_fail_the_batch_and_store_nothing(client: Any,
                                                                   shape: str) -> None:
    run_id, ghost = new_id(), new_id()
    task = _task(run_id, 0)
    body = {"flows": [{"name": "etl"}],
            "flow_runs": [{"id": run_id, "flow_name": "etl", "name": "r"}],
            "task_runs": [task, _task(ghost, 1)],
            "states": [_state(task["id"], "task", "RUNNING", 0)]}
    response = await client.post("/records/batch",
                                 json=_as_columns(body) if shape == "columns" else body)
    assert response.status_code == 422
    assert response.json()["detail"] == (f"unknown flow run ids: {ghost} "
                                         "(not in this batch and not stored)")
    assert await _counts(client) == (0, 0, 0)


# ---------------------------------------------------------------------- same rows
def _batches() -> list[dict[str, Any]]:
    """Batches that exercise every step: new and stored runs, late states, logs, re-sends."""
    parent, child = new_id(), new_id()
    tasks = [_task(parent, i, task_name="add", tags=["math"], expected_start_time=at(i),
                   cache_key="k" if i == 1 else None, task_version="1")
             for i in range(4)]
    tasks.append(_task(None, 9))  # a task run outside any flow run
    # A row's empty name means "not given", as a missing one.
    states = [_state(parent, "flow", "PENDING", 0, name=""), _state(parent, "flow", "RUNNING", 1)]
    for i, task in enumerate(tasks):
        states += [_state(task["id"], "task", "PENDING", i),
                   _state(task["id"], "task", "RUNNING", i + 1, message=f"go {i}",
                          state_details={"cache_key": "k"} if i == 1 else {}),
                   _state(task["id"], "task", "COMPLETED", i + 3, data={"v": i})]
    done = new_id()  # starts and ends within the first batch: no liveness row
    states += [_state(done, "flow", "RUNNING", 0), _state(done, "flow", "COMPLETED", 1)]
    process = {"host": "h", "pid": 7, "process_start": "linux:b:n:1", "heartbeat_interval": 30}
    first = {"flows": [{"name": "etl"}, {"name": "unused"}],
             "flow_runs": [{"id": parent, "flow_name": "etl", "name": "p",
                            "parameters": {"n": 4}, "tags": ["nightly"],
                            "expected_start_time": at(0), "flow_version": "abc"},
                           {"id": child, "flow_name": "sub", "name": "c",
                            "parent_flow_run_id": parent, "parent_task_run_id": tasks[0]["id"]},
                           {"id": done, "flow_name": "etl", "name": "d"}],
             "task_runs": tasks[:3], "states": states[:8] + states[-2:],
             "liveness": [{"flow_run_id": run, **process} for run in (parent, child, done)],
             "logs": [{"id": new_id(), "name": "l", "level": 20, "message": "hi",
                       "timestamp": at(1), "flow_run_id": parent, "task_run_id": tasks[0]["id"]}]}
    later = {"task_runs": tasks[3:], "states": [
        *states[8:-2],
        _state(tasks[0]["id"], "task", "RUNNING", 0.5, name="Retrying"),  # late: history only
        _state(child, "flow", "COMPLETED", 9), _state(parent, "flow", "COMPLETED", 10)]}
    return [first, _as_columns(later), first, later]


def _rows(path: Path) -> dict[str, list[dict[str, Any]]]:
    con = sqlite3.connect(path)
    out = {}
    for table in ("flow", "flow_run", "task_run", "flow_run_state", "task_run_state", "log",
                  "flow_run_liveness"):
        cursor = con.execute(f"SELECT * FROM {table}")
        names = [d[0] for d in cursor.description]
        made_here = {"created", "updated", "flow_id", "last_heartbeat"} | (
            {"id"} if table == "flow" else set())
        rows = []
        for values in cursor:
            row = dict(zip(names, values, strict=True))
            if row.get("expected_start_time") == row["created"]:
                row["expected_start_time"] = "created"  # not given: the time of writing
            rows.append({k: v for k, v in row.items() if k not in made_here})
        out[table] = sorted(rows, key=lambda r: json.dumps(r, sort_keys=True))
    con.close()
    return out


async def _store(path: Path, batches: list[dict[str, Any]], core: bool) -> list[Any]:
    from headwater.server.api.records import _validate_columns
    from headwater.server.database.engine import Database
    from headwater.server.services import records

    db = Database(f"sqlite:///{path}")
    answers = []
    try:
        for body in batches:
            columns = records.Columns()
            batch = _validate_columns(copy.deepcopy(body), columns)

            async def work(conn: Any, batch: Any = batch, columns: Any = columns) -> Any:
                if core:
                    return await records._record_core(conn, records._merge_rows(batch, columns))
                return await records.record_batch(conn, batch, columns)

            answers.append((await db.write(work)).model_dump())
    finally:
        await db.aclose()
    return answers


async def test_sqlite_statements_store_what_sqlalchemy_core_stores(tmp_path: Path) -> None:
    batches = _batches()
    core = await _store(tmp_path / "core.db", batches, core=True)
    statements = await _store(tmp_path / "statements.db", batches, core=False)
    assert statements == core
    assert core[2] == core[3] == {"flows": 0, "flow_runs": 0, "task_runs": 0, "states": 0,
                                  "logs": 0}
    mine, theirs = _rows(tmp_path / "statements.db"), _rows(tmp_path / "core.db")
    assert mine == theirs
    assert len(mine["task_run"]) == 5 and {r["state_type"] for r in mine["task_run"]} == {
        "COMPLETED"}
    assert {r["state_type"] for r in mine["flow_run"]} == {"COMPLETED"}
    # Liveness rows came with the runs, for those not final when their batch was stored.
    assert [(r["host"], r["pid"], r["process_start"], r["heartbeat_interval"])
            for r in mine["flow_run_liveness"]] == [("h", 7, "linux:b:n:1", 30.0)] * 2
    runs = {r["id"]: r["name"] for r in mine["flow_run"]}
    assert sorted(runs[r["flow_run_id"]] for r in mine["flow_run_liveness"]) == ["c", "p"]

"""``POST /api/records/batch``: correctness, idempotency, validation, throughput."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from .server_helpers import at, new_id

pytestmark = pytest.mark.anyio


def _batch(n_tasks: int = 3, flow_run_id: str | None = None) -> dict[str, Any]:
    run_id = flow_run_id or new_id()
    tasks = [{"id": new_id(), "flow_run_id": run_id, "task_key": "add", "dynamic_key": str(i),
              "name": f"add-{i}", "task_name": "add", "tags": ["math"],
              "expected_start_time": at(i)} for i in range(n_tasks)]
    states = [{"id": new_id(), "run_id": run_id, "run_kind": "flow", "type": "RUNNING",
               "timestamp": at(0)}]
    for i, task in enumerate(tasks):
        for k, type_ in enumerate(("PENDING", "RUNNING", "COMPLETED")):
            states.append({"id": new_id(), "run_id": task["id"], "run_kind": "task",
                           "type": type_, "timestamp": at(i + k), "message": f"{type_} {i}"})
    return {
        "flows": [{"name": "etl"}],
        "flow_runs": [{"id": run_id, "flow_name": "etl", "name": "brave-otter",
                       "parameters": {"n": n_tasks}, "tags": ["nightly"],
                       "expected_start_time": at(0)}],
        "task_runs": tasks,
        "states": states,
        "logs": [{"id": new_id(), "name": "headwater.task_runs", "level": 20, "message": "hi",
                  "timestamp": at(1), "flow_run_id": run_id, "task_run_id": tasks[0]["id"]}],
    }


async def _post(client: Any, body: Any) -> Any:
    return await client.post("/records/batch", json=body)


async def test_batch_stores_runs_states_and_logs(client: Any) -> None:
    body = _batch(3)
    response = await _post(client, body)
    assert response.status_code == 200, response.text
    assert response.json() == {"flows": 1, "flow_runs": 1, "task_runs": 3, "states": 10,
                               "logs": 1}
    run_id = body["flow_runs"][0]["id"]
    run = (await client.get(f"/flow_runs/{run_id}")).json()
    assert run["name"] == "brave-otter" and run["parameters"] == {"n": 3}
    assert run["state_type"] == "RUNNING" and run["run_count"] == 1
    task = (await client.get(f"/task_runs/{body['task_runs'][2]['id']}")).json()
    assert task["state_type"] == "COMPLETED" and task["state"]["message"] == "COMPLETED 2"
    assert task["run_count"] == 1 and task["state_version"] == 3
    assert task["start_time"].startswith("2024-01-01T00:00:03")
    assert task["end_time"].startswith("2024-01-01T00:00:04")
    assert task["total_run_time"] == 1.0 and task["task_name"] == "add"
    states = (await client.get("/task_run_states/",
                               params={"task_run_id": task["id"]})).json()
    assert [s["type"] for s in states] == ["PENDING", "RUNNING", "COMPLETED"]
    count = await client.post("/task_runs/count", json={
        "task_runs": {"flow_run_id": {"any_": [run_id]},
                      "state": {"type": {"any_": ["COMPLETED"]}}}})
    assert count.json() == 3
    logs = (await client.post("/logs/filter", json={})).json()
    assert [g["message"] for g in logs] == ["hi"]


async def test_resending_a_batch_changes_nothing(client: Any) -> None:
    body = _batch(5)
    assert (await _post(client, body)).status_code == 200
    task_id = body["task_runs"][0]["id"]
    before = (await client.get(f"/task_runs/{task_id}")).json()
    again = await _post(client, body)
    assert again.status_code == 200
    assert again.json() == {"flows": 0, "flow_runs": 0, "task_runs": 0, "states": 0, "logs": 0}
    after = (await client.get(f"/task_runs/{task_id}")).json()
    assert after == before
    assert (await client.post("/task_runs/count", json={})).json() == 5
    assert len((await client.post("/logs/filter", json={})).json()) == 1


async def test_states_arriving_in_later_batches_and_out_of_order(client: Any) -> None:
    first = _batch(1)
    task_id = first["task_runs"][0]["id"]
    # Keep only PENDING for the task in the first batch.
    first["states"] = [s for s in first["states"] if s["type"] != "COMPLETED"
                       and not (s["run_id"] == task_id and s["type"] == "RUNNING")]
    assert (await _post(client, first)).status_code == 200
    late = {"states": [
        {"id": new_id(), "run_id": task_id, "run_kind": "task", "type": "COMPLETED",
         "timestamp": at(30)},
        {"id": new_id(), "run_id": task_id, "run_kind": "task", "type": "RUNNING",
         "timestamp": at(10)},
    ]}
    response = await _post(client, late)
    assert response.json()["states"] == 2
    task = (await client.get(f"/task_runs/{task_id}")).json()
    assert task["state_type"] == "COMPLETED" and task["run_count"] == 1
    assert task["total_run_time"] == 20.0
    # An older state arriving last joins the history but does not become current.
    older = {"states": [{"id": new_id(), "run_id": task_id, "run_kind": "task",
                         "type": "RUNNING", "name": "Retrying", "timestamp": at(5)}]}
    assert (await _post(client, older)).json()["states"] == 1
    task = (await client.get(f"/task_runs/{task_id}")).json()
    assert task["state_type"] == "COMPLETED" and task["run_count"] == 2
    assert task["start_time"].startswith("2024-01-01T00:00:05")
    # Re-sending a batch that mixes stored and new states stores only the new ones.
    mixed = {"states": [*late["states"], {"id": new_id(), "run_id": task_id,
                                          "run_kind": "task", "type": "FAILED",
                                          "timestamp": at(40)}]}
    assert (await _post(client, mixed)).json()["states"] == 1
    assert (await client.get(f"/task_runs/{task_id}")).json()["state_type"] == "FAILED"


async def test_a_cancel_request_stays_current_until_the_run_ends(client: Any) -> None:
    # Another process asks to cancel a running flow run. Its own process, not
    # having noticed yet, records a pause and a retry: those join the history,
    # and the request stays current (so the process's watcher still sees it),
    # until the run's final state.
    body = _batch(1)
    run_id = body["flow_runs"][0]["id"]
    assert (await _post(client, body)).status_code == 200
    response = await client.post(f"/flow_runs/{run_id}/set_state", json={
        "state": {"type": "CANCELLING", "timestamp": at(10)}})
    assert response.json()["status"] == "ACCEPT", response.text

    def recorded(type_: str, seconds: float) -> dict[str, Any]:
        return {"states": [{"id": new_id(), "run_id": run_id, "run_kind": "flow",
                            "type": type_, "timestamp": at(seconds)}]}

    for type_, seconds in (("PAUSED", 11), ("RUNNING", 12)):
        assert (await _post(client, recorded(type_, seconds))).json()["states"] == 1
        run = (await client.get(f"/flow_runs/{run_id}")).json()
        assert run["state_type"] == "CANCELLING" and run["end_time"] is None
    assert run["run_count"] == 2  # the RUNNING state still counts: the run ran again
    assert (await _post(client, recorded("CANCELLED", 13))).json()["states"] == 1
    run = (await client.get(f"/flow_runs/{run_id}")).json()
    assert run["state_type"] == "CANCELLED" and run["end_time"].startswith("2024-01-01T00:00:13")
    history = (await client.get("/flow_run_states/", params={"flow_run_id": run_id})).json()
    assert [s["type"] for s in history] == ["RUNNING", "CANCELLING", "PAUSED", "RUNNING",
                                            "CANCELLED"]


async def test_unknown_run_ids_fail_the_whole_batch(client: Any) -> None:
    body = _batch(2)
    ghost_task, ghost_flow = new_id(), new_id()
    body["states"].append({"id": new_id(), "run_id": ghost_task, "run_kind": "task",
                           "type": "RUNNING", "timestamp": at(1)})
    body["logs"].append({"name": "x", "level": 20, "message": "m", "timestamp": at(1),
                         "flow_run_id": ghost_flow})
    response = await _post(client, body)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert ghost_task in detail and ghost_flow in detail
    assert "task run" in detail and "flow run" in detail
    # Nothing was written.
    assert (await client.post("/flow_runs/count", json={})).json() == 0
    assert (await client.post("/task_runs/count", json={})).json() == 0
    assert (await client.post("/flows/filter", json={})).json() == []
    # A flow run known from an earlier batch may be referenced.
    known = _batch(1)
    assert (await _post(client, {"flow_runs": known["flow_runs"]})).status_code == 200
    rest = {"task_runs": known["task_runs"], "states": known["states"]}
    assert (await _post(client, rest)).status_code == 200


async def test_task_run_with_an_unknown_flow_run_is_refused(client: Any) -> None:
    orphan = {"task_runs": [{"id": new_id(), "flow_run_id": new_id(), "task_key": "k",
                             "dynamic_key": "0", "name": "k-0"}]}
    response = await _post(client, orphan)
    assert response.status_code == 422 and "unknown flow run ids" in response.json()["detail"]


async def test_same_task_identity_under_another_id_is_refused(client: Any) -> None:
    body = _batch(1)
    assert (await _post(client, body)).status_code == 200
    clone = dict(body["task_runs"][0], id=new_id())
    response = await _post(client, {"task_runs": [clone], "states": [
        {"id": new_id(), "run_id": clone["id"], "run_kind": "task", "type": "RUNNING",
         "timestamp": at(9)}]})
    assert response.status_code == 422
    assert clone["id"] in response.json()["detail"]


@pytest.mark.parametrize("body", [
    b"{not json", b"[]", b'{"states": [{"id": "nope"}]}', b'{"unknown": []}',
    b'{"logs": [{"name": "x", "level": -1, "message": "m", "timestamp": "2024-01-01T00:00:00Z"}]}',
    b'{"states": [{"id": "7b5d3c84-2b9e-4a8b-9d6f-0e8c2d1b1a11", '
    b'"run_id": "7b5d3c84-2b9e-4a8b-9d6f-0e8c2d1b1a12", "run_kind": "job", '
    b'"type": "RUNNING", "timestamp": "2024-01-01T00:00:00Z"}]}',
])
async def test_malformed_batches_are_422(client: Any, body: bytes) -> None:
    response = await client.post("/records/batch", content=body,
                                 headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"][0] == "body"


async def test_empty_batch(client: Any) -> None:
    response = await _post(client, {})
    assert response.status_code == 200 and set(response.json().values()) == {0}


def _large_batch(n_tasks: int) -> bytes:
    run_id = new_id()
    now = dt.datetime.now(dt.timezone.utc)
    tasks = [{"id": new_id(), "flow_run_id": run_id, "task_key": "t", "dynamic_key": str(i),
              "name": f"t-{i}", "tags": [], "expected_start_time": now.isoformat()}
             for i in range(n_tasks)]
    states = [{"id": new_id(), "run_id": t["id"], "run_kind": "task", "type": type_,
               "timestamp": (now + dt.timedelta(milliseconds=k)).isoformat()}
              for t in tasks for k, type_ in enumerate(("PENDING", "RUNNING", "COMPLETED"))]
    return json.dumps({"flow_runs": [{"id": run_id, "flow_name": "big", "name": "big-run"}],
                       "task_runs": tasks, "states": states}).encode()


@pytest.mark.slow
async def test_a_large_batch_is_stored_whole(client: Any) -> None:
    """40,000 records (10,000 task runs + 30,000 states) in one request, all stored.

    How fast is measured by ``benchmarks/bench_records_batch.py``, not here.
    """
    body = _large_batch(10_000)
    response = await client.post("/records/batch", content=body,
                                 headers={"content-type": "application/json"})
    assert response.status_code == 200, response.text[:500]
    assert response.json()["states"] == 30_000
    assert (await client.post("/task_runs/count", json={"task_runs": {
        "state": {"type": {"any_": ["COMPLETED"]}}}})).json() == 10_000


def test_new_run_bookkeeping_matches_fold() -> None:
    """The batch's fast bookkeeping for new runs agrees with ``fold`` on any history."""
    import random
    import uuid

    from headwater._private.storage.bookkeeping import Book, fold
    from headwater.server.services.records import _new_book

    rng = random.Random(7)
    base = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    types = ("SCHEDULED", "PENDING", "RUNNING", "COMPLETED", "FAILED", "PAUSED")
    for _ in range(500):
        states = [{"id": uuid.uuid4(), "type": rng.choice(types), "name": rng.choice(["x", None]),
                   "timestamp": base + dt.timedelta(seconds=rng.randrange(5))}
                  for _ in range(rng.randrange(1, 6))]
        assert _new_book(list(states)) == fold(Book(), states).values()


# ------------------------------------------------------------------ columns
_TASK_FIELDS = ("id", "flow_run_id", "task_key", "task_name", "dynamic_key", "name", "tags",
                "expected_start_time")
_STATE_FIELDS = ("id", "run_id", "run_kind", "type", "name", "message", "timestamp",
                 "state_details")


def _columns(rows: list[dict[str, Any]], fields: tuple[str, ...]) -> dict[str, list[Any]]:
    return {name: [row.get(name) for row in rows] for name in fields}


def _as_columns(body: dict[str, Any]) -> dict[str, Any]:
    """The batch with task runs and states as columns (as the recorder sends them)."""
    return {**body, "task_runs": _columns(body["task_runs"], _TASK_FIELDS),
            "states": _columns(body["states"], _STATE_FIELDS)}


def _renamed(body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """A copy of the batch under fresh ids, and the map back to the old ids."""
    text = json.dumps(body)
    back = {}
    old_ids = [r["id"] for r in (*body["flow_runs"], *body["task_runs"], *body["states"],
                                 *body["logs"])]
    for old in old_ids:
        new = new_id()
        text = text.replace(old, new)
        back[new] = old
    return json.loads(text), back


async def _snapshot(client: Any, run_id: str, back: dict[str, str]) -> Any:
    """What the API says about a flow run's task runs and states, in old ids, minus times."""
    tasks = (await client.post("/task_runs/filter", json={
        "task_runs": {"flow_run_id": {"any_": [run_id]}}})).json()
    out = {"run": (await client.get(f"/flow_runs/{run_id}")).json(),
           "flow_states": (await client.get("/flow_run_states/",
                                            params={"flow_run_id": run_id})).json(),
           "tasks": sorted(tasks, key=lambda r: r["dynamic_key"]),
           "states": [(await client.get("/task_run_states/", params={"task_run_id": r["id"]})
                       ).json() for r in sorted(tasks, key=lambda r: r["dynamic_key"])]}
    text = json.dumps(out)
    for new, old in back.items():
        text = text.replace(new, old)

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items()
                    if k not in ("created", "updated", "flow_id")
                    and "estimated" not in k}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return strip(json.loads(text))


async def test_columns_store_the_same_as_rows(client: Any) -> None:
    rows = _batch(4)
    rows["states"][3]["state_details"] = {"cache_key": "k"}
    rows["states"][4]["name"] = "Retrying"
    copy, back = _renamed(rows)
    first = await _post(client, rows)
    second = await _post(client, _as_columns(copy))
    assert first.status_code == second.status_code == 200, second.text
    assert second.json() == {**first.json(), "flows": 0}
    run_id = rows["flow_runs"][0]["id"]
    expected = await _snapshot(client, run_id, {})
    got = await _snapshot(client, copy["flow_runs"][0]["id"], back)
    assert got == expected
    assert expected["tasks"][0]["state_type"] == "COMPLETED"


async def test_columns_resent_or_sent_as_rows_change_nothing(client: Any) -> None:
    body = _batch(5)
    columns = _as_columns(body)
    assert (await _post(client, columns)).json()["task_runs"] == 5
    task_id = body["task_runs"][0]["id"]
    before = (await client.get(f"/task_runs/{task_id}")).json()
    zero = {"flows": 0, "flow_runs": 0, "task_runs": 0, "states": 0, "logs": 0}
    assert (await _post(client, columns)).json() == zero
    assert (await _post(client, body)).json() == zero
    assert (await client.get(f"/task_runs/{task_id}")).json() == before
    assert (await client.post("/task_runs/count", json={})).json() == 5


async def test_column_states_for_runs_stored_earlier(client: Any) -> None:
    body = _batch(2)
    later = [s for s in body["states"] if s["type"] != "PENDING"]
    body["states"] = [s for s in body["states"] if s["type"] == "PENDING"]
    assert (await _post(client, _as_columns(body))).json()["states"] == 2
    rest = {"states": _columns(later, _STATE_FIELDS)}
    assert (await _post(client, rest)).json()["states"] == len(later)
    task = (await client.get(f"/task_runs/{body['task_runs'][1]['id']}")).json()
    assert task["state_type"] == "COMPLETED" and task["run_count"] == 1
    assert task["state_version"] == 3 and task["total_run_time"] == 1.0
    ghost = {"states": {"id": [new_id()], "run_id": [new_id()], "run_kind": ["task"],
                        "type": ["RUNNING"], "timestamp": [at(1)]}}
    response = await _post(client, ghost)
    assert response.status_code == 422 and "unknown task run ids" in response.json()["detail"]


def _state_columns(**changes: Any) -> dict[str, Any]:
    columns = {"id": [new_id(), new_id()], "run_id": [new_id(), new_id()],
               "run_kind": ["task", "task"], "type": ["RUNNING", "COMPLETED"],
               "timestamp": [at(0), at(1)]}
    columns.update(changes)
    return {"states": columns}


@pytest.mark.parametrize("body", [
    _state_columns(type=["RUNNING"]),  # unequal lengths
    _state_columns(id=[new_id(), "not-a-uuid"]),
    _state_columns(id=[new_id(), 7]),
    _state_columns(type=["RUNNING", "DONE"]),
    _state_columns(run_kind=["task", "job"]),
    _state_columns(timestamp=[at(0), "yesterday"]),
    _state_columns(timestamp=[at(0), None]),
    _state_columns(message=["m", 3]),
    _state_columns(state_details=[{}, "x"]),
    _state_columns(extra=[1, 2]),
    _state_columns(id="not a column"),
    {"task_runs": {"id": [new_id()], "flow_run_id": [None], "task_key": ["k"],
                   "dynamic_key": ["0"], "name": []}},
    {"task_runs": {"id": [new_id()], "flow_run_id": ["bad"], "task_key": ["k"],
                   "dynamic_key": ["0"], "name": ["k-0"]}},
    {"task_runs": {"id": [new_id()], "flow_run_id": [None], "task_key": ["k"],
                   "dynamic_key": ["0"], "name": ["k-0"], "tags": [[1]]}},
    {"task_runs": {"id": [new_id()], "flow_run_id": [None], "task_key": ["k"],
                   "dynamic_key": ["0"], "name": ["k-0"], "expected_start_time": ["soon"]}},
    {"task_runs": {"id": [new_id()], "flow_run_id": [None], "task_key": ["k"],
                   "dynamic_key": ["0"]}},
])
async def test_malformed_columns_are_422(client: Any, body: dict[str, Any]) -> None:
    response = await _post(client, body)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert detail and detail[0]["loc"][0] == "body" and detail[0]["msg"]
    assert (await client.post("/task_runs/count", json={})).json() == 0


async def test_columns_the_fast_checks_doubt_still_go_through(client: Any) -> None:
    """Upper-case ids, other time formats, null names: valid, through the row path if need be."""
    body = _batch(1)
    run = body["flow_runs"][0]["id"]
    task = body["task_runs"][0]
    task["id"] = task["id"].upper()
    task["expected_start_time"] = "2024-01-01T00:00:00Z"
    columns = _as_columns(body)
    columns["states"]["run_id"] = [r.upper() for r in columns["states"]["run_id"]]
    columns["states"]["timestamp"][-1] = "2024-01-01T00:00:09"
    response = await _post(client, columns)
    assert response.status_code == 200, response.text
    assert response.json()["states"] == 4
    stored = (await client.get(f"/task_runs/{task['id'].lower()}")).json()
    assert stored["flow_run_id"] == run and stored["state_type"] == "COMPLETED"
    assert stored["end_time"].startswith("2024-01-01T00:00:09")


async def test_large_columns_batch(client: Any) -> None:
    rows = json.loads(_large_batch(2_000))
    body = {**rows, "task_runs": _columns(rows["task_runs"], _TASK_FIELDS),
            "states": _columns(rows["states"], _STATE_FIELDS)}
    response = await _post(client, body)
    assert response.status_code == 200, response.text[:500]
    assert response.json()["task_runs"] == 2_000 and response.json()["states"] == 6_000
    assert (await client.post("/task_runs/count", json={"task_runs": {
        "state": {"type": {"any_": ["COMPLETED"]}}}})).json() == 2_000

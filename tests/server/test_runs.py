"""Flow runs and task runs: creation, idempotency, reads, filters, counts, state history."""

from __future__ import annotations

from typing import Any

import pytest

from .server_helpers import (
    at,
    make_flow,
    make_flow_run,
    make_task_run,
    new_id,
    set_state,
)

pytestmark = pytest.mark.anyio


async def test_create_flow_run_with_client_id_twice_returns_the_same_run(client: Any) -> None:
    flow = await make_flow(client)
    run_id = new_id()
    body = {"flow_id": flow["id"], "id": run_id, "name": "first", "parameters": {"x": 1},
            "tags": ["a"], "state": {"type": "PENDING"}}
    first = await client.post("/flow_runs/", json=body)
    second = await client.post("/flow_runs/", json={**body, "name": "second"})
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["id"] == run_id and second.json()["name"] == "first"
    run = (await client.get(f"/flow_runs/{run_id}")).json()
    assert run["parameters"] == {"x": 1} and run["tags"] == ["a"]
    assert run["state_type"] == "PENDING" and run["state"]["name"] == "Pending"
    assert run["state"]["state_details"]["flow_run_id"] == run_id


async def test_idempotency_key_returns_the_existing_run(client: Any) -> None:
    flow = await make_flow(client)
    body = {"flow_id": flow["id"], "idempotency_key": "nightly-2024-01-01"}
    first = await client.post("/flow_runs/", json=body)
    second = await client.post("/flow_runs/", json=body)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert first.json()["name"]  # a generated adjective-animal name


async def test_flow_run_of_unknown_flow_is_422(client: Any) -> None:
    response = await client.post("/flow_runs/", json={"flow_id": new_id()})
    assert response.status_code == 422 and "not found" in response.json()["detail"]


async def test_missing_runs_are_404(client: Any) -> None:
    for path in (f"/flow_runs/{new_id()}", f"/task_runs/{new_id()}",
                 f"/flow_run_states/{new_id()}", f"/task_run_states/{new_id()}"):
        assert (await client.get(path)).status_code == 404
    response = await client.post(f"/flow_runs/{new_id()}/set_state",
                                 json={"state": {"type": "RUNNING"}})
    assert response.status_code == 404


async def test_task_run_idempotent_by_task_key_and_dynamic_key(client: Any) -> None:
    run = await make_flow_run(client)
    first = await make_task_run(client, run["id"], "add", "0", tags=["x"])
    again = await client.post("/task_runs/", json={
        "flow_run_id": run["id"], "task_key": "add", "dynamic_key": "0", "id": new_id()})
    assert again.status_code == 200 and again.json()["id"] == first["id"]
    assert first["name"] == "add-0"
    other = await make_task_run(client, run["id"], "add", "1")
    assert other["id"] != first["id"]
    bad = await client.post("/task_runs/", json={
        "flow_run_id": new_id(), "task_key": "add", "dynamic_key": "0"})
    assert bad.status_code == 422


async def test_state_history_and_bookkeeping(client: Any) -> None:
    run = await make_flow_run(client)
    task = await make_task_run(client, run["id"])
    for kind, run_id in (("flow", run["id"]), ("task", task["id"])):
        for type_ in ("PENDING", "RUNNING", "COMPLETED"):
            result = await set_state(client, kind, run_id, type_)
            assert result["status"] == "ACCEPT", result
        states = (await client.get(f"/{kind}_run_states/", params={f"{kind}_run_id": run_id}))
        assert [s["type"] for s in states.json()] == ["PENDING", "RUNNING", "COMPLETED"]
        one = states.json()[1]
        assert (await client.get(f"/{kind}_run_states/{one['id']}")).json()["type"] == "RUNNING"
        got = (await client.get(f"/{kind}_runs/{run_id}")).json()
        assert got["state_type"] == "COMPLETED" and got["run_count"] == 1
        assert got["state_version"] == 3
        assert got["start_time"] is not None and got["end_time"] is not None
        assert got["total_run_time"] >= 0


async def _filter(client: Any, kind: str, body: dict[str, Any]) -> list[str]:
    response = await client.post(f"/{kind}_runs/filter", json=body)
    assert response.status_code == 200, response.text
    return [r["name"] for r in response.json()]


async def _count(client: Any, kind: str, body: dict[str, Any]) -> int:
    response = await client.post(f"/{kind}_runs/count", json=body)
    assert response.status_code == 200, response.text
    return int(response.json())


async def test_flow_run_filters_sort_and_pages(client: Any) -> None:
    parent = await make_flow_run(client, "parent", name="p", expected_start_time=at(0))
    runs = {}
    for i, (flow, tags, state) in enumerate([
        ("etl", ["prod", "db"], "COMPLETED"), ("etl", ["prod"], "FAILED"),
        ("etl", [], "RUNNING"), ("report", ["db"], "COMPLETED"),
    ]):
        run = await make_flow_run(client, flow, name=f"r{i}", tags=tags,
                                  expected_start_time=at(10 * (i + 1)),
                                  parent_flow_run_id=parent["id"] if i < 2 else None)
        await set_state(client, "flow", run["id"], state)
        runs[f"r{i}"] = run
    asc = {"sort": "EXPECTED_START_TIME_ASC"}
    assert await _filter(client, "flow", asc) == ["p", "r0", "r1", "r2", "r3"]
    assert await _filter(client, "flow", {"sort": "NAME_DESC", "limit": 2, "offset": 1}) == [
        "r2", "r1"]
    assert await _filter(client, "flow", {**asc, "flows": {"name": {"any_": ["etl"]}}}) == [
        "r0", "r1", "r2"]
    by_id = {**asc, "flows": {"id": {"any_": [(await make_flow(client, "report"))["id"]]}}}
    assert await _filter(client, "flow", by_id) == ["r3"]
    state = {**asc, "flow_runs": {"state": {"type": {"any_": ["COMPLETED", "FAILED"]}}}}
    assert await _filter(client, "flow", state) == ["r0", "r1", "r3"]
    not_state = {**asc, "flow_runs": {"state": {"type": {"not_any_": ["COMPLETED"]}}}}
    assert await _filter(client, "flow", not_state) == ["p", "r1", "r2"]
    tags_all = {**asc, "flow_runs": {"tags": {"all_": ["prod", "db"]}}}
    assert await _filter(client, "flow", tags_all) == ["r0"]
    tags_any = {**asc, "flow_runs": {"tags": {"any_": ["db", "nope"]}}}
    assert await _filter(client, "flow", tags_any) == ["r0", "r3"]
    no_tags = {**asc, "flow_runs": {"tags": {"is_null_": True}}}
    assert await _filter(client, "flow", no_tags) == ["p", "r2"]
    window = {**asc, "flow_runs": {"expected_start_time": {"after_": at(15), "before_": at(30)}}}
    assert await _filter(client, "flow", window) == ["r1", "r2"]
    children = {**asc, "flow_runs": {"parent_flow_run_id": {"any_": [parent["id"]]}}}
    assert await _filter(client, "flow", children) == ["r0", "r1"]
    top = {**asc, "flow_runs": {"parent_flow_run_id": {"is_null_": True}}}
    assert await _filter(client, "flow", top) == ["p", "r2", "r3"]
    started = {**asc, "flow_runs": {"start_time": {"is_null_": False}}}
    assert await _filter(client, "flow", started) == ["r2"]  # only r2 went through RUNNING
    assert await _count(client, "flow", {}) == 5
    assert await _count(client, "flow", {"flows": {"name": {"any_": ["etl"]}},
                                         "flow_runs": {"tags": {"all_": ["prod"]}}}) == 2
    assert runs


async def test_task_run_filters_and_counts(client: Any) -> None:
    one = await make_flow_run(client, "f1")
    two = await make_flow_run(client, "f2")
    for i in range(6):
        run = one if i < 4 else two
        task = await make_task_run(client, run["id"], "t", str(i), name=f"t{i}",
                                   tags=["even"] if i % 2 == 0 else [],
                                   expected_start_time=at(i))
        await set_state(client, "task", task["id"], "COMPLETED" if i % 3 else "FAILED")
    await make_task_run(client, None, "orphan", "0", name="orphan", expected_start_time=at(99))
    asc = {"sort": "EXPECTED_START_TIME_ASC"}
    in_one = {**asc, "task_runs": {"flow_run_id": {"any_": [one["id"]]}}}
    assert await _filter(client, "task", in_one) == ["t0", "t1", "t2", "t3"]
    failed = {**asc, "task_runs": {"state": {"type": {"any_": ["FAILED"]}}}}
    assert await _filter(client, "task", failed) == ["t0", "t3"]
    by_flow = {**asc, "flows": {"name": {"any_": ["f2"]}}}
    assert await _filter(client, "task", by_flow) == ["t4", "t5"]
    by_run_tags = {**asc, "task_runs": {"tags": {"all_": ["even"]}},
                   "flow_runs": {"id": {"any_": [one["id"]]}}}
    assert await _filter(client, "task", by_run_tags) == ["t0", "t2"]
    no_flow = {"task_runs": {"flow_run_id": {"is_null_": True}}}
    assert await _filter(client, "task", no_flow) == ["orphan"]
    assert await _count(client, "task", {}) == 7
    assert await _count(client, "task", {"task_runs": {
        "flow_run_id": {"any_": [one["id"]]}, "state": {"type": {"any_": ["COMPLETED"]}}}}) == 2
    # Flow runs having task runs that match.
    having_failed = {"task_runs": {"state": {"type": {"any_": ["FAILED"]}}}}
    assert await _count(client, "flow", having_failed) == 1
    names = {"task_runs": {"name": {"like_": "T"}}, "sort": "NAME_ASC"}
    assert await _filter(client, "task", names) == ["t0", "t1", "t2", "t3", "t4", "t5"]


async def test_deleting_runs_and_flows_takes_what_belongs_to_them(client: Any) -> None:
    flow_run = await make_flow_run(client, "doomed")
    task_run = await make_task_run(client, flow_run["id"], "t")
    other = await make_task_run(client, flow_run["id"], "t", "1")
    await set_state(client, "task", task_run["id"], "RUNNING")
    log = {"name": "x", "level": 20, "message": "kept", "timestamp": at(0),
           "flow_run_id": flow_run["id"], "task_run_id": task_run["id"]}
    assert (await client.post("/logs/", json=[log])).status_code in (200, 201)
    # A task run alone, with its states.
    assert (await client.delete(f"/task_runs/{task_run['id']}")).status_code == 204
    assert (await client.get(f"/task_runs/{task_run['id']}")).status_code == 404
    states = await client.get("/task_run_states/", params={"task_run_id": task_run["id"]})
    assert states.json() == []
    assert (await client.get(f"/task_runs/{other['id']}")).status_code == 200
    # A flow run, with its task runs; its logs stay.
    assert (await client.delete(f"/flow_runs/{flow_run['id']}")).status_code == 204
    assert (await client.get(f"/flow_runs/{flow_run['id']}")).status_code == 404
    assert (await client.get(f"/task_runs/{other['id']}")).status_code == 404
    logs = await client.post("/logs/filter", json={"logs": {
        "flow_run_id": {"any_": [flow_run["id"]]}}})
    assert [line["message"] for line in logs.json()] == ["kept"]
    missing = await client.delete(f"/flow_runs/{flow_run['id']}")
    assert missing.status_code == 404 and "Flow run not found" in missing.json()["detail"]
    # A flow, with all its runs.
    second = await make_flow_run(client, "doomed")
    assert (await client.delete(f"/flows/{second['flow_id']}")).status_code == 204
    assert (await client.get(f"/flow_runs/{second['id']}")).status_code == 404
    assert (await client.get(f"/flows/{second['flow_id']}")).status_code == 404

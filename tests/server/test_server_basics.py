"""Admin routes, the OpenAPI document, flows, logs and concurrency limits."""

from __future__ import annotations

from typing import Any

import pytest

from .server_helpers import at, make_flow, new_id

pytestmark = pytest.mark.anyio


async def test_health_hello_version(client: Any) -> None:
    import headwater

    assert (await client.get("/health")).json() is True
    assert (await client.get("/hello")).json() == "👋"
    assert (await client.get("/version")).json() == headwater.__version__


async def test_openapi_lists_every_route(client: Any) -> None:
    spec = (await client.get("/openapi.json")).json()
    paths = set(spec["paths"])
    for path in ("/api/flows/", "/api/flow_runs/{id}/set_state", "/api/task_runs/count",
                 "/api/flow_run_states/", "/api/logs/filter", "/api/records/batch",
                 "/api/concurrency_limits/tag/{tag}/reset"):
        assert path in paths
    assert "RecordsBatch" in spec["components"]["schemas"]
    assert "StateRecord" in spec["components"]["schemas"]


async def test_create_flow_is_idempotent_by_name(client: Any) -> None:
    first = await client.post("/flows/", json={"name": "etl", "tags": ["a"]})
    second = await client.post("/flows/", json={"name": "etl"})
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    got = await client.get(f"/flows/{first.json()['id']}")
    assert got.json()["name"] == "etl" and got.json()["tags"] == ["a"]


async def test_read_missing_flow_is_404(client: Any) -> None:
    response = await client.get(f"/flows/{new_id()}")
    assert response.status_code == 404
    assert response.json() == {"detail": "Flow not found."}


async def test_filter_flows(client: Any) -> None:
    for name in ("b-flow", "a-flow", "c-other"):
        await make_flow(client, name)
    names = [f["name"] for f in (await client.post("/flows/filter")).json()]
    assert names == ["a-flow", "b-flow", "c-other"]
    body = {"flows": {"name": {"like_": "FLOW"}}, "sort": "NAME_DESC"}
    names = [f["name"] for f in (await client.post("/flows/filter", json=body)).json()]
    assert names == ["b-flow", "a-flow"]
    page = (await client.post("/flows/filter", json={"limit": 1, "offset": 1})).json()
    assert [f["name"] for f in page] == ["b-flow"]


async def test_logs_create_and_filter(client: Any) -> None:
    run = new_id()
    lines = [{"name": "headwater.flow_runs", "level": 10 * (i % 5 + 1), "message": f"line {i}",
              "timestamp": at(i), "flow_run_id": run} for i in range(10)]
    lines.append({"name": "other", "level": 20, "message": "elsewhere", "timestamp": at(0)})
    assert (await client.post("/logs/", json=lines)).status_code == 201
    body = {"logs": {"flow_run_id": {"any_": [run]}, "level": {"ge_": 30}},
            "sort": "TIMESTAMP_DESC"}
    got = (await client.post("/logs/filter", json=body)).json()
    assert [g["message"] for g in got] == ["line 9", "line 8", "line 7", "line 4", "line 3",
                                           "line 2"]
    window = {"logs": {"timestamp": {"after_": at(2), "before_": at(4)},
                       "flow_run_id": {"any_": [run]}}}
    assert len((await client.post("/logs/filter", json=window)).json()) == 3
    null_runs = {"logs": {"flow_run_id": {"is_null_": True}}}
    assert [g["message"] for g in (await client.post("/logs/filter", json=null_runs)).json()] == [
        "elsewhere"]


async def test_concurrency_limit_crud(client: Any) -> None:
    created = await client.post("/concurrency_limits/", json={"tag": "db", "concurrency_limit": 2})
    assert created.status_code == 201
    updated = await client.post("/concurrency_limits/", json={"tag": "db", "concurrency_limit": 5})
    assert updated.status_code == 200 and updated.json()["id"] == created.json()["id"]
    got = (await client.get("/concurrency_limits/tag/db")).json()
    assert got["concurrency_limit"] == 5 and got["active_slots"] == []
    await client.post("/concurrency_limits/", json={"tag": "api", "concurrency_limit": 1})
    tags = [c["tag"] for c in (await client.post("/concurrency_limits/filter")).json()]
    assert tags == ["api", "db"]
    slot = new_id()
    reset = await client.post("/concurrency_limits/tag/db/reset", json={"slot_override": [slot]})
    assert reset.status_code == 200
    assert (await client.get("/concurrency_limits/tag/db")).json()["active_slots"] == [slot]
    assert (await client.post("/concurrency_limits/tag/db/reset")).status_code == 200
    assert (await client.get("/concurrency_limits/tag/db")).json()["active_slots"] == []
    assert (await client.delete("/concurrency_limits/tag/db")).status_code == 200
    assert (await client.get("/concurrency_limits/tag/db")).status_code == 404
    assert (await client.delete("/concurrency_limits/tag/db")).status_code == 404
    assert (await client.post("/concurrency_limits/tag/nope/reset")).status_code == 404

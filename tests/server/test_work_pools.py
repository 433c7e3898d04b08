"""Work pools, queues and workers through the API and the client, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("fastapi")

pytestmark = pytest.mark.anyio


async def create_pool(client: Any, name: str = "pool", **fields: Any) -> dict[str, Any]:
    response = await client.post("/work_pools/", json={"name": name, **fields})
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_a_pool_comes_with_its_default_queue(client: Any) -> None:
    pool = await create_pool(client, concurrency_limit=2)
    assert (pool["name"], pool["type"], pool["is_paused"], pool["concurrency_limit"]) == (
        "pool", "process", False, 2)
    assert pool["status"] == "NOT_READY"  # no worker yet
    queues = (await client.post("/work_pools/pool/queues/filter")).json()
    assert [(q["name"], q["priority"], q["id"]) for q in queues] == [
        ("default", 1, pool["default_queue_id"])]
    again = await client.post("/work_pools/", json={"name": "pool"})
    assert again.status_code == 409 and "exists already" in again.json()["detail"]


async def test_pools_are_paused_resumed_listed_and_deleted(client: Any) -> None:
    await create_pool(client, "b")
    await create_pool(client, "a")
    assert [p["name"] for p in (await client.post("/work_pools/filter")).json()] == ["a", "b"]
    assert (await client.patch("/work_pools/a", json={"is_paused": True})).status_code == 204
    pool = (await client.get("/work_pools/a")).json()
    assert pool["is_paused"] is True and pool["status"] == "PAUSED"
    assert (await client.delete("/work_pools/a")).status_code == 204
    assert (await client.get("/work_pools/a")).status_code == 404
    assert (await client.delete("/work_pools/a")).status_code == 404
    assert (await client.post("/work_pools/a/queues/filter")).status_code == 404


async def test_queues_have_priority_limits_and_pauses(client: Any) -> None:
    await create_pool(client)
    response = await client.post("/work_pools/pool/queues/",
                                 json={"name": "urgent", "priority": 1, "concurrency_limit": 3})
    assert response.status_code == 201, response.text
    queue = response.json()
    assert (queue["work_pool_name"], queue["concurrency_limit"]) == ("pool", 3)
    await client.patch("/work_pools/pool/queues/default", json={"priority": 5})
    names = [q["name"] for q in (await client.post("/work_pools/pool/queues/filter")).json()]
    assert names == ["urgent", "default"]
    await client.patch("/work_pools/pool/queues/urgent", json={"is_paused": True})
    queue = (await client.get("/work_pools/pool/queues/urgent")).json()
    assert queue["is_paused"] is True and queue["status"] == "PAUSED"
    duplicate = await client.post("/work_pools/pool/queues/", json={"name": "urgent"})
    assert duplicate.status_code == 409
    default = await client.delete("/work_pools/pool/queues/default")
    assert default.status_code == 409 and "default queue" in default.json()["detail"]
    assert (await client.delete("/work_pools/pool/queues/urgent")).status_code == 204
    assert (await client.get("/work_pools/pool/queues/urgent")).status_code == 404


async def test_workers_heartbeat_and_make_the_pool_ready(client: Any) -> None:
    await create_pool(client)
    body = {"name": "w1", "heartbeat_interval_seconds": 30, "labels": ["gpu", "linux"],
            "host": "box"}
    assert (await client.post("/work_pools/pool/workers/heartbeat", json=body)).status_code == 204
    assert (await client.post("/work_pools/pool/workers/heartbeat", json=body)).status_code == 204
    workers = (await client.post("/work_pools/pool/workers/filter")).json()
    assert [(w["name"], w["labels"], w["host"], w["status"]) for w in workers] == [
        ("w1", ["gpu", "linux"], "box", "ONLINE")]
    assert (await client.get("/work_pools/pool")).json()["status"] == "READY"
    missing = await client.post("/work_pools/nope/workers/heartbeat", json=body)
    assert missing.status_code == 404


async def test_a_single_string_for_labels_is_refused_with_a_message(client: Any) -> None:
    await create_pool(client)
    response = await client.post("/work_pools/pool/workers/heartbeat",
                                 json={"name": "w", "labels": "gpu"})
    assert response.status_code == 422
    assert "not the single string 'gpu'" in str(response.json()["detail"])
    response = await client.post("/work_pools/pool/get_scheduled_flow_runs",
                                 json={"labels": "gpu"})
    assert response.status_code == 422
    assert "write ['gpu'] for one label" in str(response.json()["detail"])


async def test_polling_a_pool_marks_its_queues_polled(client: Any) -> None:
    await create_pool(client)
    response = await client.post("/work_pools/pool/get_scheduled_flow_runs",
                                 json={"worker_name": "w", "labels": ["x"]})
    assert response.status_code == 200, response.text
    assert response.json() == []
    queue = (await client.get("/work_pools/pool/queues/default")).json()
    assert queue["last_polled"] is not None and queue["status"] == "READY"
    workers = (await client.post("/work_pools/pool/workers/filter")).json()
    assert [w["name"] for w in workers] == ["w"]
    missing = await client.post("/work_pools/nope/get_scheduled_flow_runs")
    assert missing.status_code == 404


async def test_the_client_methods(app: Any) -> None:
    import httpx

    from headwater.client import HeadwaterClient

    client = HeadwaterClient("http://test/api", transport=httpx.ASGITransport(app=app))
    async with client:
        pool = await client.create_work_pool("p", concurrency_limit=1)
        assert pool["name"] == "p"
        await client.create_work_queue("q", work_pool_name="p", priority=2)
        assert [q["name"] for q in await client.read_work_queues("p")] == ["default", "q"]
        await client.update_work_queue("q", work_pool_name="p", is_paused=True)
        assert (await client.read_work_queue("q", work_pool_name="p"))["is_paused"] is True
        await client.update_work_pool("p", is_paused=True)
        assert (await client.read_work_pool("p"))["status"] == "PAUSED"
        await client.send_worker_heartbeat("p", "w", labels=["a"], host="h")
        assert [w["labels"] for w in await client.read_workers_for_work_pool("p")] == [["a"]]
        assert await client.get_scheduled_flow_runs_for_work_pool("p", labels=["a"]) == []
        with pytest.raises(TypeError, match="not the single string 'a'"):
            await client.send_worker_heartbeat("p", "w", labels="a")
        with pytest.raises(TypeError, match="not the single string 'gpu'"):
            await client.get_scheduled_flow_runs_for_work_pool("p", labels="gpu")
        await client.delete_work_queue("q", work_pool_name="p")
        await client.delete_work_pool("p")
        assert await client.read_work_pools() == []

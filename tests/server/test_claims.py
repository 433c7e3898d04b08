"""Claiming scheduled runs for workers, and why a run waits, on SQLite and PostgreSQL.

The runs of a pool are placed in it by the deployments' flow run columns
(``work_pool_name``, ``work_queue_name``, ``labels``: migration 0006); the
tests that need them are skipped on a schema without them.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import pytest

pytest.importorskip("fastapi")

import sqlalchemy as sa

from headwater.server.database import tables as t
from headwater.server.services.work_pools import placed_in_pools
from server.server_helpers import make_flow_run, set_state

pytestmark = pytest.mark.anyio
needs_pool_columns = pytest.mark.skipif(
    not placed_in_pools(), reason="needs the deployments' flow_run columns (migration 0006)")
PAST = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)


async def scheduled(app: Any, client: Any, *, pool: str | None = "pool",
                    queue: str | None = None, labels: list[str] | None = None,
                    at: dt.datetime = PAST) -> str:
    run = await make_flow_run(client, state={"type": "SCHEDULED"})
    values: dict[str, Any] = {"expected_start_time": at}
    if placed_in_pools():
        values.update(work_pool_name=pool, work_queue_name=queue, labels=labels or [])

    async def place(conn: Any) -> None:
        await conn.execute(sa.update(t.flow_run).where(t.flow_run.c.id == uuid.UUID(run["id"]))
                           .values(**values))

    await app.state.database.write(place)
    return str(run["id"])


async def create_pool(client: Any, name: str = "pool", **fields: Any) -> None:
    response = await client.post("/work_pools/", json={"name": name, **fields})
    assert response.status_code == 201, response.text


async def claim(client: Any, pool: str = "pool", **body: Any) -> list[str]:
    response = await client.post(f"/work_pools/{pool}/get_scheduled_flow_runs", json=body)
    assert response.status_code == 200, response.text
    return [item["flow_run"]["id"] for item in response.json()]


async def reasons(client: Any, run_id: str) -> dict[str, str]:
    response = await client.get(f"/flow_runs/{run_id}/waiting")
    assert response.status_code == 200, response.text
    return {r["code"]: r["message"] for r in response.json()["reasons"]}


# ---------------------------------------------------------------------- without pool columns
async def test_a_run_scheduled_in_the_future_says_when(app: Any, client: Any) -> None:
    future = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=2)
    run_id = await scheduled(app, client, at=future)
    found = await reasons(client, run_id)
    assert "scheduled_in_future" in found and "in 7" in found["scheduled_in_future"]


async def test_a_run_that_is_not_scheduled_is_not_waiting(app: Any, client: Any) -> None:
    run = await make_flow_run(client)
    await set_state(client, "flow", run["id"], "RUNNING")
    assert await reasons(client, run["id"]) == {}
    missing = await client.get(f"/flow_runs/{uuid.uuid4()}/waiting")
    assert missing.status_code == 404


# ---------------------------------------------------------------------- with pool columns
@needs_pool_columns
async def test_a_worker_claims_runs_whose_labels_it_offers(app: Any, client: Any) -> None:
    await create_pool(client)
    plain = await scheduled(app, client)
    gpu = await scheduled(app, client, labels=["gpu"])
    assert await claim(client, labels=["cpu"], worker_name="w") == [plain]
    assert await claim(client, labels=["cpu"]) == []
    assert await claim(client, labels=["gpu", "cpu"]) == [gpu]
    run = (await client.get(f"/flow_runs/{gpu}")).json()
    assert run["state"]["type"] == "PENDING"


@needs_pool_columns
async def test_paused_pools_and_queues_and_limits_are_honoured(app: Any, client: Any) -> None:
    await create_pool(client, concurrency_limit=1)
    first = await scheduled(app, client)
    second = await scheduled(app, client, at=PAST + dt.timedelta(minutes=1))
    await client.patch("/work_pools/pool", json={"is_paused": True})
    assert await claim(client) == []
    await client.patch("/work_pools/pool", json={"is_paused": False})
    assert await claim(client) == [first]
    assert await claim(client) == []  # the pool's one place is taken
    found = await reasons(client, second)
    assert "pool_limit_full" in found and first in found["pool_limit_full"]
    await set_state(client, "flow", first, "COMPLETED", force=True)
    await client.patch("/work_pools/pool/queues/default", json={"is_paused": True})
    assert await claim(client) == []
    assert "queue_paused" in await reasons(client, second)


@needs_pool_columns
async def test_two_workers_racing_start_each_run_exactly_once(app: Any, client: Any) -> None:
    await create_pool(client)
    ids = {await scheduled(app, client) for _ in range(200)}

    async def worker(name: str) -> list[str]:
        taken: list[str] = []
        while batch := await claim(client, worker_name=name, limit=7):
            taken += batch
        return taken

    a, b = await asyncio.gather(worker("a"), worker("b"))
    assert sorted(a + b) == sorted(ids)
    assert not set(a) & set(b)


@needs_pool_columns
async def test_inspect_names_a_label_mismatch_with_both_sets(app: Any, client: Any) -> None:
    await create_pool(client)
    run_id = await scheduled(app, client, labels=["gpu", "eu"])
    assert "no_worker" in await reasons(client, run_id)
    await client.post("/work_pools/pool/workers/heartbeat",
                      json={"name": "w1", "labels": ["gpu"], "heartbeat_interval_seconds": 30})
    found = await reasons(client, run_id)
    assert "['eu', 'gpu']" in found["label_mismatch"] and "['gpu']" in found["label_mismatch"]
    assert "w1" in found["label_mismatch"]


@needs_pool_columns
async def test_inspect_says_when_a_worker_last_polled(app: Any, client: Any) -> None:
    await create_pool(client)
    run_id = await scheduled(app, client)
    await client.post("/work_pools/pool/workers/heartbeat",
                      json={"name": "old", "heartbeat_interval_seconds": 1})

    async def age(conn: Any) -> None:
        await conn.execute(sa.update(t.worker).values(last_heartbeat_time=PAST))

    await app.state.database.write(age)
    found = await reasons(client, run_id)
    assert "'old', did at 2024-01-01 00:00:00 UTC" in found["no_recent_worker"]


@needs_pool_columns
async def test_inspect_of_an_unknown_pool(app: Any, client: Any) -> None:
    run_id = await scheduled(app, client, pool="nowhere")
    assert "headwater work-pool create nowhere" in (await reasons(client, run_id))["no_such_pool"]


# ---------------------------------------------------------------------- with deployments
@needs_pool_columns
async def test_a_deployment_run_waits_for_a_worker_with_its_labels(client: Any) -> None:
    from server.deployment_helpers import deployed

    await create_pool(client)
    deployment = await deployed(client, work_pool_name="pool", labels=["gpu"])
    response = await client.post(f"/deployments/{deployment['id']}/create_flow_run",
                                 json={"parameters": {"x": 2}})
    assert response.status_code == 201, response.text
    run_id = response.json()["id"]
    await client.post("/work_pools/pool/workers/heartbeat",
                      json={"name": "cpu-box", "labels": ["cpu"]})
    assert await claim(client, labels=["cpu"], worker_name="cpu-box") == []
    found = await reasons(client, run_id)
    assert "['gpu']" in found["label_mismatch"] and "['cpu']" in found["label_mismatch"]
    assert await claim(client, labels=["gpu"], worker_name="gpu-box") == [run_id]


async def test_a_deployment_given_one_string_for_labels_is_refused_saying_so(
        client: Any) -> None:
    from server.deployment_helpers import deploy

    response = await deploy(client, labels="gpu")
    assert response.status_code == 422
    assert "not the single string 'gpu'" in str(response.json()["detail"])

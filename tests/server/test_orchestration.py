"""Transition rules: terminal states, retries, force, versioning races, tag slots."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from headwater.server.orchestration.rules import decide
from headwater.server.schemas.core import StateType as S

from .server_helpers import make_flow_run, make_task_run, set_state


def test_rules_table() -> None:
    assert decide(None, S.RUNNING, "Running").status == "ACCEPT"
    assert decide(S.PENDING, S.RUNNING, "Running").status == "ACCEPT"
    assert decide(S.RUNNING, S.RUNNING, "Running").status == "ABORT"
    assert decide(S.RUNNING, S.PENDING, "Pending").status == "ABORT"
    assert decide(S.PENDING, S.PENDING, "Pending").status == "ABORT"
    assert decide(S.SCHEDULED, S.PENDING, "Pending").status == "ACCEPT"
    for terminal in (S.COMPLETED, S.FAILED, S.CANCELLED, S.CRASHED):
        assert decide(terminal, S.RUNNING, "Running").status == "REJECT"
        assert decide(terminal, S.RUNNING, "Running", force=True).status == "ACCEPT"
    assert decide(S.FAILED, S.SCHEDULED, "AwaitingRetry").status == "ACCEPT"
    assert decide(S.FAILED, S.RUNNING, "Retrying").status == "ACCEPT"
    assert decide(S.COMPLETED, S.RUNNING, "Retrying").status == "REJECT"
    assert decide(S.PENDING, S.RUNNING, "Running", version=3, expected_version=2).status == "ABORT"
    assert decide(S.PENDING, S.RUNNING, "Running", version=3, expected_version=3).status == "ACCEPT"


pytestmark_anyio = pytest.mark.anyio


@pytestmark_anyio
@pytest.mark.parametrize("kind", ["flow", "task"])
async def test_no_transition_out_of_terminal_state_unless_forced(client: Any, kind: str) -> None:
    run = await make_flow_run(client)
    run_id = run["id"] if kind == "flow" else (await make_task_run(client, run["id"]))["id"]
    assert (await set_state(client, kind, run_id, "COMPLETED"))["status"] == "ACCEPT"
    refused = await set_state(client, kind, run_id, "RUNNING")
    assert refused["status"] == "REJECT"
    assert refused["state"]["type"] == "COMPLETED"
    assert "terminal" in refused["details"]["reason"]
    forced = await set_state(client, kind, run_id, "RUNNING", force=True)
    assert forced["status"] == "ACCEPT" and forced["state"]["type"] == "RUNNING"


@pytestmark_anyio
async def test_retry_out_of_failed(client: Any) -> None:
    run = await make_flow_run(client)
    task = await make_task_run(client, run["id"])
    for type_, name in (("RUNNING", None), ("FAILED", None), ("SCHEDULED", "AwaitingRetry"),
                        ("RUNNING", "Retrying"), ("FAILED", None), ("RUNNING", "Retrying"),
                        ("COMPLETED", None)):
        result = await set_state(client, "task", task["id"], type_, name)
        assert result["status"] == "ACCEPT", (type_, name, result)
    got = (await client.get(f"/task_runs/{task['id']}")).json()
    assert got["run_count"] == 3 and got["state_type"] == "COMPLETED"


@pytestmark_anyio
async def test_two_concurrent_writers_cannot_both_start_a_run(app: Any, client: Any) -> None:
    import httpx

    run = await make_flow_run(client)
    await set_state(client, "flow", run["id"], "PENDING")
    results: list[dict[str, Any]] = []

    async def start() -> None:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://test/api") as other:
            results.append(await set_state(other, "flow", run["id"], "RUNNING"))

    for _ in range(5):
        results.clear()
        async with anyio.create_task_group() as tg:
            for _ in range(4):
                tg.start_soon(start)
        statuses = sorted(r["status"] for r in results)
        assert statuses.count("ACCEPT") <= 1
        assert set(statuses) <= {"ACCEPT", "ABORT"}
        await set_state(client, "flow", run["id"], "PENDING", force=True)
    got = (await client.get(f"/flow_runs/{run['id']}")).json()
    history = (await client.get("/flow_run_states/", params={"flow_run_id": run["id"]})).json()
    assert [s["type"] for s in history].count("RUNNING") == got["run_count"] == 5


@pytestmark_anyio
async def test_expected_state_version(client: Any) -> None:
    run = await make_flow_run(client)
    first = await set_state(client, "flow", run["id"], "PENDING", expected_state_version=0)
    assert first["status"] == "ACCEPT"
    stale = await set_state(client, "flow", run["id"], "RUNNING", expected_state_version=0)
    assert stale["status"] == "ABORT" and "state_version is 1" in stale["details"]["reason"]
    fresh = await set_state(client, "flow", run["id"], "RUNNING", expected_state_version=1)
    assert fresh["status"] == "ACCEPT"


@pytestmark_anyio
async def test_tag_concurrency_slots(client: Any) -> None:
    await client.post("/concurrency_limits/", json={"tag": "db", "concurrency_limit": 1})
    run = await make_flow_run(client)
    one = await make_task_run(client, run["id"], "a", "0", tags=["db"])
    two = await make_task_run(client, run["id"], "a", "1", tags=["db", "free"])
    assert (await set_state(client, "task", one["id"], "RUNNING"))["status"] == "ACCEPT"
    wait = await set_state(client, "task", two["id"], "RUNNING")
    assert wait["status"] == "WAIT" and wait["details"]["delay_seconds"] > 0
    limit = (await client.get("/concurrency_limits/tag/db")).json()
    assert limit["active_slots"] == [one["id"]]
    assert (await set_state(client, "task", one["id"], "COMPLETED"))["status"] == "ACCEPT"
    assert (await client.get("/concurrency_limits/tag/db")).json()["active_slots"] == []
    assert (await set_state(client, "task", two["id"], "RUNNING"))["status"] == "ACCEPT"
    await client.post("/concurrency_limits/", json={"tag": "never", "concurrency_limit": 0})
    three = await make_task_run(client, run["id"], "a", "2", tags=["never"])
    assert (await set_state(client, "task", three["id"], "RUNNING"))["status"] == "ABORT"

"""Pausing, suspending and resuming flow runs through the API (Prefect 2's rules), and the
flow run input store."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

pytest.importorskip("fastapi")

from .deployment_helpers import deployed
from .server_helpers import make_flow_run, set_state

pytestmark = pytest.mark.anyio


async def _deployment_run(client: Any) -> dict[str, Any]:
    version = await deployed(client)
    response = await client.post(f"/deployments/{version['id']}/create_flow_run", json={})
    assert response.status_code == 201, response.text
    run: dict[str, Any] = response.json()
    await set_state(client, "flow", run["id"], "PENDING")
    await set_state(client, "flow", run["id"], "RUNNING")
    return run


def _suspended(key: str | None = "k", timeout_seconds: float = 600, **details: Any,
               ) -> dict[str, Any]:
    until = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=timeout_seconds)
    return {"type": "PAUSED", "name": "Suspended",
            "state_details": {"pause_key": key, "pause_reschedule": True,
                              "pause_timeout": until.isoformat(), **details}}


async def _propose(client: Any, run_id: str, state: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(f"/flow_runs/{run_id}/set_state", json={"state": state})
    assert response.status_code in (200, 201), response.text
    return response.json()  # type: ignore[no-any-return]


async def test_a_deployment_run_is_suspended_then_resumed_to_scheduled(client: Any) -> None:
    run = await _deployment_run(client)
    result = await _propose(client, run["id"], _suspended())
    assert result["status"] == "ACCEPT"
    assert result["state"]["name"] == "Suspended"
    response = await client.post(f"/flow_runs/{run['id']}/resume", json={})
    assert response.status_code == 201
    resumed = response.json()
    assert resumed["status"] == "ACCEPT"
    assert (resumed["state"]["type"], resumed["state"]["name"]) == ("SCHEDULED", "Resuming")
    stored = (await client.get(f"/flow_runs/{run['id']}")).json()
    assert stored["state_type"] == "SCHEDULED"


async def test_the_same_pause_key_fires_once(client: Any) -> None:
    run = await _deployment_run(client)
    assert (await _propose(client, run["id"], _suspended("once")))["status"] == "ACCEPT"
    await client.post(f"/flow_runs/{run['id']}/resume", json={})
    await set_state(client, "flow", run["id"], "PENDING")
    await set_state(client, "flow", run["id"], "RUNNING")
    again = await _propose(client, run["id"], _suspended("once"))
    assert again["status"] == "REJECT"
    assert again["details"]["reason"] == "This suspend has already fired."
    assert again["state"]["type"] == "RUNNING"
    assert (await _propose(client, run["id"], _suspended("other")))["status"] == "ACCEPT"


@pytest.mark.parametrize(("fields", "reason"), [
    ({}, "Cannot suspend flows without a deployment."),
    ({"parent_task_run_id": "00000000-0000-0000-0000-000000000001"},
     "Cannot suspend subflows."),
])
async def test_suspension_needs_a_top_level_deployment_run(client: Any, fields: dict[str, Any],
                                                           reason: str) -> None:
    run = await make_flow_run(client, **fields)
    await set_state(client, "flow", run["id"], "RUNNING")
    result = await _propose(client, run["id"], _suspended())
    assert (result["status"], result["details"]["reason"]) == ("ABORT", reason)


async def test_only_a_running_run_pauses(client: Any) -> None:
    run = await make_flow_run(client)
    await set_state(client, "flow", run["id"], "PENDING")
    result = await _propose(client, run["id"], {"type": "PAUSED", "name": "Paused"})
    assert result["status"] == "REJECT"
    assert result["details"]["reason"] == "Cannot pause flows that are not currently running."


async def test_resuming_a_run_that_is_not_paused_aborts(client: Any) -> None:
    run = await make_flow_run(client)
    response = await client.post(f"/flow_runs/{run['id']}/resume", json={})
    assert response.json()["status"] == "ABORT"
    assert response.json()["details"]["reason"] == "Cannot resume a flow run that is not paused."
    missing = await client.post("/flow_runs/00000000-0000-0000-0000-000000000009/resume",
                                json={})
    assert missing.status_code == 404


async def test_a_timed_out_pause_cannot_resume_and_the_run_fails(client: Any) -> None:
    run = await _deployment_run(client)
    await _propose(client, run["id"], _suspended(timeout_seconds=-1))
    response = await client.post(f"/flow_runs/{run['id']}/resume", json={})
    result = response.json()
    assert result["status"] == "REJECT"
    assert result["state"]["type"] == "FAILED"
    # Prefect 2 names the proposed state ("Resuming") in the message.
    assert result["state"]["message"] == "The flow was resuming and never resumed."


async def test_the_scheduler_fails_expired_pauses(app: Any, client: Any) -> None:
    from headwater.server.services.scheduler import schedule_once

    run = await _deployment_run(client)
    await _propose(client, run["id"], _suspended(timeout_seconds=60))
    db = app.state.database
    now = dt.datetime.now(dt.timezone.utc)
    await schedule_once(db, now)
    assert (await client.get(f"/flow_runs/{run['id']}")).json()["state_type"] == "PAUSED"
    await schedule_once(db, now + dt.timedelta(seconds=120))
    stored = (await client.get(f"/flow_runs/{run['id']}")).json()
    assert stored["state_type"] == "FAILED"
    assert stored["state"]["message"] == "The flow was paused and never resumed."


async def test_expired_pauses_are_all_failed_beyond_one_page(
        app: Any, client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from headwater.server.services import resuming
    from headwater.server.services.scheduler import schedule_once

    monkeypatch.setattr(resuming, "_BATCH", 1)  # pages of 5 paused runs
    runs = [await _deployment_run(client) for _ in range(12)]
    for run in runs:
        await _propose(client, run["id"], _suspended(timeout_seconds=60))
    await schedule_once(app.state.database,
                        dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=120))
    states = {(await client.get(f"/flow_runs/{run['id']}")).json()["state_type"]
              for run in runs}
    assert states == {"FAILED"}


async def test_resume_with_input_checks_the_saved_schema_and_stores_the_input(
        client: Any) -> None:
    run = await _deployment_run(client)
    keyset = {"description": "suspended-k-description", "response": "suspended-k-response",
              "schema": "suspended-k-schema"}
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    await client.post(f"/flow_runs/{run['id']}/input",
                      json={"key": keyset["schema"], "value": json.dumps(schema)})
    await _propose(client, run["id"], _suspended(run_input_keyset=keyset))
    bad = (await client.post(f"/flow_runs/{run['id']}/resume",
                             json={"run_input": {"n": "x"}})).json()
    assert bad["status"] == "REJECT"
    assert bad["details"]["reason"].startswith("Reason: ")
    good = (await client.post(f"/flow_runs/{run['id']}/resume",
                              json={"run_input": {"n": 3}})).json()
    assert good["status"] == "ACCEPT"
    stored = await client.get(f"/flow_runs/{run['id']}/input/{keyset['response']}")
    assert json.loads(stored.text) == {"n": 3}


async def test_the_input_store_round_trip(client: Any) -> None:
    run = await make_flow_run(client)
    base = f"/flow_runs/{run['id']}/input"
    assert (await client.post(base, json={"key": "a-1", "value": "one",
                                          "sender": "me"})).status_code == 201
    assert (await client.post(base, json={"key": "a-2", "value": "two"})).status_code == 201
    assert (await client.post(base, json={"key": "a-1", "value": "x"})).status_code == 409
    assert (await client.get(f"{base}/a-1")).text == "one"
    found = (await client.post(f"{base}/filter", json={"prefix": "a-", "limit": 5,
                                                       "exclude_keys": ["a-2"]})).json()
    assert [(f["key"], f["value"], f["sender"]) for f in found] == [("a-1", "one", "me")]
    assert (await client.delete(f"{base}/a-1")).status_code == 204
    assert (await client.get(f"{base}/a-1")).status_code == 404
    assert (await client.delete(f"{base}/a-1")).status_code == 404
    missing = "/flow_runs/00000000-0000-0000-0000-000000000009/input"
    assert (await client.post(missing, json={"key": "k", "value": "v"})).status_code == 404


async def test_the_scheduler_loop_fails_expired_pauses_by_the_injected_clock(
        client: Any) -> None:
    from headwater._private.clock import use_clock
    from headwater.testing import FakeClock

    run = await _deployment_run(client)
    clock = FakeClock(wall=dt.datetime.now(dt.timezone.utc))
    with use_clock(clock):
        await _propose(client, run["id"], _suspended(timeout_seconds=3600))
        clock.advance(3500)
        assert (await client.post("/deployments/schedule", json={})).status_code == 200
        assert (await client.get(f"/flow_runs/{run['id']}")).json()["state_type"] == "PAUSED"
        clock.advance(200)
        assert (await client.post("/deployments/schedule", json={})).status_code == 200
    stored = (await client.get(f"/flow_runs/{run['id']}")).json()
    assert stored["state_type"] == "FAILED"
    assert stored["state"]["message"] == "The flow was paused and never resumed."

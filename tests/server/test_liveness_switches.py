"""The liveness switches and version locks through the API, on SQLite and PostgreSQL.

A deployment's ``heartbeat``, ``lazarus`` and ``version_lock`` switches are
the deployment's (every version, not part of the content hash); the version
lock's compare-and-set is ``POST /run_locks/``; Lazarus reads the switch and
frees a rescheduled run's lock; a completion racing the zombie check never
yields Crashed, wherever it lands among the check's steps.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import pytest

pytest.importorskip("fastapi")

from headwater._private.storage.processes import local_host
from headwater.server.services.loop import zombie_sweep
from server.deployment_helpers import deploy, deployed
from server.server_helpers import make_flow_run, make_task_run, set_state

pytestmark = pytest.mark.anyio

REMOTE = {"host": "another-host", "pid": 4242, "process_start": None, "interval": 30.0}
ME = {"host": "here", "pid": 1, "process_start": None}


def later(seconds: float) -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=seconds)


async def read(client: Any, deployment_id: str) -> dict[str, Any]:
    response = await client.get(f"/deployments/{deployment_id}")
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def patch(client: Any, deployment_id: str, **body: Any) -> None:
    response = await client.patch(f"/deployments/{deployment_id}", json=body)
    assert response.status_code == 204, response.text


def switches(d: dict[str, Any]) -> tuple[bool, bool, bool]:
    return d["heartbeat"], d["lazarus"], d["version_lock"]


# ---------------------------------------------------------------------- the switches
async def test_a_new_deployment_has_heartbeats_and_lazarus_on_and_no_lock(client: Any) -> None:
    d = await deployed(client)
    assert switches(d) == (True, True, False)


async def test_setting_a_switch_makes_no_new_version_and_holds_for_every_version(
        client: Any) -> None:
    v1 = await deployed(client)
    v2 = await deployed(client, parameters={"x": 2})  # new content: a new version
    assert v2["id"] != v1["id"]
    await patch(client, v2["id"], version_lock=True, lazarus=False)
    for version in (v1, v2):
        assert switches(await read(client, version["id"])) == (True, False, True)
    versions = (await client.get("/deployments/name/etl/nightly/versions")).json()
    assert len(versions) == 2
    assert (await read(client, v2["id"]))["version_hash"] == v2["version_hash"]


async def test_registering_the_same_content_with_a_switch_changes_it_in_place(
        client: Any) -> None:
    v1 = await deployed(client)
    response = await deploy(client, version_lock=True)
    assert response.status_code == 200 and response.headers.get("X-Headwater-Unchanged") == "1"
    again = response.json()
    assert again["id"] == v1["id"] and again["version_lock"] is True


async def test_a_new_version_keeps_the_deployments_switches_unless_given(client: Any) -> None:
    v1 = await deployed(client, heartbeat=False)
    v2 = await deployed(client, parameters={"x": 2})
    assert v2["id"] != v1["id"] and v2["heartbeat"] is False
    v3 = await deployed(client, parameters={"x": 3}, heartbeat=True)
    assert v3["heartbeat"] is True
    assert (await read(client, v1["id"]))["heartbeat"] is True  # every version follows


async def test_prefect2_job_variables_and_pull_steps_are_stored(client: Any) -> None:
    plain = await deployed(client, name="plain")
    steps = [{"prefect.deployments.steps.set_working_directory": {"directory": "/srv"}}]
    d = await deployed(client, name="full", job_variables={"env": {"A": "1"}},
                       pull_steps=steps)
    assert d["job_variables"] == {"env": {"A": "1"}} and d["pull_steps"] == steps
    assert plain["job_variables"] is None and plain["pull_steps"] is None
    # Prefect 2's deprecated name is job_variables too; the PATCH route takes them.
    legacy = await deployed(client, name="legacy", infra_overrides={"env": {"B": "2"}})
    assert legacy["job_variables"] == {"env": {"B": "2"}}
    await patch(client, d["id"], job_variables={"env": {}})
    assert (await read(client, d["id"]))["job_variables"] == {"env": {}}


async def test_a_switch_that_is_not_a_boolean_is_refused(client: Any) -> None:
    d = await deployed(client)
    response = await client.patch(f"/deployments/{d['id']}", json={"version_lock": "maybe"})
    assert response.status_code == 422
    assert "version_lock" in response.text


# ---------------------------------------------------------------------- the lock
async def claim(client: Any, run_id: str, kind: str = "flow_run",
                **holder: Any) -> dict[str, Any]:
    response = await client.post("/run_locks/", json={"run_id": run_id, "kind": kind,
                                                      **(holder or ME)})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_a_run_is_claimed_once_and_the_second_starter_learns_who_holds_it(
        client: Any) -> None:
    run = await make_flow_run(client)
    await set_state(client, "flow", run["id"], "PENDING")
    first = await claim(client, run["id"])
    assert first["claimed"] is True
    second = await claim(client, run["id"], host="other", pid=2, process_start=None)
    assert second["claimed"] is False
    assert (second["host"], second["pid"]) == ("here", 1)
    assert second["state_type"] == "PENDING"


@pytest.mark.parametrize("state", ["RUNNING", "COMPLETED", "CANCELLED"])
async def test_a_running_or_final_run_is_never_claimed(client: Any, state: str) -> None:
    run = await make_flow_run(client)
    if state != "RUNNING":
        await set_state(client, "flow", run["id"], "RUNNING")
    await set_state(client, "flow", run["id"], state)
    answer = await claim(client, run["id"])
    assert answer["claimed"] is False and answer["state_type"] == state


async def test_a_task_run_not_stored_yet_is_claimed_once(client: Any) -> None:
    task_run_id = str(uuid.uuid4())  # its records are still on their way
    assert (await claim(client, task_run_id, "task_run"))["claimed"] is True
    assert (await claim(client, task_run_id, "task_run"))["claimed"] is False
    run = await make_flow_run(client)
    stored = await make_task_run(client, run["id"])
    await set_state(client, "task", stored["id"], "RUNNING")
    assert (await claim(client, stored["id"], "task_run"))["state_type"] == "RUNNING"


async def test_many_starters_racing_on_one_run_one_wins(client: Any) -> None:
    run = await make_flow_run(client)
    await set_state(client, "flow", run["id"], "PENDING")
    answers = await asyncio.gather(*[claim(client, run["id"], host="h", pid=p,
                                           process_start=None) for p in range(1, 9)])
    winners = [a for a in answers if a["claimed"]]
    assert len(winners) == 1
    assert all(a["pid"] == winners[0]["pid"] for a in answers if not a["claimed"])


async def test_a_bad_claim_is_refused(client: Any) -> None:
    response = await client.post("/run_locks/", json={"run_id": str(uuid.uuid4()),
                                                      "kind": "job", **ME})
    assert response.status_code == 422


# ---------------------------------------------------------------------- Lazarus
async def deployment_run(app: Any, client: Any, **switches_: Any) -> str:
    d = await deployed(client, **switches_)
    response = await client.post(f"/deployments/{d['id']}/create_flow_run", json={})
    assert response.status_code == 201, response.text
    run_id = str(response.json()["id"])
    await set_state(client, "flow", run_id, "PENDING")
    await set_state(client, "flow", run_id, "RUNNING")
    beat = await client.post(f"/flow_runs/{run_id}/heartbeat", json=REMOTE)
    assert beat.status_code == 200
    return run_id


async def test_no_lazarus_leaves_a_crashed_run_crashed(app: Any, client: Any) -> None:
    run_id = await deployment_run(app, client, lazarus=False)
    [verdict] = await zombie_sweep(app.state.database, later(1_000), lazarus_max_attempts=3)
    assert verdict.rescheduled == 0
    assert (await client.get(f"/flow_runs/{run_id}")).json()["state_type"] == "CRASHED"


async def test_lazarus_frees_the_lock_of_the_run_it_reschedules(app: Any, client: Any) -> None:
    run_id = await deployment_run(app, client, version_lock=True)
    assert (await claim(client, run_id))["state_type"] == "RUNNING"  # refused while it runs
    [verdict] = await zombie_sweep(app.state.database, later(1_000), lazarus_max_attempts=3)
    assert verdict.rescheduled == 1
    assert (await claim(client, run_id))["claimed"] is True  # its next start may run it


# ---------------------------------------------------------------------- the race
async def test_a_completion_landing_anywhere_in_the_check_never_yields_crashed(
        app: Any, client: Any) -> None:
    """The run's own process records Completed before the k-th step of the sweep, for
    every k up to the sweep's compare-and-set on the run: it stays Completed, with no
    Crashed (nor Rescheduled) state, and its task runs are left alone."""
    import sqlalchemy as sa

    from headwater._private.driving import drive_async
    from headwater._private.storage import liveness_rules as rules
    from headwater.server.database import tables as t
    from headwater.server.services import liveness

    k = 0
    while True:
        run_id = await deployment_run(app, client)
        task_run = await make_task_run(client, run_id, dynamic_key=str(k))
        await set_state(client, "task", task_run["id"], "RUNNING")
        seen: list[rules.Step] = []

        async def racing(conn: Any, k: int = k, run_id: str = run_id,
                         seen: list[rules.Step] = seen) -> list[rules.Verdict]:
            steps = rules.sweep(later(1_000), host=local_host(),
                                process_check=lambda p, tok: None, lazarus_max_attempts=3)
            done = False

            async def carry_out(step: rules.Step) -> Any:
                nonlocal done
                finishing = isinstance(step, rules.FinishRun) and step.table == "flow_run"
                if not done and (len(seen) >= k or finishing):
                    done = True
                    await conn.execute(sa.update(t.flow_run)
                                       .where(t.flow_run.c.id == uuid.UUID(run_id))
                                       .values(state_type="COMPLETED", state_name="Completed",
                                               state_version=t.flow_run.c.state_version + 1))
                seen.append(step)
                return await (liveness._sqlite_step(conn, step)
                              if conn.dialect.name == "sqlite"
                              else liveness._core_step(conn, step))

            return await drive_async(steps, carry_out)  # type: ignore[no-any-return]

        assert await app.state.database.write(racing) == []
        run = (await client.get(f"/flow_runs/{run_id}")).json()
        assert run["state_type"] == "COMPLETED"
        names = {s["type"] for s in
                 (await client.get(f"/flow_run_states/?flow_run_id={run_id}")).json()}
        assert "CRASHED" not in names
        assert (await client.get(f"/task_runs/{task_run['id']}")).json()["state_type"] == \
            "RUNNING"
        # Done when the completion landed right before the compare-and-set itself.
        if isinstance(seen[-1], rules.FinishRun) and len(seen) - 1 <= k:
            break
        k += 1
    assert k >= 1  # the sweep read before it wrote: more than one landing point was tried

"""Heartbeats and the zombie check through the API, on SQLite and PostgreSQL.

Time is injected: the sweep is given ``now``; heartbeats are stamped by the
server, so the tests move ``now`` relative to the stored heartbeat.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import uuid
from typing import Any

import pytest

pytest.importorskip("fastapi")

from headwater._private.storage.processes import local_host
from headwater.server.services.loop import zombie_sweep
from server.server_helpers import make_flow_run, make_task_run, set_state

pytestmark = pytest.mark.anyio

REMOTE = {"host": "another-host", "pid": 4242, "process_start": None, "interval": 30.0}


def dead_pid() -> int:
    """The pid of a process of this host that has ended."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


async def running_run(client: Any) -> str:
    run = await make_flow_run(client)
    await set_state(client, "flow", run["id"], "RUNNING")
    return str(run["id"])


async def beat(client: Any, run_id: str, **body: Any) -> list[str]:
    response = await client.post(f"/flow_runs/{run_id}/heartbeat", json={**REMOTE, **body})
    assert response.status_code == 200, response.text
    return list(response.json()["stored"])


async def state_of(client: Any, run_id: str, kind: str = "flow_runs") -> dict[str, Any]:
    response = await client.get(f"/{kind}/{run_id}")
    return dict(response.json()["state"])


def later(seconds: float) -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=seconds)


async def test_a_remote_run_is_crashed_after_four_missed_heartbeats(app: Any, client: Any) -> None:
    run_id = await running_run(client)
    assert await beat(client, run_id) == [run_id]
    assert await zombie_sweep(app.state.database, later(3.5 * 30)) == []
    assert (await state_of(client, run_id))["type"] == "RUNNING"
    ended = await zombie_sweep(app.state.database, later(4 * 30 + 5))
    assert [str(v.flow_run_id) for v in ended] == [run_id]
    state = await state_of(client, run_id)
    assert state["type"] == "CRASHED"
    assert "missed 4 heartbeats" in state["message"]
    assert "the last came at" in state["message"]


async def test_a_run_of_this_host_whose_process_is_gone_is_crashed_at_once(
        app: Any, client: Any) -> None:
    run_id = await running_run(client)
    await beat(client, run_id, host=local_host(), pid=dead_pid())
    ended = await zombie_sweep(app.state.database, later(0))
    assert [str(v.flow_run_id) for v in ended] == [run_id]
    state = await state_of(client, run_id)
    assert state["type"] == "CRASHED" and "is gone" in state["message"]


async def test_a_live_process_of_this_host_is_left_running(app: Any, client: Any) -> None:
    import os

    from headwater._private.storage.processes import process_start_token

    run_id = await running_run(client)
    await beat(client, run_id, host=local_host(), pid=os.getpid(),
               process_start=process_start_token(os.getpid()))
    assert await zombie_sweep(app.state.database, later(1)) == []
    assert (await state_of(client, run_id))["type"] == "RUNNING"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="start tokens are Linux's")
async def test_a_reused_pid_is_not_taken_for_the_run_process(app: Any, client: Any) -> None:
    import os

    from headwater._private.storage.processes import process_start_token

    run_id = await running_run(client)
    # This process's pid, but another start time: the run's process was another one.
    token = str(process_start_token(os.getpid())).rsplit(":", 1)[0] + ":1"
    await beat(client, run_id, host=local_host(), pid=os.getpid(), process_start=token)
    ended = await zombie_sweep(app.state.database, later(0))
    assert [str(v.flow_run_id) for v in ended] == [run_id]


async def test_a_cancelling_run_whose_process_died_ends_cancelled(app: Any, client: Any) -> None:
    run_id = await running_run(client)
    await beat(client, run_id, host=local_host(), pid=dead_pid())
    await set_state(client, "flow", run_id, "CANCELLING")
    await zombie_sweep(app.state.database, later(0))
    state = await state_of(client, run_id)
    assert state["type"] == "CANCELLED" and "cancelling" in state["message"]


async def test_a_heartbeat_after_a_final_state_changes_nothing(app: Any, client: Any) -> None:
    run_id = await running_run(client)
    await set_state(client, "flow", run_id, "COMPLETED")
    assert await beat(client, run_id) == []
    assert await zombie_sweep(app.state.database, later(10_000)) == []
    assert (await state_of(client, run_id))["type"] == "COMPLETED"


async def test_runs_without_heartbeats_are_never_judged(app: Any, client: Any) -> None:
    run_id = await running_run(client)
    assert await zombie_sweep(app.state.database, later(10_000)) == []
    assert (await state_of(client, run_id))["type"] == "RUNNING"


async def test_the_dead_runs_task_runs_crash_and_their_slots_are_freed(
        app: Any, client: Any) -> None:
    run_id = await running_run(client)
    response = await client.post("/concurrency_limits/", json={"tag": "db",
                                                                "concurrency_limit": 1})
    assert response.status_code in (200, 201), response.text
    task = await make_task_run(client, run_id, tags=["db"])
    result = await set_state(client, "task", task["id"], "RUNNING")
    assert result["status"] == "ACCEPT"
    limit = (await client.get("/concurrency_limits/tag/db")).json()
    assert limit["active_slots"] == [task["id"]]
    await beat(client, run_id)
    await zombie_sweep(app.state.database, later(1_000))
    task_state = await state_of(client, task["id"], "task_runs")
    assert task_state["type"] == "CRASHED" and run_id in task_state["message"]
    limit = (await client.get("/concurrency_limits/tag/db")).json()
    assert limit["active_slots"] == []


async def test_a_run_that_completes_while_the_check_runs_keeps_its_state(
        app: Any, client: Any) -> None:
    """The check read the run as RUNNING; it completes before the check writes: no Crashed."""
    from headwater._private.driving import drive_async
    from headwater._private.storage import liveness_rules as rules
    from headwater.server.services import liveness

    run_id = await running_run(client)
    await beat(client, run_id)
    database = app.state.database

    async def racing(conn: Any) -> list[rules.Verdict]:
        steps = rules.sweep(later(1_000), host=local_host(), process_check=lambda p, t: None)

        async def carry_out(step: rules.Step) -> Any:
            if isinstance(step, rules.FinishRun) and step.table == "flow_run":
                # The run's own process records its final state first.
                from sqlalchemy import update

                from headwater.server.database import tables as t

                await conn.execute(update(t.flow_run).where(t.flow_run.c.id == step.run_id)
                                   .values(state_type="COMPLETED",
                                           state_version=t.flow_run.c.state_version + 1))
            return await liveness._sqlite_step(conn, step) if conn.dialect.name == "sqlite" \
                else await liveness._core_step(conn, step)

        return await drive_async(steps, carry_out)  # type: ignore[no-any-return]

    assert await database.write(racing) == []
    response = await client.get(f"/flow_runs/{run_id}")
    assert response.json()["state_type"] == "COMPLETED"
    states = (await client.get(f"/flow_run_states/?flow_run_id={run_id}")).json()
    assert all(s["type"] != "CRASHED" for s in states)


async def test_heartbeats_for_many_runs_in_one_request(app: Any, client: Any) -> None:
    ids = [await running_run(client) for _ in range(3)]
    unknown = str(uuid.uuid4())
    response = await client.post("/flow_runs/heartbeat",
                                 json={**REMOTE, "flow_run_ids": [*ids, unknown]})
    assert response.status_code == 200, response.text
    # An unknown run's heartbeat is kept: its records may still be on their way.
    assert sorted(response.json()["stored"]) == sorted([*ids, unknown])


async def test_a_bad_heartbeat_is_refused(client: Any) -> None:
    response = await client.post(f"/flow_runs/{uuid.uuid4()}/heartbeat",
                                 json={**REMOTE, "interval": 0})
    assert response.status_code == 422


async def test_lazarus_reschedules_a_crashed_deployment_run_up_to_the_limit(
        app: Any, client: Any) -> None:
    """Crashed twice and rescheduled twice on its deployment version; the third crash stays."""
    import sqlalchemy as sa

    from headwater.server.database import tables as t

    if "deployment_id" not in t.flow_run.c:
        pytest.skip("needs the deployments' flow_run columns (migration 0006)")
    run_id = await running_run(client)
    deployment_id = uuid.uuid4()

    async def of_deployment(conn: Any) -> None:
        await conn.execute(sa.update(t.flow_run).where(t.flow_run.c.id == uuid.UUID(run_id))
                           .values(deployment_id=deployment_id, deployment_version="v1"))

    await app.state.database.write(of_deployment)
    for attempt in (1, 2, 3):
        await beat(client, run_id)
        [verdict] = await zombie_sweep(app.state.database, later(1_000),
                                       lazarus_max_attempts=2)
        assert verdict.rescheduled == (attempt if attempt <= 2 else 0)
        run = (await client.get(f"/flow_runs/{run_id}")).json()
        if attempt <= 2:
            assert (run["state_type"], run["state_name"]) == ("SCHEDULED", "Rescheduled")
            assert f"attempt {attempt} of 2" in run["state"]["message"]
            assert run["state"]["state_details"]["lazarus_attempt"] == attempt
            await set_state(client, "flow", run_id, "PENDING")
            await set_state(client, "flow", run_id, "RUNNING")
        else:
            assert run["state_type"] == "CRASHED"
    assert run["deployment_id"] == str(deployment_id)  # the same version, every time
    assert run["run_count"] == 3
    names = [s["name"] for s in (await client.get(f"/flow_run_states/?flow_run_id={run_id}"))
             .json()]
    assert names.count("Crashed") == 3 and names.count("Rescheduled") == 2


async def test_a_rescheduled_run_is_not_judged_by_the_dead_processs_heartbeat(
        app: Any, client: Any) -> None:
    """Running again, before its new process's first heartbeat, it is left alone."""
    import sqlalchemy as sa

    from headwater.server.database import tables as t

    if "deployment_id" not in t.flow_run.c:
        pytest.skip("needs the deployments' flow_run columns (migration 0006)")
    run_id = await running_run(client)

    async def of_deployment(conn: Any) -> None:
        await conn.execute(sa.update(t.flow_run).where(t.flow_run.c.id == uuid.UUID(run_id))
                           .values(deployment_id=uuid.uuid4(), deployment_version="v1"))

    await app.state.database.write(of_deployment)
    await beat(client, run_id)
    [verdict] = await zombie_sweep(app.state.database, later(1_000), lazarus_max_attempts=3)
    assert verdict.rescheduled == 1
    await set_state(client, "flow", run_id, "PENDING")
    await set_state(client, "flow", run_id, "RUNNING")  # its new process has not beaten yet
    assert await zombie_sweep(app.state.database, later(2_000), lazarus_max_attempts=3) == []
    assert (await client.get(f"/flow_runs/{run_id}")).json()["state_type"] == "RUNNING"


# ---------------------------------------------------------------------- with the records batch
def started(run_id: str, seconds: float, **process: Any) -> dict[str, Any]:
    """A records batch creating a flow run that is running, with its liveness row."""
    live = {"host": REMOTE["host"], "pid": REMOTE["pid"], "heartbeat_interval": 30.0, **process}
    return {"flow_runs": [{"id": run_id, "flow_name": "batched", "name": f"run-{run_id[:8]}"}],
            "states": [{"id": str(uuid.uuid4()), "run_id": run_id, "run_kind": "flow",
                        "type": "RUNNING", "timestamp": later(seconds).isoformat()}],
            "liveness": [{"flow_run_id": run_id, **live}]}


async def test_a_run_started_by_a_records_batch_is_live_from_that_batch(
        app: Any, client: Any) -> None:
    """The liveness row comes in the run's own batch: no heartbeat request is needed."""
    run_id, gone_id = str(uuid.uuid4()), str(uuid.uuid4())
    response = await client.post("/records/batch", json=started(run_id, 0))
    assert response.status_code == 200, response.text
    response = await client.post("/records/batch", json=started(
        gone_id, 0, host=local_host(), pid=dead_pid(), process_start=None))
    assert response.status_code == 200, response.text
    ended = await zombie_sweep(app.state.database, later(0))
    assert [str(v.flow_run_id) for v in ended] == [gone_id]  # its process is gone: at once
    assert await zombie_sweep(app.state.database, later(3.5 * 30)) == []
    ended = await zombie_sweep(app.state.database, later(4 * 30 + 5))
    assert [str(v.flow_run_id) for v in ended] == [run_id]
    assert "missed 4 heartbeats" in (await state_of(client, run_id))["message"]


async def test_a_run_already_final_in_its_batch_gets_no_liveness(app: Any, client: Any) -> None:
    run_id = str(uuid.uuid4())
    batch = started(run_id, 0, host=local_host(), pid=dead_pid())
    batch["states"].append({"id": str(uuid.uuid4()), "run_id": run_id, "run_kind": "flow",
                            "type": "COMPLETED", "timestamp": later(1).isoformat()})
    assert (await client.post("/records/batch", json=batch)).status_code == 200
    assert (await client.post("/records/batch", json=batch)).status_code == 200  # sent again
    live = await liveness_ids(app)
    assert uuid.UUID(run_id) not in live
    running = str(uuid.uuid4())  # the same batch, still running: it gets one
    assert (await client.post("/records/batch", json=started(running, 0))).status_code == 200
    assert await liveness_ids(app) == live | {uuid.UUID(running)}


async def liveness_ids(app: Any) -> set[uuid.UUID]:
    """The flow runs that have a liveness row."""
    import sqlalchemy as sa

    from headwater.server.database import tables

    async with app.state.database.read() as conn:
        rows = await conn.execute(sa.select(tables.flow_run_liveness.c.flow_run_id))
        return {uuid.UUID(str(i)) for (i,) in rows}


@pytest.mark.parametrize("bad", [{"pid": -1}, {"heartbeat_interval": 0}, {"host": ""}])
async def test_a_malformed_liveness_row_fails_the_batch(client: Any, bad: dict[str, Any]) -> None:
    run_id = str(uuid.uuid4())
    response = await client.post("/records/batch", json=started(run_id, 0, **bad))
    assert response.status_code == 422, response.text
    assert (await client.get(f"/flow_runs/{run_id}")).status_code == 404  # nothing stored

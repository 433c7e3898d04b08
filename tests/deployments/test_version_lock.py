"""Version locking and the heartbeat switch at run time, on every target.

A deployment's run with ``version_lock`` on is claimed before anything is
done for it: of two starters racing, exactly one runs the body; a start of
a run that ran already is refused with a ``VersionLockError`` naming the
run, its state, its holder and the switch. A flow's task runs are claimed
too; a task run started a second time (what Dask does when a worker is
lost) does not run its body again.
"""

from __future__ import annotations

import sqlite3
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest

from deployments.test_execute import deployment, new_run, read, write
from headwater import flow, runtime, task
from headwater._private.deployments.execute import execute_flow_run
from headwater.exceptions import VersionLockError

COUNTING_FLOW = """
    from pathlib import Path
    from headwater import flow, task

    @task
    def mark(path: str) -> int:
        with open(path, "a") as f:
            f.write("task\\n")
        return 1

    @flow
    def etl(path: str) -> int:
        with open(path, "a") as f:
            f.write("flow\\n")
        return mark(path)
"""


def lines(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


def test_two_starters_racing_on_one_locked_run_run_its_body_once(
        target_home: Path, tmp_path: Path) -> None:
    write(tmp_path / "code" / "flows", "etl.py", COUNTING_FLOW)
    marks = tmp_path / "marks.txt"
    run = new_run(parameters={"path": str(marks)})
    locked = deployment(tmp_path / "code", parameters={}, version_lock=True)
    start = threading.Barrier(2)
    outcomes: list[Any] = []

    def starter() -> None:
        start.wait()
        try:
            outcomes.append(execute_flow_run(run["id"], deployment=locked))
        except VersionLockError as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=starter) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    refused = [o for o in outcomes if isinstance(o, VersionLockError)]
    finished = [o for o in outcomes if not isinstance(o, VersionLockError)]
    assert len(refused) == 1 and len(finished) == 1, outcomes
    assert finished[0].is_completed()
    assert lines(marks) == ["flow", "task"]  # the body ran once
    stored, states, _, _ = read(run["id"])
    assert stored["state_type"] == "COMPLETED" and stored["run_count"] == 1
    assert [s["name"] for s in states].count("Running") == 1


def test_a_locked_run_that_ran_is_refused_with_what_holds_it_and_the_fix(
        target_home: Path, tmp_path: Path) -> None:
    import os

    write(tmp_path / "code" / "flows", "etl.py", COUNTING_FLOW)
    marks = tmp_path / "marks.txt"
    run = new_run(parameters={"path": str(marks)})
    locked = deployment(tmp_path / "code", parameters={}, version_lock=True)
    assert execute_flow_run(run["id"], deployment=locked).is_completed()
    with pytest.raises(VersionLockError) as caught:
        execute_flow_run(run["id"], deployment=locked)
    message = str(caught.value)
    assert run["id"] in message and "Completed" in message
    assert f"pid {os.getpid()}" in message and "--no-version-lock" in message
    assert caught.value.state_type == "COMPLETED" and caught.value.pid == os.getpid()
    assert lines(marks) == ["flow", "task"]


def test_a_locked_flows_task_run_started_again_does_not_run_its_body(
        target_home: Path) -> None:
    """What Dask does when it loses a worker: the same task run, started a second time."""
    from headwater._private.engine.drivers import run_machine
    from headwater._private.engine.specs import EngineSettings, TaskRunSpec
    from headwater._private.engine.task_machine import task_machine
    from headwater._private.run_records import TaskRun
    from headwater._private.states import now

    calls: list[str] = []
    hooks: list[str] = []

    @task(on_failure=[lambda *a: hooks.append("failure")])
    def work() -> str:
        calls.append("work")
        return str(runtime.task_run.id)

    @flow(version_lock=True)
    def locked() -> str:
        return work()

    task_run_id = uuid.UUID(locked())
    assert calls == ["work"]
    again = TaskRun(task_run_id, "work-0", work.name, work.task_key, "0", None, frozenset(),
                    now())
    spec = TaskRunSpec(work, again, settings=EngineSettings(version_lock=True))
    state = run_machine(task_machine(spec, (), {}))
    assert calls == ["work"] and hooks == []  # neither the body nor a hook ran again
    assert state.is_failed() and isinstance(state.data, VersionLockError)
    assert f"Task run {task_run_id}" in str(state.message)


@pytest.mark.anyio
async def test_an_async_locked_flow_claims_its_task_runs_off_the_loop(
        target_home: Path) -> None:
    @task
    async def double(x: int) -> int:
        return 2 * x

    @flow(version_lock=True)
    async def locked() -> list[int]:
        return [await double(1), await double(2)]

    assert await locked() == [2, 4]


def run_locks(home: Path) -> int:
    con = sqlite3.connect(home / "headwater.db")
    try:
        return int(con.execute("SELECT count(*) FROM run_lock").fetchone()[0])
    finally:
        con.close()


def test_only_locked_runs_are_claimed(home: Path) -> None:
    @task
    def one() -> int:
        return 1

    @flow
    def free() -> int:
        return one() + one()

    assert free() == 2
    assert run_locks(home) == 0  # the lock off: no claim, no round trip
    assert free.with_options(version_lock=True)() == 2
    assert run_locks(home) == 2  # each of its task runs, once


def test_the_heartbeat_switch_of_a_flow_and_of_a_deployment(home: Path, tmp_path: Path) -> None:
    from headwater._private import heartbeats

    @flow
    def beating() -> bool:
        return str(runtime.flow_run.id) in map(str, heartbeats.beating())

    assert beating() is True
    assert beating.with_options(heartbeat=False)() is False

    write(tmp_path / "code" / "flows", "etl.py", COUNTING_FLOW)
    run = new_run(parameters={"path": str(tmp_path / "marks.txt")})
    quiet = deployment(tmp_path / "code", parameters={}, heartbeat=False)
    assert execute_flow_run(run["id"], deployment=quiet).is_completed()
    con = sqlite3.connect(home / "headwater.db")
    try:
        rows = con.execute("SELECT count(*) FROM flow_run_liveness WHERE flow_run_id = ?",
                           (uuid.UUID(run["id"]).hex,)).fetchone()[0]
    finally:
        con.close()
    assert rows == 0  # no heartbeat, no liveness row: the zombie check never judges it


def test_a_misspelled_switch_names_the_option_meant() -> None:
    with pytest.raises(TypeError, match="version_lock"):
        flow(version_locks=True)
    with pytest.raises(ValueError, match="heartbeat must be True, False or None"):
        flow(heartbeat="yes")(lambda: None)


def test_the_engine_entry_point_exits_83_when_the_lock_refuses(
        home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """``python -m headwater.engine``'s exit code tells its worker the run is someone else's."""
    import asyncio

    from headwater.client import get_client
    from headwater.engine import main

    write(tmp_path / "code" / "flows", "etl.py", COUNTING_FLOW)

    async def create() -> str:
        async with get_client() as client:
            flow_row = await client.request("POST", "flows/", json={"name": "etl"})
            d, _ = await client.create_deployment(
                name="prod", flow_id=flow_row["id"], entrypoint="flows/etl.py:etl",
                code_location={"kind": "local", "path": str(tmp_path / "code")},
                parameters={"path": str(tmp_path / "marks.txt")}, version_lock=True)
            run = await client.create_flow_run_from_deployment(d["id"])
            return str(run["id"])

    run_id = asyncio.run(create())
    monkeypatch.setenv("HEADWATER__FLOW_RUN_ID", run_id)
    assert main() == 0
    assert main() == 83
    assert "version lock is on" in capsys.readouterr().err
    assert lines(tmp_path / "marks.txt") == ["flow", "task"]

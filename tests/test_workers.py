"""The process worker: launching claimed runs in new process groups, exits, cancellation.

Here the worker runs a tiny command of the test's (``ProcessWorker(command=...)``);
``tests/deployments/test_worker_runs_deployments.py`` runs the real executor
(``python -m headwater.engine``) end to end.
The grace period is measured on a `FakeClock`; the processes are real.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from headwater.cli import app
from headwater.settings import temporary_settings
from headwater.testing import FakeClock
from headwater.workers import BaseWorker, ProcessWorker, get_worker_class, worker_types

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
def home(tmp_path: Path) -> Iterator[Path]:
    with temporary_settings(HEADWATER_HOME=str(tmp_path / "home"),
                            HEADWATER_WORKER_CANCEL_GRACE_SECONDS="10"):
        yield tmp_path / "home"


def script(tmp_path: Path, body: str) -> list[str]:
    path = tmp_path / f"child_{uuid.uuid4().hex[:6]}.py"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return [sys.executable, str(path)]


async def pending_run(client: Any) -> dict[str, Any]:
    flow = await client.request("POST", "flows/", json={"name": "f"})
    run = await client.request("POST", "flow_runs/", json={
        "flow_id": flow["id"], "state": {"type": "PENDING"}})
    return dict(run)


async def until(check: Any, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def state_of(client: Any, run_id: Any) -> dict[str, Any]:
    return dict((await client.read_flow_run(run_id))["state"])


async def test_the_run_process_gets_its_id_and_a_failed_exit_crashes_the_run(
        tmp_path: Path) -> None:
    out = tmp_path / "seen.txt"
    command = script(tmp_path, f"""
        import os, sys
        open({str(out)!r}, "w").write(f"{{os.environ['HEADWATER__FLOW_RUN_ID']}} "
                                       f"{{os.getpgid(0) == os.getpid()}}")
        sys.exit(3)
    """)
    async with ProcessWorker("pool", command=command) as worker:
        run = await pending_run(worker.client)
        assert await worker.submit(run)
        handle = worker.runs[uuid.UUID(run["id"])].handle
        await until(lambda: _done(handle))
        await worker.supervise()
        assert worker.runs == {}
        state = await state_of(worker.client, run["id"])
    assert out.read_text() == f"{run['id']} True"  # its own process group
    assert state["type"] == "CRASHED"
    assert "exited with code 3" in state["message"]


async def _done(handle: Any) -> bool:
    return handle.poll() is not None


async def test_a_run_its_process_finished_is_left_as_it_is(tmp_path: Path) -> None:
    async with ProcessWorker("pool", command=[sys.executable, "-c", "pass"]) as worker:
        run = await pending_run(worker.client)
        await worker.client.set_flow_run_state(run["id"], {"type": "COMPLETED"}, force=True)
        await worker.submit(run)
        await until(lambda: _done(worker.runs[uuid.UUID(run["id"])].handle))
        await worker.supervise()
        assert (await state_of(worker.client, run["id"]))["type"] == "COMPLETED"


@pytest.mark.skipif(sys.platform == "win32", reason="process groups and SIGKILL")
async def test_cancelling_terminates_the_group_then_kills_it_after_the_grace(
        tmp_path: Path) -> None:
    """The run ignores SIGTERM and has a child of its own: SIGKILL to the group stops both."""
    pids = tmp_path / "pids.txt"
    command = script(tmp_path, f"""
        import os, signal, subprocess, sys, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
        open({str(pids)!r}, "w").write(f"{{os.getpid()}} {{child.pid}}")
        time.sleep(120)
    """)
    clock = FakeClock()
    async with ProcessWorker("pool", command=command, clock=clock) as worker:
        run = await pending_run(worker.client)
        await worker.submit(run)
        await until(lambda: _exists(pids))
        _, grandchild = map(int, pids.read_text().split())
        await worker.client.set_flow_run_state(run["id"], {"type": "RUNNING"}, force=True)
        await worker.client.set_flow_run_state(run["id"], {"type": "CANCELLING"}, force=True)
        await worker.supervise()  # SIGTERM: ignored
        supervised = worker.runs[uuid.UUID(run["id"])]
        assert supervised.terminated_at == 0.0 and not supervised.killed
        clock.sleep(9)
        await worker.supervise()
        assert not supervised.killed  # still within the grace period
        clock.sleep(1)
        await worker.supervise()
        assert supervised.killed
        await until(lambda: _done(supervised.handle))
        await worker.supervise()
        state = await state_of(worker.client, run["id"])
    assert state["type"] == "CANCELLED" and "exit code -9" in state["message"]
    await until(lambda: _gone(grandchild))


async def _exists(path: Path) -> bool:
    return path.exists() and len(path.read_text().split()) == 2


async def _gone(pid: int) -> bool:
    from headwater._private.storage.processes import process_alive, process_start_token

    return process_alive(pid, process_start_token(pid)) is not True or _zombie(pid)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] == "Z"
    except OSError:
        return True


async def test_a_launch_that_fails_crashes_the_run(tmp_path: Path) -> None:
    async with ProcessWorker("pool", command=[str(tmp_path / "no-such-program")]) as worker:
        run = await pending_run(worker.client)
        assert not await worker.submit(run)
        state = await state_of(worker.client, run["id"])
    assert state["type"] == "CRASHED" and "could not start" in state["message"]


async def test_the_worker_creates_its_pool_and_heartbeats_with_its_labels() -> None:
    clock = FakeClock()
    async with ProcessWorker("fresh", labels=["gpu", "eu"], name="w1", clock=clock) as worker:
        assert await worker.run_once() == []
        workers = await worker.client.read_workers_for_work_pool("fresh")
        assert [(w["name"], w["labels"], w["status"]) for w in workers] == [
            ("w1", ["eu", "gpu"], "ONLINE")]
        assert (await worker.client.read_work_pool("fresh"))["type"] == "process"
        assert not await worker.heartbeat()  # not due yet
        clock.sleep(worker.heartbeat_seconds)
        assert await worker.heartbeat()


def test_labels_must_be_a_list() -> None:
    with pytest.raises(TypeError, match="not the single string 'gpu'"):
        ProcessWorker("pool", labels="gpu")  # type: ignore[arg-type]


def test_worker_types_are_plug_ins() -> None:
    assert "process" in worker_types()
    assert get_worker_class("process") is ProcessWorker
    assert issubclass(ProcessWorker, BaseWorker)
    with pytest.raises(ValueError, match="No worker type 'docker' is installed"):
        get_worker_class("docker")


def test_worker_start_run_once_from_the_command_line() -> None:
    result = CliRunner().invoke(app, ["worker", "start", "--pool", "cli-pool", "--label", "a",
                                      "--name", "cli-worker", "--run-once"])
    assert result.exit_code == 0, result.output
    assert "Launched 0 flow run(s)" in result.output
    shown = CliRunner().invoke(app, ["work-pool", "inspect", "cli-pool"])
    assert "cli-worker" in shown.output


def test_an_unknown_worker_type_is_one_clear_error() -> None:
    result = CliRunner().invoke(app, ["worker", "start", "--pool", "p", "--type", "nope"])
    assert result.exit_code == 1 and "No worker type 'nope'" in result.output




@pytest.mark.skipif("not __import__('headwater.server.services.work_pools', "
                    "fromlist=['x']).placed_in_pools()",
                    reason="needs the deployments' flow_run columns (migration 0006)")
async def test_a_worker_claims_a_scheduled_run_and_launches_it(tmp_path: Path) -> None:
    import datetime as dt

    import sqlalchemy as sa

    from headwater.server.database import tables as t

    out = tmp_path / "ran.txt"
    command = script(tmp_path, f"""
        import os
        open({str(out)!r}, "a").write(os.environ["HEADWATER__FLOW_RUN_ID"] + "\\n")
    """)
    async with ProcessWorker("pool", command=command, labels=["gpu"], limit=1) as worker:
        flow = await worker.client.request("POST", "flows/", json={"name": "f"})
        ids = []
        for minute, labels in ((1, ["gpu"]), (2, ["tpu"]), (3, [])):
            run = await worker.client.request("POST", "flow_runs/", json={
                "flow_id": flow["id"], "state": {"type": "SCHEDULED"}})
            ids.append(run["id"])
            app = worker.client._http._transport.app  # the in-process app of embedded mode

            async def place(conn: Any, run_id: str = run["id"], labels: list[str] = labels,
                            minute: int = minute) -> None:
                await conn.execute(sa.update(t.flow_run).where(
                    t.flow_run.c.id == uuid.UUID(run_id)).values(
                    work_pool_name="pool", labels=labels,
                    expected_start_time=dt.datetime(2024, 1, 1, 0, minute,
                                                    tzinfo=dt.timezone.utc)))

            await app.state.database.write(place)
        launched = await worker.run_once()
        assert [r["id"] for r in launched] == [ids[0]]  # limit 1
        assert await worker.run_once() == []  # still running, or not reported yet
        await until(lambda: _done(worker.runs[uuid.UUID(ids[0])].handle))
        launched = await worker.run_once()  # the first is reported; the unlabelled one is next
        assert [r["id"] for r in launched] == [ids[2]]
        await until(lambda: _done(worker.runs[uuid.UUID(ids[2])].handle))
        await worker.supervise()
    assert out.read_text().split()[0] == ids[0]


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="process groups")
async def test_a_running_worker_stops_a_cancelled_run_within_seconds(tmp_path: Path) -> None:
    command = script(tmp_path, "import time; time.sleep(120)")
    async with ProcessWorker("pool", command=command) as worker:
        run = await pending_run(worker.client)
        await worker.submit(run)
        await worker.client.set_flow_run_state(run["id"], {"type": "RUNNING"}, force=True)
        stop = asyncio.Event()
        serving = asyncio.create_task(worker.start(stop))
        asked = time.monotonic()
        await worker.client.set_flow_run_state(run["id"], {"type": "CANCELLING"}, force=True)

        async def cancelled() -> bool:
            return (await state_of(worker.client, run["id"]))["type"] == "CANCELLED"

        await until(cancelled, seconds=5)
        took = time.monotonic() - asked
        stop.set()
        await serving
    assert worker.runs == {}
    print(f"cancelled in {took:.2f} s")


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM")
def test_worker_start_stops_on_sigterm(tmp_path: Path, home: Path) -> None:
    import subprocess

    env = {**os.environ, "HEADWATER_HOME": str(home)}
    proc = subprocess.Popen([sys.executable, "-m", "headwater.cli", "worker", "start", "--pool",
                             "sig", "--name", "sig-worker"], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        assert "Worker 'sig-worker' started" in proc.stdout.readline()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "Worker 'sig-worker' stopped." in out

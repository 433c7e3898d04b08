"""A worker supervises its runs: stopping it stops them, and a cancel leaves nothing behind.

Real processes (tiny commands of the test's, as in ``test_workers.py``);
``tests/deployments/test_worker_supervision.py`` runs the real executor end
to end, with ``kill -9`` of a worker.
"""

from __future__ import annotations

import asyncio
import os
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from headwater.settings import temporary_settings
from headwater.testing import FakeClock
from headwater.workers import ProcessWorker

pytestmark = [pytest.mark.anyio,
              pytest.mark.skipif(sys.platform == "win32", reason="process groups, SIGKILL")]


@pytest.fixture(autouse=True)
def home(tmp_path: Path) -> Iterator[Path]:
    with temporary_settings(HEADWATER_HOME=str(tmp_path / "home"),
                            HEADWATER_WORKER_CANCEL_GRACE_SECONDS="0.5"):
        yield tmp_path / "home"


def script(tmp_path: Path, body: str) -> list[str]:
    path = tmp_path / f"child_{uuid.uuid4().hex[:6]}.py"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return [sys.executable, str(path)]


async def running_run(client: Any) -> dict[str, Any]:
    flow = await client.request("POST", "flows/", json={"name": "f"})
    return dict(await client.request("POST", "flow_runs/", json={
        "flow_id": flow["id"], "state": {"type": "RUNNING"}}))


async def until(check: Any, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


def pids_of(path: Path) -> list[int] | None:
    text = path.read_text() if path.exists() else ""
    return [int(p) for p in text.split()] if text.endswith("\n") else None


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] == "Z"
    except OSError:
        return False


STUBBORN = """
    import os, signal, subprocess, sys, time
    if {ignore!r}:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    ready = {out!r} + ".child"
    child = subprocess.Popen([sys.executable, "-c",
                              "import signal, sys, time; signal.signal(signal.SIGTERM, "
                              "signal.SIG_IGN); open(sys.argv[1], 'w').close(); "
                              "time.sleep(120)", ready])
    while not os.path.exists(ready):  # its SIGTERM handler is set
        time.sleep(0.01)
    open({out!r}, "w").write(f"{{os.getpid()}} {{child.pid}}\\n")
    time.sleep(120)
"""


@pytest.mark.slow
@pytest.mark.parametrize("ignore", [False, True], ids=["obeys", "ignores-sigterm"])
async def test_leaving_the_worker_stops_its_runs_and_they_end_crashed(
        tmp_path: Path, ignore: bool) -> None:
    out = tmp_path / "pids.txt"
    command = script(tmp_path, STUBBORN.format(ignore=ignore, out=str(out)))
    async with ProcessWorker("pool", command=command, name="w") as worker:
        run = await running_run(worker.client)
        assert await worker.submit(run)
        await until(lambda: pids_of(out))
        main, child = pids_of(out) or []
        client = worker.client
        worker._own_client = False  # keep the client open to read the result
    try:
        assert worker.runs == {}
        await until(lambda: gone(main) and gone(child))  # the child ignoring SIGTERM too
        state = (await client.read_flow_run(run["id"]))["state"]
    finally:
        await client.aclose()
    assert state["type"] == "CRASHED"
    assert "Worker 'w' stopped, and stopped the flow run's process" in state["message"]


@pytest.mark.slow
async def test_wait_for_runs_returns_once_they_have_ended(tmp_path: Path) -> None:
    command = script(tmp_path, "import time; time.sleep(0.3)")
    async with ProcessWorker("pool", command=command) as worker:
        run = await running_run(worker.client)
        await worker.submit(run)
        await worker.wait_for_runs()
        assert worker.runs == {}
        state = (await worker.client.read_flow_run(run["id"]))["state"]
    assert state["type"] == "CRASHED" and "exited with code 0" in state["message"]


@pytest.mark.slow
async def test_a_cancel_kills_what_the_run_left_behind_when_its_main_process_exits(
        tmp_path: Path) -> None:
    out = tmp_path / "pids.txt"
    command = script(tmp_path, STUBBORN.format(ignore=False, out=str(out)))
    async with ProcessWorker("pool", command=command, clock=FakeClock()) as worker:
        run = await running_run(worker.client)
        await worker.submit(run)
        await until(lambda: pids_of(out))
        main, child = pids_of(out) or []
        await worker.client.set_flow_run_state(run["id"], {"type": "CANCELLING"}, force=True)
        await worker.supervise()  # SIGTERM: the main process ends, its child ignores it
        handle = worker.runs[uuid.UUID(run["id"])].handle
        await until(lambda: handle.poll() is not None)
        assert not gone(child)
        await worker.supervise()  # reported; the rest of the group is killed
        await until(lambda: gone(child))
        state = (await worker.client.read_flow_run(run["id"]))["state"]
    assert state["type"] == "CANCELLED" and gone(main)


@pytest.mark.parametrize(("reported", "final"), [("CRASHED", "CANCELLED"),
                                                 ("COMPLETED", "COMPLETED")])
async def test_a_run_stopped_on_a_cancel_ends_cancelled_unless_it_finished_first(
        tmp_path: Path, reported: str, final: str) -> None:
    """Its process may report Crashed on the SIGTERM: the worker says Cancelled, as Prefect
    2's does; a run that completed before the SIGTERM keeps its state."""
    async with ProcessWorker("pool", command=[sys.executable, "-c",
                                              "import time; time.sleep(60)"],
                             clock=FakeClock()) as worker:
        run = await running_run(worker.client)
        await worker.submit(run)
        await worker.client.set_flow_run_state(run["id"], {"type": "CANCELLING"}, force=True)
        await worker.supervise()  # asks it to stop
        supervised = worker.runs[uuid.UUID(run["id"])]
        assert supervised.cancelled
        await until(lambda: supervised.handle.poll() is not None)
        await worker.client.set_flow_run_state(run["id"], {"type": reported}, force=True)
        await worker.supervise()
        state = (await worker.client.read_flow_run(run["id"]))["state"]
    assert state["type"] == final

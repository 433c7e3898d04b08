"""The lifeline: a run's process notices its worker is gone and stops its process group.

In process: the watcher on the background loop sees end-of-file. With real
processes: a `ProcessWorker`'s run (and a child of its own) is killed when
the worker's end of the lifeline closes, as it does when the worker dies.
"""

from __future__ import annotations

import os
import sys
import textwrap
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from headwater._private import lifeline
from headwater.settings import temporary_settings
from headwater.workers import ProcessWorker

pytestmark = pytest.mark.skipif(not lifeline.SUPPORTED, reason="lifelines are POSIX only")


@pytest.fixture(autouse=True)
def home(tmp_path: Path) -> Iterator[Path]:
    with temporary_settings(HEADWATER_HOME=str(tmp_path / "home")):
        yield tmp_path / "home"


def test_the_watcher_calls_back_when_the_other_end_closes_and_not_before() -> None:
    line = lifeline.open_lifeline()
    assert line is not None
    environ = {**line.child_env(), "OTHER": "kept"}
    cut = threading.Event()
    assert lifeline.watch_from_env(environ, on_cut=cut.set)
    assert environ == {"OTHER": "kept"}  # the run's own children do not inherit it
    os.write(line.write_fd, b"x")  # data is not an end
    assert not cut.wait(0.2)
    line.write_fd, write_fd = -1, line.write_fd  # the watcher owns the read end now
    os.close(write_fd)
    assert cut.wait(30)


def test_no_variable_means_no_watching_and_a_bad_one_is_ignored(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    assert not lifeline.watch_from_env({})
    file = tmp_path / "not-a-pipe"
    file.write_text("")
    with file.open() as opened:
        assert not lifeline.watch_from_env({lifeline.LIFELINE_FD_ENV: str(opened.fileno())})
    assert not lifeline.watch_from_env({lifeline.LIFELINE_FD_ENV: "seven"})
    assert "is not a lifeline" in caplog.text


def test_a_stopped_watch_does_not_call_back() -> None:
    line = lifeline.open_lifeline()
    assert line is not None
    cut = threading.Event()
    assert lifeline.watch_from_env(line.child_env(), on_cut=cut.set)
    lifeline.stop_watching()
    time.sleep(0.1)  # the stop runs on the loop
    line.read_fd = -1  # closed by the watcher
    line.cut()
    assert not cut.wait(0.3)


@pytest.mark.anyio
async def test_a_run_and_its_children_die_when_the_workers_end_of_the_lifeline_closes(
        tmp_path: Path) -> None:
    pids = tmp_path / "pids.txt"
    body = tmp_path / "run.py"
    body.write_text(textwrap.dedent(f"""
        import os, subprocess, sys, time
        from headwater._private import lifeline
        assert lifeline.watch_from_env()
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
        open({str(pids)!r}, "w").write(f"{{os.getpid()}} {{child.pid}}")
        time.sleep(120)
    """))
    async with ProcessWorker("pool", command=[sys.executable, str(body)]) as worker:
        flow = await worker.client.request("POST", "flows/", json={"name": "f"})
        run = await worker.client.request("POST", "flow_runs/", json={
            "flow_id": flow["id"], "state": {"type": "PENDING"}})
        assert await worker.submit(run)
        handle = worker.runs[uuid.UUID(run["id"])].handle
        await _until(lambda: len(pids.read_text().split()) == 2 if pids.exists() else False)
        _, grandchild = map(int, pids.read_text().split())
        worker._lifelines[handle.pid].cut()  # what the kernel does when the worker dies
        await _until(lambda: handle.poll() is not None)
        assert handle.returncode == -9
        await _until(lambda: _gone(grandchild))
        await worker.supervise()
        state = (await worker.client.read_flow_run(run["id"]))["state"]
    assert state["type"] == "CRASHED" and "exited with code -9" in state["message"]


async def _until(check: Any, seconds: float = 60.0) -> None:
    import asyncio

    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:  # a zombie (its parent, the killed run, is gone; init reaps it soon)
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] == "Z"
    except OSError:
        return False

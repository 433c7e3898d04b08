"""An interrupted flow run holds nothing: slots given back, no child run left Running.

A real process runs a recorded flow whose tasks take slots of a tag limit
of 2 in the embedded database and sleep; once two are running, it gets
SIGTERM or SIGINT. After it exits, the database must hold no lease, and
every task run must be final with a reason (Crashed or Cancelled), and the
process must not print asyncio's "Task was destroyed but it is pending".

One exception: after Ctrl-C in a sync flow, Python waits for the task
runner's threads before it exits (a sync function cannot be stopped from
outside), so the two running tasks finish their 3 s and end Completed; the
third, not started, never starts.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

_SYNC = """
import sys, time
from pathlib import Path
from headwater import flow, task

started = Path(sys.argv[1])

@task(tags=["db"])
def slow(i):
    with started.open("a") as f:
        f.write(f"{i}\\n")
    time.sleep(3)
    return i

@flow
def main():
    return [f.result() for f in slow.map(range(3))]

main()
"""

_ASYNC = """
import asyncio, sys
from pathlib import Path
from headwater import flow, task

started = Path(sys.argv[1])

@task(tags=["db"])
async def slow(i):
    with started.open("a") as f:
        f.write(f"{i}\\n")
    await asyncio.sleep(3)
    return i

@flow
async def main():
    return [await f.result_async() for f in slow.map(range(3))]

asyncio.run(main())
"""


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADWATER_")}
    env["HEADWATER_HOME"] = str(home)
    return env


@pytest.mark.slow
@pytest.mark.parametrize("script", [_SYNC, _ASYNC], ids=["sync", "async"])
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_an_interrupted_flow_run_holds_nothing(tmp_path: Path, script: str,
                                               signum: signal.Signals) -> None:
    home = tmp_path / "home"
    subprocess.run([sys.executable, "-c", "from headwater.concurrency import "
                    "set_concurrency_limit; set_concurrency_limit('db', 2)"],
                   env=_env(home), check=True, timeout=120)
    started = tmp_path / "started"
    started.touch()
    process = subprocess.Popen([sys.executable, "-c", textwrap.dedent(script), str(started)],
                               env=_env(home), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while len(started.read_text().split()) < 2:  # two tasks hold the two slots
            assert process.poll() is None, process.communicate()[0]
            assert time.monotonic() < deadline, "the tasks did not start"
            time.sleep(0.02)
        process.send_signal(signum)
        output, _ = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode != 0
    assert "was destroyed but it is pending" not in output
    with sqlite3.connect(home / "headwater.db") as con:
        leases = con.execute("SELECT count(*) FROM concurrency_lease").fetchone()[0]
        runs = con.execute(
            "SELECT r.name, r.state_type, s.message FROM task_run AS r "
            "JOIN task_run_state AS s ON s.id = r.state_id ORDER BY r.name").fetchall()
        flow_state = con.execute("SELECT state_type FROM flow_run").fetchone()[0]
    assert leases == 0, "slots are still held by a process that is gone"
    assert [name for name, _, _ in runs] == ["slow-0", "slow-1", "slow-2"]
    finished_anyway = script is _SYNC and signum == signal.SIGINT
    for name, state_type, message in runs:
        if finished_anyway and name != "slow-2":
            assert state_type == "COMPLETED", (name, state_type)
            continue
        assert state_type in ("CRASHED", "CANCELLED"), (name, state_type)
        assert message, name
    assert flow_state in ("CRASHED", "CANCELLED")

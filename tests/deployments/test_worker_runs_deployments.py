"""A worker runs a deployment's run end to end: deploy, create runs, a worker claims and executes.

Real processes: ``headwater deploy``, ``headwater worker start --run-once``
(which launches ``python -m headwater.engine`` for each run it claims) and
the flow run itself, against the embedded database of a temporary home.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .processes import api, clean_env, eventually, write

FLOW = """
    from headwater import flow, get_run_logger, task

    @task
    def load(n: int) -> int:
        return n

    @flow
    def etl(n: int = 1) -> int:
        get_run_logger().info("loading %s on a worker", n)
        return load(n) * 2
"""


def cli(home: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "headwater.cli", *args],
                          env=clean_env({"HEADWATER_HOME": str(home)}), cwd=cwd,
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.slow
def test_a_worker_runs_only_the_runs_its_labels_allow_to_completion(tmp_path: Path) -> None:
    home = tmp_path / "home"
    settings = {"HEADWATER_HOME": str(home)}
    write(tmp_path / "flows", "etl.py", FLOW)
    for args in (("work-pool", "create", "local"),
                 ("deploy", "flows/etl.py:etl", "--name", "gpu", "--pool", "local",
                  "--label", "gpu", "--param", "n=4"),
                 ("deploy", "flows/etl.py:etl", "--name", "tpu", "--pool", "local",
                  "--label", "tpu")):
        done = cli(home, tmp_path, *args)
        assert done.returncode == 0, done.stdout + done.stderr

    def create(name: str) -> str:
        async def work(client: Any) -> str:
            deployment = await client.read_deployment_by_name(f"etl/{name}")
            run = await client.create_flow_run_from_deployment(deployment["id"])
            return str(run["id"])
        return str(api(settings, work))

    wanted, other = create("gpu"), create("tpu")
    worker = cli(home, tmp_path, "worker", "start", "--pool", "local", "--label", "gpu",
                 "--run-once")
    assert worker.returncode == 0, worker.stdout + worker.stderr
    assert "Launched 1 flow run(s)." in worker.stdout

    def read(run_id: str) -> dict[str, Any]:
        return dict(api(settings, lambda c: c.read_flow_run(run_id)))

    finished = eventually(lambda: (r := read(wanted))["state_type"] in
                          ("COMPLETED", "FAILED", "CRASHED") and r, "the claimed run ends")
    assert finished["state_type"] == "COMPLETED", finished["state"]
    assert finished["parameters"] == {"n": 4}
    logs = cli(home, tmp_path, "flow-run", "logs", wanted)
    assert "loading 4 on a worker" in logs.stdout, logs.stdout + logs.stderr
    # The tpu run is left for a worker with that label, and inspect says why it waits.
    assert read(other)["state_type"] == "SCHEDULED"
    inspected = cli(home, tmp_path, "flow-run", "inspect", other)
    assert "the worker offers ['gpu']" in " ".join(inspected.stdout.split()), inspected.stdout

"""Suspension end to end in real processes: ``serve`` and ``headwater worker start``.

The flow run's process suspends it and exits; serve and the worker do not
mark it crashed; a resume schedules it again, and the next process reuses
the task run that completed with a persisted result.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from headwater.settings import temporary_settings

from .processes import api, clean_env, eventually, process, write

pytestmark = pytest.mark.slow

FLOW = """
    import sys
    from pathlib import Path

    from headwater import flow, task
    from headwater.pausing import suspend_flow_run

    @task(persist_result=True)
    def load(folder: str, n: int) -> int:
        path = Path(folder) / "loads"
        path.write_text(str(int(path.read_text()) + 1 if path.exists() else 1))
        return n

    @flow
    def approve(folder: str, n: int = 1) -> int:
        loaded = load(folder, n)
        extra = suspend_flow_run(wait_for_input=int, timeout=600, key="approval")
        (Path(folder) / "result").write_text(str(loaded + extra))
        return loaded + extra

    if __name__ == "__main__":
        approve.serve("gate", limit=2)
"""


def _read(settings: dict[str, str], run_id: str) -> dict[str, Any]:
    return dict(api(settings, lambda c: c.read_flow_run(run_id)))


def _suspended_then_resumed(settings: dict[str, str], run_id: str, tmp_path: Path) -> None:
    paused = eventually(lambda: (r := _read(settings, run_id))["state_type"] == "PAUSED" and r,
                        "the run suspends")
    assert paused["state_name"] == "Suspended"
    from headwater.pausing import resume_flow_run

    with temporary_settings(**settings):
        resume_flow_run(run_id, run_input={"value": 41})


def test_serve_runs_a_resumed_run_again_without_crashing_it(tmp_path: Path) -> None:
    settings = {"HEADWATER_HOME": str(tmp_path / "home"), "HEADWATER_RUNNER_POLL_SECONDS": "0.2"}
    write(tmp_path / "flows", "approve.py", FLOW)
    with process(["flows/approve.py"], clean_env(settings), tmp_path) as serving:
        deployment = eventually(
            lambda: api(settings, lambda c: c.read_deployments(flow_name="approve")),
            "the deployment is registered")[0]
        run = api(settings, lambda c: c.create_flow_run_from_deployment(
            deployment["id"], parameters={"folder": str(tmp_path), "n": 1}))
        _suspended_then_resumed(settings, str(run["id"]), tmp_path)
        done = eventually(lambda: (r := _read(settings, run["id"]))["state_type"]
                          in ("COMPLETED", "FAILED", "CRASHED") and r, "the resumed run ends")
        serving.send_signal(signal.SIGINT)
        output, _ = serving.communicate(timeout=60)
    assert done["state_type"] == "COMPLETED", (done["state"], output)
    assert done["run_count"] == 2
    assert (tmp_path / "result").read_text() == "42"
    assert (tmp_path / "loads").read_text() == "1"  # reused, not run again
    assert "crashed" not in output.lower()


def _cli(settings: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "headwater.cli", *args],
                          env=clean_env(settings), cwd=cwd, capture_output=True, text=True,
                          timeout=120, check=False)


def test_a_worker_leaves_a_suspended_run_paused_and_runs_it_again(tmp_path: Path) -> None:
    settings = {"HEADWATER_HOME": str(tmp_path / "home")}
    write(tmp_path / "flows", "approve.py", FLOW)
    for args in (("work-pool", "create", "local"),
                 ("deploy", "flows/approve.py:approve", "--name", "gate", "--pool", "local",
                  "--param", f"folder={tmp_path}")):
        done = _cli(settings, tmp_path, *args)
        assert done.returncode == 0, done.stdout + done.stderr
    run = api(settings, lambda c: c.read_deployment_by_name("approve/gate"))
    run = api(settings, lambda c: c.create_flow_run_from_deployment(run["id"]))
    first = _cli(settings, tmp_path, "worker", "start", "--pool", "local", "--run-once")
    assert first.returncode == 0, first.stdout + first.stderr
    _suspended_then_resumed(settings, str(run["id"]), tmp_path)
    assert _read(settings, run["id"])["state_name"] == "Resuming"
    second = _cli(settings, tmp_path, "worker", "start", "--pool", "local", "--run-once")
    assert second.returncode == 0, second.stdout + second.stderr
    done = eventually(lambda: (r := _read(settings, run["id"]))["state_type"]
                      in ("COMPLETED", "FAILED", "CRASHED") and r, "the resumed run ends")
    assert done["state_type"] == "COMPLETED", (done["state"], first.stdout, second.stdout)
    assert (tmp_path / "result").read_text() == "42"
    assert (tmp_path / "loads").read_text() == "1"
    states = [s["name"] for s in api(settings, lambda c: c.read_flow_run_states(run["id"]))]
    assert "Crashed" not in states and states.count("Suspended") == 1

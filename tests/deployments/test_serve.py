"""``serve`` end to end: a real process schedules, claims and runs a deployment's runs."""

from __future__ import annotations

import itertools
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from headwater.deployments import run_deployment
from headwater.settings import temporary_settings

from .processes import api, clean_env, eventually, process, write

pytestmark = pytest.mark.slow

SERVED = """
    import sys
    import time
    from headwater import flow, get_run_logger, runtime

    @flow
    def job(n: int = 1, sleep: float = 0.0) -> int:
        get_run_logger().info("job n=%s deployment=%s version=%s", n, runtime.deployment.name,
                              runtime.deployment.version)
        time.sleep(sleep)
        return n

    if __name__ == "__main__":
        job.serve("every-second", interval=1, parameters={"n": 3}, limit=int(sys.argv[1]))
"""


@pytest.fixture(params=["embedded", "server"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    """Settings of the serve process and of the test: a home, and for "server" a live API."""
    base = {"HEADWATER_HOME": str(tmp_path / "home"), "HEADWATER_RUNNER_POLL_SECONDS": "0.2",
            "HEADWATER_RUNNER_SHUTDOWN_GRACE_SECONDS": "5"}
    if request.param == "embedded":
        yield base
        return
    from headwater.server.app import create_app
    from server.server_helpers import LiveServer

    application = create_app(f"sqlite:///{tmp_path / 'server.db'}", use_settings=False)
    with LiveServer(application) as server:
        yield {**base, "HEADWATER_API_URL": server.url}


def runs_of(settings: dict[str, str], deployment_id: str) -> list[dict[str, Any]]:
    body = {"deployments": {"id": {"any_": [deployment_id]}}, "limit": 200}
    return list(api(settings, lambda c: c.request("POST", "flow_runs/filter", json=body)))


def current(settings: dict[str, str]) -> dict[str, Any] | None:
    from headwater.client import APIError

    async def read(client: Any) -> Any:
        try:
            return await client.read_deployment_by_name("job/every-second")
        except APIError:
            return None

    return api(settings, read)  # type: ignore[no-any-return]


def cli(settings: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "headwater.cli", *args], env=clean_env(settings),
                          capture_output=True, text=True, timeout=120, check=False)


def test_serve_runs_scheduled_and_ad_hoc_runs_and_stops_cleanly(
        settings: dict[str, str], tmp_path: Path) -> None:
    write(tmp_path / "flows", "job.py", SERVED)
    with process(["flows/job.py", "2"], clean_env(settings), tmp_path) as serving:
        deployment = eventually(lambda: current(settings), "the deployment is registered")
        def completed() -> list[dict[str, Any]] | None:
            done = [r for r in runs_of(settings, deployment["id"])
                    if r["state_type"] == "COMPLETED"]
            return done if len(done) >= 2 else None

        scheduled = eventually(completed, "two scheduled runs complete")
        assert all(r["parameters"] == {"n": 3} and r["auto_scheduled"] for r in scheduled)

        # An ad-hoc run alongside the scheduled ones, waited for by run_deployment.
        with temporary_settings(**settings):
            ad_hoc = run_deployment("job/every-second", parameters={"n": 7}, timeout=60,
                                    poll_interval=0.1)
        assert ad_hoc.state is not None and ad_hoc.state.is_completed(), ad_hoc.state
        assert ad_hoc.parameters == {"n": 7}

        logs = cli(settings, "flow-run", "logs", str(ad_hoc.id))
        assert logs.returncode == 0, logs.stderr
        assert f"job n=7 deployment=every-second version={deployment['version']}" in logs.stdout

        serving.send_signal(signal.SIGINT)
        output, _ = serving.communicate(timeout=60)
    assert serving.returncode == 0, output
    assert "Your deployments are being served" in output
    assert current(settings)["paused"] is True  # type: ignore[index]  # pause_on_shutdown
    # Every run it claimed ended: completed, or (in flight when it stopped) crashed saying so;
    # pausing cancelled the scheduled runs not started.
    for run in runs_of(settings, deployment["id"]):
        message = (run.get("state") or {}).get("message") or ""
        assert run["state_type"] in ("COMPLETED", "CRASHED", "CANCELLED"), run
        if run["state_type"] == "CRASHED":
            assert "termination signal" in message or "serve stopped" in message, message


def test_stopping_serve_ends_a_running_run_crashed_with_a_message(
        settings: dict[str, str], tmp_path: Path) -> None:
    write(tmp_path / "flows", "job.py", SERVED.replace(
        'interval=1, parameters={"n": 3}', 'parameters={"n": 3}'))
    with process(["flows/job.py", "1"], clean_env(settings), tmp_path) as serving:
        deployment = eventually(lambda: current(settings), "the deployment is registered")
        run = api(settings, lambda c: c.create_flow_run_from_deployment(
            deployment["id"], parameters={"sleep": 120}))
        eventually(lambda: api(settings, lambda c: c.read_flow_run(run["id"]))["state_type"]
                   == "RUNNING", "the run starts")
        serving.send_signal(signal.SIGTERM)
        output, _ = serving.communicate(timeout=60)
    assert serving.returncode == 0, output
    stored = api(settings, lambda c: c.read_flow_run(run["id"]))
    assert stored["state_type"] == "CRASHED", stored
    assert stored["state"]["message"] == "Execution was aborted by a termination signal."


def test_serve_runs_at_most_limit_runs_at_once(settings: dict[str, str], tmp_path: Path) -> None:
    write(tmp_path / "flows", "job.py", SERVED.replace(
        'interval=1, parameters={"n": 3}', 'parameters={"n": 3}'))
    with process(["flows/job.py", "1"], clean_env(settings), tmp_path) as serving:
        deployment = eventually(lambda: current(settings), "the deployment is registered")
        ids = [api(settings, lambda c: c.create_flow_run_from_deployment(
            deployment["id"], parameters={"sleep": 0.5}))["id"] for _ in range(3)]

        def ended() -> list[dict[str, Any]] | None:
            runs = [api(settings, lambda c, i=i: c.read_flow_run(i)) for i in ids]
            return runs if all(r["state_type"] == "COMPLETED" for r in runs) else None

        runs = sorted(eventually(ended, "the three runs complete"), key=lambda r: r["start_time"])
        serving.send_signal(signal.SIGINT)
        serving.communicate(timeout=60)
    for earlier, later in itertools.pairwise(runs):
        assert later["start_time"] >= earlier["end_time"]  # one at a time

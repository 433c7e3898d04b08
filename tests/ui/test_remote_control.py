"""The UI's Resume and Cancel buttons reach a flow run running in another process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from .conftest import Served

pytestmark = pytest.mark.slow
SCRIPT = Path(__file__).with_name("remote_flows.py")


@contextmanager
def _flow_process(served: Served, mode: str) -> Iterator[subprocess.Popen[str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADWATER_")}
    env.update(HEADWATER_API_URL=f"{served.url}/api", HEADWATER_FLOW_RUN_WATCH_INTERVAL="0.2",
               HEADWATER_HOME=str(served.home / f"client-{mode}"))
    process = subprocess.Popen([sys.executable, str(SCRIPT), mode], env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)


def _wait_for_state(served: Served, flow: str, state: str) -> dict[str, Any]:
    deadline = time.monotonic() + 45
    while time.monotonic() < deadline:
        runs = served.api("POST", "/flow_runs/filter",
                          json={"flows": {"name": {"any_": [flow]}}})
        if runs and runs[0]["state_type"] == state:
            return runs[0]  # type: ignore[no-any-return]
        time.sleep(0.2)
    raise AssertionError(f"no {state} run of {flow} within 45 s: {runs}")


def test_resume_button_resumes_a_paused_run(seeded: Served, page: Any) -> None:
    with _flow_process(seeded, "pause") as process:
        run = _wait_for_state(seeded, "waits-for-approval", "PAUSED")
        page.goto(f"{seeded.url}/runs/{run['id']}")
        page.click("[data-action=resume]")
        page.wait_for_selector("[role=status]:has-text('Resumed')")
        assert process.wait(timeout=45) == 0
    page.wait_for_selector(".page-head .badge[data-state=COMPLETED]", timeout=20_000)
    page.wait_for_selector("[data-testid=logs] .log:has-text('approved, going on')")


def test_cancel_button_stops_a_run_in_another_process(seeded: Served, page: Any) -> None:
    with _flow_process(seeded, "sleep") as process:
        run = _wait_for_state(seeded, "sleeps-until-cancelled", "RUNNING")
        page.goto(f"{seeded.url}/runs/{run['id']}")
        page.click("[data-action=cancel]")
        page.wait_for_selector("[role=status]:has-text('Cancelling')")
        process.wait(timeout=45)
    page.wait_for_selector(".page-head .badge[data-state=CANCELLED]", timeout=20_000)

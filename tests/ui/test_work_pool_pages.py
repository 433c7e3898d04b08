"""The work pools page and the run page's 'why it waits' note, in headless Chromium:
pools, queues, workers' last heartbeat (routes of ``/api/work_pools``), and the
reasons of ``GET /api/flow_runs/{id}/waiting`` (docs/workers.md)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import Served, _serve

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from _serve(tmp_path_factory.mktemp("ui-work-pools"))


def test_work_pools_show_workers_last_heartbeat(served: Served, page: Any,
                                                screenshots: Path) -> None:
    page.goto(f"{served.url}/work-pools")
    page.wait_for_selector("[data-testid=empty]:has-text('headwater work-pool create')")
    served.api("POST", "/work_pools/", json={"name": "gpu", "concurrency_limit": 4})
    served.api("POST", "/work_pools/gpu/workers/heartbeat",
               json={"name": "gpu-box-1", "heartbeat_interval_seconds": 30,
                     "labels": ["gpu"], "host": "box-1"})
    page.goto(f"{served.url}/work-pools")
    worker = page.locator("[data-pool=gpu] [data-worker=gpu-box-1]")
    worker.wait_for()
    text = worker.inner_text()
    assert "just now" in text or "ago" in text
    assert "online" in text and "box-1" in text and "gpu" in text
    pool = page.inner_text("[data-pool=gpu]")
    assert "default" in pool  # the pool's default queue
    assert "at most 4 runs at once" in pool
    assert page.locator("[data-testid=empty]").count() == 0
    page.screenshot(path=str(screenshots / "ui-work-pools.png"), full_page=True)


def test_pool_without_worker_says_how_to_start_one(served: Served, page: Any) -> None:
    served.api("POST", "/work_pools/", json={"name": "idle"})
    page.goto(f"{served.url}/work-pools")
    note = page.locator("[data-pool=idle]:has-text('headwater worker start --pool idle')")
    note.wait_for()
    assert page.locator("[data-pool=idle] [data-testid=workers]").count() == 0


def test_run_page_says_why_a_run_waits(served: Served, page: Any,
                                       screenshots: Path) -> None:
    served.api("POST", "/work_pools/", json={"name": "nobody"})
    flow = served.api("POST", "/flows/", json={"name": "etl"})
    deployment = served.api("POST", "/deployments/", json={
        "name": "nightly", "flow_id": flow["id"], "entrypoint": "flows/etl.py:etl",
        "work_pool_name": "nobody"})
    run = served.api("POST", f"/deployments/{deployment['id']}/create_flow_run", json={})
    reasons = served.api("GET", f"/flow_runs/{run['id']}/waiting")["reasons"]
    assert [r["code"] for r in reasons] == ["no_worker"]
    page.goto(f"{served.url}/runs/{run['id']}")
    note = page.locator("[data-testid=waiting]")
    note.wait_for()
    command = note.locator("[data-code=no_worker] code")
    assert command.inner_text() == "headwater worker start --pool nobody"
    page.screenshot(path=str(screenshots / "ui-run-waiting.png"), full_page=True)
    # A run that is not Scheduled has no note.
    served.api("POST", f"/flow_runs/{run['id']}/set_state",
               json={"state": {"type": "RUNNING", "name": "Running"}, "force": True})
    page.goto(f"{served.url}/runs/{run['id']}")
    page.wait_for_selector("text=Task runs")
    assert page.locator("[data-testid=waiting]").count() == 0

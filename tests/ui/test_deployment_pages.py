"""The deployments pages in headless Chromium: versions, schedules paused and
resumed, next runs, a run started from the UI, the runs page's deployment filter."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import Served, _serve

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, dict[str, Any]]]:
    """A server with two versions of ``etl/nightly`` (a daily cron, planned runs)."""
    for served in _serve(tmp_path_factory.mktemp("ui-deployments")):
        flow = served.api("POST", "/flows/", json={"name": "etl"})
        fields = {"name": "nightly", "flow_id": flow["id"], "entrypoint": "flows/etl.py:etl",
                  "code_location": {"kind": "local", "path": str(served.home)},
                  "schedules": [{"schedule": {"cron": "0 2 * * *",
                                              "timezone": "Europe/Paris"}}]}
        served.api("POST", "/deployments/", json={**fields, "version": "1",
                                                  "version_hash": "v1", "parameters": {"x": 1}})
        current = served.api("POST", "/deployments/", json={
            **fields, "version": "2", "version_hash": "v2", "parameters": {"x": 2}})
        served.api("POST", "/deployments/schedule", json={"deployment_ids": [current["id"]]})
        yield served, current


def test_deployments_list_and_page(deployed: tuple[Served, dict[str, Any]], page: Any,
                                   screenshots: Path) -> None:
    served, current = deployed
    page.goto(f"{served.url}/deployments")
    row = page.locator("[data-deployment='etl/nightly']")
    row.wait_for()
    assert "cron 0 2 * * * (Europe/Paris)" in row.inner_text()
    page.wait_for_function("!document.querySelector(\"[data-deployment='etl/nightly']\")"
                           ".innerText.includes('—')")  # the next run is known
    _shot_deployments = screenshots / "ui-deployments.png"
    page.screenshot(path=str(_shot_deployments), full_page=True)

    row.locator("a").first.click()
    page.wait_for_url(f"**/deployments/{current['id']}")
    page.wait_for_selector("[data-testid=next-runs] li")
    assert page.locator("[data-testid=next-runs] li").count() >= 3
    versions = page.inner_text("[data-testid=versions]")
    assert re.search(r"2\s.*current", versions) and "archived" in versions
    page.screenshot(path=str(screenshots / "ui-deployment.png"), full_page=True)


def test_a_schedule_pauses_and_resumes(deployed: tuple[Served, dict[str, Any]],
                                       page: Any) -> None:
    served, current = deployed
    page.goto(f"{served.url}/deployments/{current['id']}")
    page.click("[data-action=pause-schedule]")
    page.wait_for_selector("[data-action=resume-schedule]")
    schedules = served.api("GET", f"/deployments/{current['id']}/schedules")
    assert [s["active"] for s in schedules] == [False]
    page.click("[data-action=resume-schedule]")
    page.wait_for_selector("[data-action=pause-schedule]")
    assert served.api("GET", f"/deployments/{current['id']}/schedules")[0]["active"] is True

    page.click("[data-action=pause-deployment]")
    page.wait_for_selector("[data-action=resume-deployment]")
    assert served.api("GET", f"/deployments/{current['id']}")["paused"] is True
    page.click("[data-action=resume-deployment]")
    page.wait_for_selector("[data-action=pause-deployment]")
    assert served.api("GET", f"/deployments/{current['id']}")["paused"] is False


def test_run_now_creates_a_run_of_the_deployment(deployed: tuple[Served, dict[str, Any]],
                                                 page: Any) -> None:
    served, current = deployed
    page.goto(f"{served.url}/deployments/{current['id']}")
    page.click("[data-action=run-deployment]")
    page.wait_for_url(re.compile(r"/runs/[0-9a-f-]{36}$"))
    run_id = page.url.rsplit("/", 1)[1]
    run = served.api("GET", f"/flow_runs/{run_id}")
    assert run["deployment_id"] == current["id"] and run["parameters"] == {"x": 2}
    page.wait_for_selector(".facts a:has-text('version 2')")


def test_runs_page_filters_by_deployment(deployed: tuple[Served, dict[str, Any]],
                                         page: Any) -> None:
    served, current = deployed
    flow = served.api("POST", "/flows/", json={"name": "other"})
    served.api("POST", "/flow_runs/", json={"flow_id": flow["id"], "name": "not-deployed"})
    page.goto(f"{served.url}/runs")
    page.wait_for_selector("[data-testid=runs-table] tbody tr:has-text('not-deployed')")
    page.select_option("select[name=deployment]", current["id"])
    page.wait_for_url(re.compile(f"deployment={current['id']}"))
    expected = served.api("POST", "/flow_runs/count",
                          json={"deployments": {"id": {"any_": [current["id"]]}}})
    assert expected >= 1  # (pausing its schedule above dropped the planned runs)
    page.wait_for_selector(f"[data-testid=runs-count]:has-text('of {expected}')")
    assert "not-deployed" not in page.inner_text("[data-testid=runs-table]")


def test_run_again_starts_a_new_run_with_the_same_parameters(
        deployed: tuple[Served, dict[str, Any]], page: Any) -> None:
    served, current = deployed
    done = served.api("POST", f"/deployments/{current['id']}/create_flow_run", json={
        "parameters": {"x": 7}, "state": {"type": "COMPLETED", "name": "Completed"}})
    page.goto(f"{served.url}/runs/{done['id']}")
    page.click("[data-action=run-again]")
    page.wait_for_url(re.compile(r"/runs/(?!" + done["id"] + r")[0-9a-f-]{36}$"))
    again = served.api("GET", f"/flow_runs/{page.url.rsplit('/', 1)[1]}")
    assert again["deployment_id"] == current["id"] and again["parameters"] == {"x": 7}
    assert again["state_type"] == "SCHEDULED"

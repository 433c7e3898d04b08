"""The web UI in headless Chromium against a real server: each page, filters, the
timeline's retries, following logs, cancelling, and the API key."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from pathlib import Path
from typing import Any

import pytest

from .conftest import Served

pytestmark = pytest.mark.slow


def _shot(page: Any, folder: Path, name: str) -> None:
    page.screenshot(path=str(folder / f"ui-{name}.png"), full_page=True)


def test_runs_page_lists_runs_and_filters_them(seeded: Served, page: Any,
                                               screenshots: Path) -> None:
    page.goto(f"{seeded.url}/")
    rows = page.locator("[data-testid=runs-table] tbody tr")
    page.wait_for_selector("[data-testid=runs-table] tbody tr")
    names = rows.all_inner_texts()
    assert any("nightly-etl" in r for r in names) and any("broken-flow" in r for r in names)
    assert page.locator("[data-testid=runs-count]").inner_text().endswith("of 9")
    chart = page.locator("[data-testid=history-chart]")
    assert chart.locator("rect.bar").count() == 9
    _shot(page, screenshots, "runs")

    # Five runs with the same start and end: five lanes, five bars, none hidden.
    page.goto(f"{seeded.url}/runs?tags=burst")
    page.wait_for_selector("[data-testid=history-chart][data-lanes='5']")
    bars = chart.locator("rect.bar")
    assert bars.count() == 5
    assert len({bars.nth(i).get_attribute("y") for i in range(5)}) == 5

    page.goto(f"{seeded.url}/runs")
    page.wait_for_selector("[data-testid=runs-table] tbody tr")
    page.click("[data-state-toggle=FAILED]")
    page.wait_for_url(re.compile(r"state=FAILED"))
    page.wait_for_function("document.querySelectorAll('[data-testid=runs-table] tbody tr')"
                           ".length === 1")
    assert "broken-flow" in rows.first.inner_text()

    page.click("[data-state-toggle=FAILED]")  # off again
    flow = seeded.run_named("nightly-etl")["flow_id"]
    page.select_option("select[name=flow]", flow)
    page.wait_for_url(re.compile(f"flow={flow}"))
    page.wait_for_function("[...document.querySelectorAll('[data-testid=runs-table] tbody tr')]"
                           ".every(r => r.innerText.includes('nightly-etl'))")

    page.goto(f"{seeded.url}/runs?tags=nightly")
    page.wait_for_function("document.querySelectorAll('[data-testid=runs-table] tbody tr')"
                           ".length === 1")
    assert "still-running" in rows.first.inner_text()

    future = (dt.datetime.now() + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    page.goto(f"{seeded.url}/runs?range=custom&after={future}")
    page.wait_for_selector("[data-testid=empty]")
    assert "No flow runs match these filters" in page.inner_text("[data-testid=empty]")


def test_run_page_shows_retries_subflows_states_and_parameters(seeded: Served, page: Any,
                                                               screenshots: Path) -> None:
    run = seeded.run_named("nightly-etl")
    page.goto(f"{seeded.url}/runs/{run['id']}")
    timeline = page.locator("[data-testid=timeline]")
    page.wait_for_selector("[data-testid=timeline]:not([data-detailed='0'])")
    # flaky() failed twice before completing: one task run retried.
    assert timeline.get_attribute("data-retried") == "1"
    assert int(timeline.get_attribute("data-rows") or 0) == 15  # 14 task runs + 1 subflow
    page.check("text=only retried or failed")
    page.wait_for_selector("[data-testid=timeline][data-rows='1']")
    page.uncheck("text=only retried or failed")
    sub = seeded.run_named("publish-report")
    assert sub["name"] in page.inner_text("[data-testid=subflows]")
    assert '"region": "eu"' in page.inner_text("pre.params")
    history = page.inner_text(".states-list")
    assert history.index("Pending") < history.index("Running") < history.index("Completed")
    _shot(page, screenshots, "run")

    # Clicking the retried row lists its states, the retries among them.
    page.check("text=only retried or failed")
    page.wait_for_selector("[data-testid=timeline][data-rows='1']")
    box = page.locator(".timeline-scroll").bounding_box()
    page.mouse.click(box["x"] + 400, box["y"] + 20 + 9)
    details = page.locator("[data-testid=task-details]")
    details.wait_for()
    page.wait_for_function("document.querySelector('[data-testid=task-details]').innerText"
                           ".includes('AwaitingRetry')")
    assert details.inner_text().count("AwaitingRetry") == 2

    page.click(f"[data-testid=subflows] a:text('{sub['name']}')")
    page.wait_for_url(f"**/runs/{sub['id']}")
    page.wait_for_selector(".facts:has-text('Subflow of')")
    assert sub["name"] in page.inner_text(".page-head h1")


def test_logs_filter_by_level_and_follow_new_lines(seeded: Served, page: Any,
                                                   screenshots: Path) -> None:
    run = seeded.run_named("nightly-etl")
    page.goto(f"{seeded.url}/runs/{run['id']}")
    logs = page.locator("[data-testid=logs]")
    page.wait_for_selector("[data-testid=logs] .log")
    assert "an error line" in logs.inner_text() and "Extracted 12 values" in logs.inner_text()
    page.select_option("select[name=level]", "40")
    page.wait_for_function("![...document.querySelectorAll('[data-testid=logs] .log')]"
                           ".some(l => l.dataset.level !== 'ERROR' && "
                           "l.dataset.level !== 'CRITICAL')")
    assert "an error line" in logs.inner_text()
    assert "Extracted 12 values" not in logs.inner_text()

    page.select_option("select[name=level]", "0")
    page.check("input[name=follow]")
    line = f"a line logged later {uuid.uuid4().hex[:6]}"
    seeded.api("POST", "/logs/", json=[{
        "name": "test", "level": 20, "message": line, "flow_run_id": run["id"],
        "timestamp": dt.datetime.now(dt.timezone.utc).isoformat()}])
    page.wait_for_selector(f"[data-testid=logs] .log:has-text('{line}')")
    _shot(page, screenshots, "logs")


def test_cancel_button_cancels_a_running_run(seeded: Served, page: Any) -> None:
    run = seeded.run_named("long-job")
    assert run["state_type"] == "RUNNING"
    page.goto(f"{seeded.url}/runs/{run['id']}")
    page.click("[data-action=cancel]")
    page.wait_for_selector("[role=status]:has-text('Cancelling')")
    page.wait_for_selector(".page-head .badge[data-state=CANCELLING]")
    assert seeded.api("GET", f"/flow_runs/{run['id']}")["state_type"] == "CANCELLING"
    assert page.locator("[data-action=cancel]").count() == 0  # asked once


def test_flows_and_concurrency_pages(seeded: Served, page: Any, screenshots: Path) -> None:
    page.goto(f"{seeded.url}/flows")
    page.wait_for_selector("[data-testid=flows-table] tbody tr")
    table = page.inner_text("[data-testid=flows-table]")
    for name in ("nightly-etl", "broken-flow", "publish-report", "long-job"):
        assert name in table
    _shot(page, screenshots, "flows")
    page.click("[data-testid=flows-table] a:text('nightly-etl')")
    page.wait_for_url(re.compile(r"/runs\?flow="))
    page.wait_for_selector("[data-testid=runs-table] tbody tr")

    page.goto(f"{seeded.url}/concurrency")
    row = page.locator("[data-limit='tag:database']")
    row.wait_for()
    assert "1 / 3" in row.inner_text()
    etl = seeded.run_named("nightly-etl")
    holder = row.locator(".holders a")
    holder.wait_for()
    assert holder.get_attribute("href") == f"/runs/{etl['id']}"
    _shot(page, screenshots, "concurrency")


def test_api_key_is_asked_for_and_empty_pages_say_what_to_run(locked: Served, page: Any,
                                                              screenshots: Path) -> None:
    assert locked.api("GET", "/health") is True
    page.goto(f"{locked.url}/runs")
    prompt = page.locator("[data-testid=key-prompt]")
    prompt.wait_for()
    _shot(page, screenshots, "api-key")
    page.fill("input[name=api-key]", "not-the-key")
    page.click("text=Use key")
    page.wait_for_selector("[data-testid=key-prompt] [role=alert]:has-text('refused')")

    page.fill("input[name=api-key]", "k3y-ui")
    page.click("text=Use key")
    page.wait_for_selector("[data-testid=empty]")
    assert "No flow runs yet" in page.inner_text("[data-testid=empty]")
    assert "python examples/etl.py" in page.inner_text("[data-testid=empty]")
    for path, text in (("/flows", "No flows yet"),
                       ("/concurrency", "headwater concurrency-limit create")):
        page.goto(f"{locked.url}{path}")
        page.wait_for_selector(f"[data-testid=empty]:has-text('{text}')")
    _shot(page, screenshots, "empty")

"""Fixtures of the web UI's end-to-end tests: a seeded server and headless Chromium.

The browser is Debian's ``chromium`` (``/usr/bin/chromium``, or
``HEADWATER_CHROMIUM``) driven by Playwright (the ``playwright`` pip package
brings the driver, not a browser). Without either, the tests are skipped,
except in CI (``HEADWATER_CI`` or ``CI`` set), where a missing browser is a failure.
Screenshots go to ``HEADWATER_UI_SCREENSHOTS`` when set, else to a temporary
folder (``docs/images/ui-*.png`` are copies of a run's).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.server_helpers import free_port, start_cli_server

CHROMIUM = os.environ.get("HEADWATER_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SEED = Path(__file__).with_name("seed_flows.py")


def _need(what: str) -> None:
    if os.environ.get("HEADWATER_CI") or os.environ.get("CI"):
        pytest.fail(f"the UI tests need {what} in CI (see .ci/run)")
    pytest.skip(f"the UI tests need {what}; see README, Running all tests")


@dataclass
class Served:
    """A running ``headwater server start`` and what its database holds."""

    url: str
    home: Path

    def api(self, method: str, path: str, key: str | None = None, **kw: Any) -> Any:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        response = httpx.request(method, f"{self.url}/api{path}", headers=headers, timeout=30,
                                 **kw)
        assert response.status_code < 300, response.text
        return response.json() if response.content else None

    def run_named(self, flow: str) -> dict[str, Any]:
        runs = self.api("POST", "/flow_runs/filter", json={"flows": {"name": {"any_": [flow]}}})
        assert runs, f"no run of {flow}"
        return runs[0]  # type: ignore[no-any-return]


def _serve(home: Path, **env: str) -> Iterator[Served]:
    port = free_port()
    process = start_cli_server(home, port, **env)
    try:
        yield Served(f"http://127.0.0.1:{port}", home)
    finally:
        process.terminate()
        process.communicate(timeout=30)


@pytest.fixture(scope="session")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A server on a database of real runs (``seed_flows.py``), a running flow run made
    through the API, and a tag limit one of the task runs holds."""
    home = tmp_path_factory.mktemp("ui-home")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADWATER_")}
    subprocess.run([sys.executable, str(SEED)], env={**env, "HEADWATER_HOME": str(home)},
                   check=True, capture_output=True, timeout=120)
    for served in _serve(home):
        flow = served.api("POST", "/flows/", json={"name": "long-job"})
        served.api("POST", "/flow_runs/", json={
            "flow_id": flow["id"], "name": "still-running", "tags": ["nightly"],
            "state": {"type": "RUNNING", "name": "Running"}})
        # Five runs that started and ended at the same instants (the history chart
        # must show five bars, not one on top of four).
        start = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=30)
        burst = [str(uuid.uuid4()) for _ in range(5)]
        served.api("POST", "/records/batch", json={
            "flows": [{"name": "burst"}],
            "flow_runs": [{"id": run_id, "flow_name": "burst", "name": f"burst-{i}",
                           "tags": ["burst"], "expected_start_time": start.isoformat()}
                          for i, run_id in enumerate(burst)],
            "states": [{"id": str(uuid.uuid4()), "run_id": run_id, "run_kind": "flow",
                        "type": type_, "timestamp": (start + dt.timedelta(seconds=s)).isoformat()}
                       for run_id in burst for type_, s in (("RUNNING", 0), ("COMPLETED", 60))]})
        etl = served.run_named("nightly-etl")
        task = served.api("POST", "/task_runs/filter", json={
            "flow_runs": {"id": {"any_": [etl["id"]]}}, "limit": 1})[0]
        served.api("POST", "/concurrency_limits/", json={"tag": "database",
                                                         "concurrency_limit": 3})
        grant = served.api("POST", "/concurrency_limits/increment", json={
            "names": ["tag:database"], "holder": task["id"], "lease_duration": 3600})
        assert grant["granted"]
        yield served


@pytest.fixture(scope="session")
def locked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A server with an API key, on an empty database."""
    yield from _serve(tmp_path_factory.mktemp("ui-locked"), HEADWATER_SERVER_API_KEY="k3y-ui")


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = os.environ.get("HEADWATER_UI_SCREENSHOTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("ui-screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A Chromium context with a fresh profile, for one test module.

    Not for the session: while Playwright's sync API is open, its event loop
    counts as running in this thread, and the async tests of other modules
    (pytest-randomly interleaves modules) could not start theirs.
    """
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _need("the playwright package (pip install -e '.[test]')")
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).is_file():
        _need(f"Chromium at {CHROMIUM} (apt-get install chromium)")
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, args=FLAGS,
            viewport={"width": 1280, "height": 860})
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A new tab; fails the test on any error in the page's scripts."""
    tab = browser.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.set_default_timeout(15_000)
    try:
        yield tab
    finally:
        tab.close()
    assert not errors, f"errors in the page: {errors}"

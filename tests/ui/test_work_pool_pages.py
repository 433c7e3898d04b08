"""The work pools page in headless Chromium: pools, queues, workers' last heartbeat
(needs the work pool routes of #17, hw-live)."""

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
               json={"name": "gpu-box-1", "heartbeat_interval_seconds": 30})
    page.goto(f"{served.url}/work-pools")
    worker = page.locator("[data-pool=gpu] [data-worker=gpu-box-1]")
    worker.wait_for()
    assert "just now" in worker.inner_text() or "ago" in worker.inner_text()
    assert "default" in page.inner_text("[data-pool=gpu]")  # the pool's default queue
    page.screenshot(path=str(screenshots / "ui-work-pools.png"), full_page=True)



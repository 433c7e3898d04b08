"""The web UI's server side: its static files at ``/``, and the compact ``/api/ui`` reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from .server_helpers import at, make_flow, make_flow_run, make_task_run, new_id, set_state

pytest.importorskip("fastapi")
pytestmark = pytest.mark.anyio
KEY = "ui-key-value"


def _ms(seconds: float) -> int:
    """``at(seconds)`` as epoch milliseconds (2024-01-01T00:00:00Z is 1704067200 s)."""
    return round((1_704_067_200 + seconds) * 1000)


async def _retried_task(client: Any, flow_run_id: str) -> dict[str, Any]:
    """A task run that waited, failed once, waited for its retry, then completed."""
    task = await make_task_run(client, flow_run_id, key="flaky", expected_start_time=at(10))
    for type_, name in (("PENDING", None), ("RUNNING", None), ("SCHEDULED", "AwaitingRetry"),
                        ("RUNNING", "Retrying"), ("COMPLETED", None)):
        result = await set_state(client, "task", task["id"], type_, name, force=True)
        assert result["status"] == "ACCEPT", result
    return task


async def test_timeline_lists_task_runs_with_attempts_and_subflows(client: Any) -> None:
    run = await make_flow_run(client, "etl", expected_start_time=at(0))
    task = await _retried_task(client, run["id"])
    plain = await make_task_run(client, run["id"], key="plain", expected_start_time=at(20))
    sub = await make_flow_run(client, "child", parent_flow_run_id=run["id"],
                              parent_task_run_id=plain["id"], expected_start_time=at(21))
    other = await make_flow_run(client, "etl")
    await make_task_run(client, other["id"], key="elsewhere")

    response = await client.get(f"/ui/flow_runs/{run['id']}/timeline")
    assert response.status_code == 200
    timeline = response.json()
    assert [t[0] for t in timeline["task_runs"]] == [task["id"], plain["id"]]
    flaky = timeline["task_runs"][0]
    assert flaky[1:5] == [task["name"], "COMPLETED", "Completed", 2]  # two attempts
    assert flaky[5] == _ms(10)
    assert flaky[6] is not None and flaky[7] is not None and flaky[7] >= flaky[6]
    assert timeline["subflows"] == [[sub["id"], sub["name"], plain["id"], None, None,
                                     _ms(21), None, None]]
    assert timeline["truncated"] is False

    states = (await client.post("/ui/task_runs/states",
                                json={"task_run_ids": [task["id"], plain["id"]]})).json()
    assert list(states) == [task["id"]]  # the plain task run has no state yet
    history = states[task["id"]]
    assert [(s[1], s[2]) for s in history] == [
        ("PENDING", None), ("RUNNING", None), ("SCHEDULED", "AwaitingRetry"),
        ("RUNNING", "Retrying"), ("COMPLETED", None)]
    times = [s[0] for s in history]
    assert times == sorted(times)


async def test_timeline_of_an_unknown_run_is_404(client: Any) -> None:
    response = await client.get(f"/ui/flow_runs/{new_id()}/timeline")
    assert response.status_code == 404
    assert response.json()["detail"] == "Flow run not found."


async def test_bounded_count_stops_at_at_most(client: Any) -> None:
    for i in range(5):
        await make_flow_run(client, "counted", tags=["a"] if i % 2 else ["b"])
    count = await client.post("/ui/flow_runs/count", json={"at_most": 3})
    assert count.json() == {"count": 3, "more": True}
    tagged = await client.post("/ui/flow_runs/count",
                               json={"flow_runs": {"tags": {"all_": ["a"]}}, "at_most": 3})
    assert tagged.json() == {"count": 2, "more": False}
    assert (await client.post("/ui/flow_runs/count", json={"at_most": 0})).status_code == 422


async def test_history_rows_follow_the_filter_and_sort(client: Any) -> None:
    flow_a = await make_flow(client, "a")
    runs = [await make_flow_run(client, "a", expected_start_time=at(i)) for i in range(3)]
    await make_flow_run(client, "b", expected_start_time=at(100))
    await set_state(client, "flow", runs[1]["id"], "RUNNING")
    rows = (await client.post("/ui/flow_runs/history", json={
        "flows": {"id": {"any_": [flow_a["id"]]}}, "sort": "EXPECTED_START_TIME_DESC",
        "limit": 2})).json()
    assert [r[0] for r in rows] == [runs[2]["id"], runs[1]["id"]]
    assert rows[1][1:5] == [runs[1]["name"], flow_a["id"], "RUNNING", "Running"]
    assert rows[1][5] == _ms(1) and rows[1][6] is not None and rows[1][7] is None


async def test_flows_summary_counts_each_flows_runs(client: Any) -> None:
    busy = await make_flow(client, "busy")
    idle = await make_flow(client, "idle")
    for _ in range(4):
        await make_flow_run(client, "busy")
    summary = (await client.post("/ui/flows/summary", json={
        "flow_ids": [busy["id"], idle["id"]], "at_most": 3})).json()
    assert summary == {busy["id"]: {"runs": 3, "more": True},
                       idle["id"]: {"runs": 0, "more": False}}


# ---------------------------------------------------------------------- static files
def _app(tmp_path: Path, dist: Path | None, api_key: str | None = None) -> Any:
    from headwater.server.app import create_app
    from headwater.server.ui_static import install_ui

    app = create_app(f"sqlite:///{tmp_path / 'h.db'}", api_key=api_key, use_settings=False)
    if dist is not None:  # a second catch-all, before the package's: this build wins
        app.router.routes.pop()  # drop the default catch-all
        install_ui(app, dist)
    return app


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    root = tmp_path / "dist"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text("<!doctype html><title>shell</title>")
    (root / "assets" / "app-abc123.js").write_text("console.log(1)")
    (tmp_path / "secret.txt").write_text("outside")
    return root


async def _get(app: Any, path: str, key: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as c:
        try:
            return await c.get(path, headers=headers)
        finally:
            await app.state.database.aclose()


@pytest.mark.parametrize("path", ["/", "/runs", "/runs/3f1c7a52-0000-4000-8000-000000000000",
                                  "/flows?page=2"])
async def test_app_paths_get_the_shell(tmp_path: Path, dist: Path, path: str) -> None:
    response = await _get(_app(tmp_path, dist), path)
    assert response.status_code == 200
    assert "<title>shell</title>" in response.text
    assert response.headers["cache-control"] == "no-cache"


async def test_assets_are_served_and_cached_for_good(tmp_path: Path, dist: Path) -> None:
    response = await _get(_app(tmp_path, dist), "/assets/app-abc123.js")
    assert response.text == "console.log(1)"
    assert "immutable" in response.headers["cache-control"]
    missing = await _get(_app(tmp_path, dist), "/assets/gone-123.js")
    assert missing.status_code == 404


@pytest.mark.parametrize("path", ["/../secret.txt", "/%2e%2e/secret.txt",
                                  "/assets/..%2f..%2fsecret.txt"])
async def test_no_file_outside_the_build(tmp_path: Path, dist: Path, path: str) -> None:
    response = await _get(_app(tmp_path, dist), path)
    assert "outside" not in response.text


async def test_unknown_api_paths_stay_api_errors(tmp_path: Path, dist: Path) -> None:
    response = await _get(_app(tmp_path, dist), "/api/no-such-route")
    assert response.status_code == 404 and response.json() == {"detail": "Not Found"}


async def test_shell_loads_without_the_key_data_does_not(tmp_path: Path, dist: Path) -> None:
    assert (await _get(_app(tmp_path, dist, KEY), "/runs")).status_code == 200
    assert (await _get(_app(tmp_path, dist, KEY), "/api/hello")).status_code == 401
    assert (await _get(_app(tmp_path, dist, KEY), "/api/hello", KEY)).status_code == 200


async def test_the_package_ships_a_built_ui(tmp_path: Path) -> None:
    from headwater.server.ui_static import UI_DIST

    assert (UI_DIST / "index.html").is_file(), "run: cd ui && npm ci && npm run build"
    response = await _get(_app(tmp_path, None), "/")
    assert response.status_code == 200 and '<div id="app">' in response.text
    script = next(p for p in (UI_DIST / "assets").iterdir() if p.suffix == ".js")
    asset = await _get(_app(tmp_path, None), f"/assets/{script.name}")
    assert asset.status_code == 200 and "javascript" in asset.headers["content-type"]


async def test_without_a_build_the_root_says_how_to_build(tmp_path: Path) -> None:
    response = await _get(_app(tmp_path, tmp_path / "none"), "/")
    assert response.status_code == 503 and "npm run build" in response.text

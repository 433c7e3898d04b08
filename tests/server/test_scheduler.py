"""The scheduler service: planned runs, idempotency across schedulers, Late runs, lateness policy.

Time is passed in (``now``): nothing sleeps.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from typing import Any

import anyio
import pytest

from headwater._private.storage.bookkeeping import Book, advance
from headwater.server.database.engine import Database
from headwater.server.services.planning import SchedulerConfig
from headwater.server.services.scheduler import schedule_once

from .deployment_helpers import HOURLY, deployed, utc

pytestmark = pytest.mark.anyio

CONFIG = SchedulerConfig(min_runs=3, max_runs=5, min_scheduled_time=dt.timedelta(hours=1),
                         max_scheduled_time=dt.timedelta(hours=4),
                         late_after=dt.timedelta(seconds=15))
NOW = utc(2024, 3, 1, 12, 0)


async def _runs(client: Any, deployment_id: str, **flow_runs: Any) -> list[dict[str, Any]]:
    body: dict[str, Any] = {"deployments": {"id": {"any_": [deployment_id]}},
                            "sort": "EXPECTED_START_TIME_ASC", "limit": 1000}
    if flow_runs:
        body["flow_runs"] = flow_runs
    response = await client.post("/flow_runs/filter", json=body)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


@pytest.fixture(autouse=True)
def _clock(app: Any) -> Any:
    """The API's time: NOW, moved by the tests (set_now)."""
    app.state.now = lambda: app.state.test_now
    app.state.test_now = NOW
    return app


def set_now(app: Any, when: dt.datetime) -> dt.datetime:
    app.state.test_now = when
    return when


async def _scheduled(client: Any, **fields: Any) -> dict[str, Any]:
    return await deployed(client, schedules=[{"schedule": HOURLY, "parameters": {"y": "s"}}],
                          **fields)


async def test_runs_are_planned_ahead_once(app: Any, client: Any) -> None:
    dep = await _scheduled(client, tags=["t"])
    db = app.state.database
    report = await schedule_once(db, NOW, config=CONFIG)
    assert report.deployments == 1 and report.runs_created >= CONFIG.min_runs
    runs = await _runs(client, dep["id"])
    times = [dt.datetime.fromisoformat(r["expected_start_time"]) for r in runs]
    assert times == sorted(set(times)) and times[0] >= NOW
    assert len(runs) == report.runs_created <= CONFIG.max_runs
    first = runs[0]
    assert first["auto_scheduled"] is True and first["state"]["name"] == "Scheduled"
    assert first["parameters"] == {"x": 1, "y": "s"}
    assert first["tags"] == ["t", "auto-scheduled"]
    assert first["idempotency_key"].startswith(f"scheduled {dep['id']} ")
    assert first["schedule_id"] == dep["schedules"][0]["id"]
    assert first["deployment_version"] == dep["version"]
    # The next loop, even forced to plan again, adds nothing that exists.
    again = await schedule_once(db, NOW, config=CONFIG, deployment_ids=[dep["id"]])
    assert again.runs_created == 0
    await client.patch(f"/deployments/{dep['id']}", json={"description": "replan"})
    assert len(await _runs(client, dep["id"])) == len(runs)


async def test_two_schedulers_at_once_never_duplicate_a_run(app: Any, client: Any,
                                                            database_url: str) -> None:
    deps = [await _scheduled(client, name=f"d{i}") for i in range(4)]
    other = Database(database_url)  # another server on the same database
    reports: list[Any] = []
    try:
        async with anyio.create_task_group() as tg:
            for db in (app.state.database, other, app.state.database, other):
                async def run(db: Database = db) -> None:
                    reports.append(await schedule_once(db, NOW, config=CONFIG))
                tg.start_soon(run)
    finally:
        await other.aclose()
    total = 0
    for dep in deps:
        runs = await _runs(client, dep["id"])
        keys = [r["idempotency_key"] for r in runs]
        assert len(keys) == len(set(keys)) >= CONFIG.min_runs
        total += len(runs)
    assert sum(r.runs_created for r in reports) == total


async def test_paused_and_archived_versions_get_no_runs(app: Any, client: Any) -> None:
    dep = await _scheduled(client)
    await client.post(f"/deployments/{dep['id']}/pause_deployment")
    report = await schedule_once(app.state.database, NOW, config=CONFIG)
    assert report.runs_created == 0 and await _runs(client, dep["id"]) == []
    await client.post(f"/deployments/{dep['id']}/resume_deployment")
    await schedule_once(app.state.database, NOW, config=CONFIG)
    planned = await _runs(client, dep["id"])
    assert planned
    # Pausing again removes the planned runs that have not started: those
    # not due are deleted, the one due now (12:00) is Cancelled.
    await client.post(f"/deployments/{dep['id']}/pause_deployment")
    left = await _runs(client, dep["id"])
    assert [(r["expected_start_time"][11:16], r["state"]["type"]) for r in left] == [
        ("12:00", "CANCELLED")]
    assert "paused" in left[0]["state"]["message"]


async def test_a_new_version_takes_over_the_schedule(app: Any, client: Any) -> None:
    db = app.state.database
    old = await _scheduled(client, version="1")
    await schedule_once(db, NOW, config=CONFIG)
    later = set_now(app, NOW + dt.timedelta(hours=1, minutes=30))
    await schedule_once(db, later, config=CONFIG)  # the 12:00 and 13:00 runs are Late now
    late_runs = await _runs(client, old["id"], state={"name": {"any_": ["Late"]}})
    assert len(late_runs) == 2
    new = await _scheduled(client, version="2", parameters={"x": 2})
    # The old version's runs: the due one Cancelled with the reason, the future ones gone.
    left = await _runs(client, old["id"])
    assert [r["id"] for r in left] == [r["id"] for r in late_runs]
    assert {r["state"]["type"] for r in left} == {"CANCELLED"}
    assert "replaced by version '2'" in left[0]["state"]["message"]
    await schedule_once(db, later, config=CONFIG)
    assert await _runs(client, old["id"]) == left
    planned = await _runs(client, new["id"])
    assert planned and all(r["parameters"]["x"] == 2 for r in planned)


async def test_late_runs_and_the_skip_policy(app: Any, client: Any) -> None:
    db = app.state.database
    runs_late = await _scheduled(client, name="runs-late")
    skips = await _scheduled(client, name="skips", late_runs="skip", max_lateness_seconds=600)
    await schedule_once(db, NOW, config=CONFIG)
    # 12:00 and 13:00 have passed; 13:00 by 5 minutes (< max_lateness), 12:00 by 65.
    later = NOW + dt.timedelta(hours=1, minutes=5)
    report = await schedule_once(db, later, config=CONFIG)
    assert (report.runs_marked_late, report.runs_skipped) == (3, 1)
    states = [(r["expected_start_time"][11:16], r["state"]["type"], r["state"]["name"])
              for r in await _runs(client, skips["id"])][:2]
    assert states == [("12:00", "CANCELLED", "Cancelled"), ("13:00", "SCHEDULED", "Late")]
    runs = await _runs(client, runs_late["id"])
    assert [r["state"]["name"] for r in runs[:2]] == ["Late", "Late"]
    # Once the Late 13:00 run of "skips" is past max_lateness too, it is skipped.
    report = await schedule_once(db, later + dt.timedelta(minutes=10), config=CONFIG)
    assert report.runs_skipped == 1
    skipped = (await _runs(client, skips["id"]))[1]
    assert skipped["state"]["type"] == "CANCELLED" and "max_lateness" in skipped["state"]["message"]
    history = (await client.get("/flow_run_states/",
                                params={"flow_run_id": skipped["id"]})).json()
    assert [s["name"] for s in history] == ["Scheduled", "Late", "Cancelled"]
    # The bulk moves keep the row as the one bookkeeping rule would.
    book = Book()
    for state in history:
        book = advance(book, uuid.UUID(state["id"]), state["type"], state["name"],
                       dt.datetime.fromisoformat(state["timestamp"]))
    row = (await client.get(f"/flow_runs/{skipped['id']}")).json()
    assert row["state_id"] == str(book.state_id) and row["state_version"] == book.state_version
    assert row["state_type"] == book.state_type and row["run_count"] == book.run_count
    assert dt.datetime.fromisoformat(row["end_time"]) == book.end_time


async def test_the_schedule_route_plans_only_the_listed_deployments(client: Any) -> None:
    mine = await _scheduled(client, name="mine")
    other = await _scheduled(client, name="other")
    response = await client.post("/deployments/schedule",
                                 json={"deployment_ids": [mine["id"]]})
    assert response.status_code == 200, response.text
    assert response.json()["deployments"] == 1 and response.json()["runs_created"] >= 3
    assert await _runs(client, mine["id"]) and not await _runs(client, other["id"])


async def test_a_paused_schedule_stops_and_its_runs_go(app: Any, client: Any) -> None:
    dep = await _scheduled(client)
    await schedule_once(app.state.database, NOW, config=CONFIG)
    schedule_id = dep["schedules"][0]["id"]
    response = await client.patch(f"/deployments/{dep['id']}/schedules/{schedule_id}",
                                  json={"active": False})
    assert response.status_code == 204
    assert await _runs(client, dep["id"], state={"type": {"any_": ["SCHEDULED"]}}) == []
    report = await schedule_once(app.state.database, NOW, config=CONFIG)
    assert report.runs_created == 0
    schedules = (await client.get(f"/deployments/{dep['id']}/schedules")).json()
    assert schedules[0]["active"] is False


async def test_on_sqlite_the_loop_reads_indexes_only(app: Any, client: Any,
                                                     database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's plans")
    import sqlite3

    from sqlalchemy import event

    dep = await _scheduled(client)
    seen: list[tuple[str, Any]] = []
    engine = app.state.database.engine.sync_engine

    def catch(conn: Any, cursor: Any, sql: str, params: Any, context: Any, many: bool) -> None:
        if sql.lstrip().startswith("SELECT") and not many:
            seen.append((sql, params))

    event.listen(engine, "before_cursor_execute", catch)
    try:
        await schedule_once(app.state.database, NOW + dt.timedelta(hours=2), config=CONFIG)
        await _runs(client, dep["id"])
    finally:
        event.remove(engine, "before_cursor_execute", catch)
    con = sqlite3.connect(database_url.removeprefix("sqlite:///"))
    plans = {sql: " | ".join(row[3] for row in con.execute(f"EXPLAIN QUERY PLAN {sql}", params))
             for sql, params in seen if "flow_run" in sql}
    con.close()
    late = [plan for sql, plan in plans.items() if "flow_run.state_name = 'Scheduled'" in sql]
    assert late and all("ix_flow_run__waiting" in plan for plan in late), plans
    by_deployment = [plan for sql, plan in plans.items() if "deployment_id IN" in sql]
    assert by_deployment and all("SCAN flow_run" not in plan.replace("USING", "")
                                 for plan in by_deployment), by_deployment


class _Stop(Exception):
    """Ends a background loop under test."""


async def test_the_background_loop_runs_every_loop_seconds_and_survives_errors(
        app: Any, client: Any, caplog: pytest.LogCaptureFixture) -> None:
    from headwater.server.services import planning
    from headwater.server.services.scheduler import run_scheduler

    dep = await _scheduled(client)
    sleeps: list[float] = []
    real = planning.default_planner()

    class Flaky:
        """The planner, failing on its first call."""

        calls = 0

        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        def plan_runs(self, *args: Any, **kwargs: Any) -> Any:
            Flaky.calls += 1
            if Flaky.calls == 1:
                raise RuntimeError("planner down")
            return real.plan_runs(*args, **kwargs)

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 2:
            raise _Stop

    with pytest.raises(_Stop):
        await run_scheduler(app.state.database, CONFIG, now=lambda: NOW, sleep=sleep,
                            planner=Flaky())  # type: ignore[arg-type]
    assert sleeps == [CONFIG.loop_seconds, CONFIG.loop_seconds]
    assert "The scheduler loop failed" in caplog.text and "planner down" in caplog.text
    assert len(await _runs(client, dep["id"])) >= CONFIG.min_runs  # the second loop planned


async def test_the_server_app_runs_the_scheduler_in_its_lifespan(database_url: str) -> None:
    import asyncio

    from headwater.server.app import create_app

    def scheduler_tasks() -> list[asyncio.Task[Any]]:
        return [t for t in asyncio.all_tasks() if not t.done()
                and getattr(t.get_coro(), "__name__", "") == "run_scheduler"]

    served = create_app(database_url, use_settings=False, scheduler=True)
    async with served.router.lifespan_context(served):
        assert len(scheduler_tasks()) == 1
    assert scheduler_tasks() == []
    plain = create_app(database_url, use_settings=False)
    async with plain.router.lifespan_context(plain):
        assert scheduler_tasks() == []


async def test_a_cron_schedule_across_a_dst_change(app: Any, client: Any) -> None:
    nine_in_paris = {"cron": "0 9 * * *", "timezone": "Europe/Paris"}
    dep = await deployed(client, schedules=[{"schedule": nine_in_paris}])
    week = dataclasses.replace(CONFIG, max_scheduled_time=dt.timedelta(days=7))
    await schedule_once(app.state.database, utc(2024, 3, 30), config=week)
    times = [r["expected_start_time"] for r in await _runs(client, dep["id"])]
    # 09:00 in Paris is 08:00 UTC before the change (30 March), 07:00 UTC after.
    assert times[:3] == ["2024-03-30T08:00:00Z", "2024-03-31T07:00:00Z",
                         "2024-04-01T07:00:00Z"]

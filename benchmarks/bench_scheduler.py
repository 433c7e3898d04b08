"""Time scheduler loops with 10,000 late runs in the database.

Usage::

    python benchmarks/bench_scheduler.py                 # SQLite in a temporary folder
    python benchmarks/bench_scheduler.py -n 20000
    python benchmarks/bench_scheduler.py --postgres postgresql://user@host/scratch_db
    python benchmarks/bench_scheduler.py --json

What it does, through the server's own services (``schedule_once``) with
time passed in (nothing sleeps):

1. One deployment with a run a minute (ten schedules every ten minutes,
   a minute apart); one loop plans ``n`` runs ahead (a window of ``n`` minutes).
2. ``n`` minutes later all of them are past due: one loop marks them Late
   (Prefect 1's scheduler slowed down as late runs piled up, and needed them
   cleared by hand past 750).
3. The next loop, with the ``n`` Late runs still there (nobody serves the
   deployment): it must not read them again.
4. 200 more deployments with an hourly schedule, planned while the ``n``
   Late runs are there: ``deployments_per_loop`` (50) per loop.

The target (issue #16): each loop under 1 s with 10,000 late runs. The
table shows wall time and this process's CPU time (on SQLite the database
works in this process too): on a busy machine the first is the second
plus waiting for a core.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

UTC = dt.timezone.utc
T0 = dt.datetime(2024, 1, 1, tzinfo=UTC)


async def _deploy(client: Any, name: str, flow_id: str, *schedules: dict[str, Any]) -> str:
    body = {"name": name, "flow_id": flow_id,
            "schedules": [{"schedule": schedule} for schedule in schedules]}
    response = await client.post("/deployments/", json=body)
    response.raise_for_status()
    return str(response.json()["id"])


async def run(url: str, n: int) -> list[tuple[str, int, float, float]]:
    """The timed steps: (what, runs touched, seconds, CPU seconds of this process)."""
    import httpx

    from headwater.server.app import create_app
    from headwater.server.services.planning import SchedulerConfig
    from headwater.server.services.scheduler import schedule_once

    app = create_app(url, use_settings=False)
    app.state.now = lambda: T0
    db = app.state.database
    # The first loop plans all n runs (a window of n minutes); then the defaults.
    config = SchedulerConfig(max_runs=n, min_scheduled_time=dt.timedelta(minutes=n),
                             max_scheduled_time=dt.timedelta(days=365),
                             late_per_loop=max(n, SchedulerConfig.late_per_loop))
    rows: list[tuple[str, int, float, float]] = []

    async def loop(what: str, now: dt.datetime, field: str) -> None:
        start, cpu = time.perf_counter(), time.process_time()
        report = await schedule_once(db, now, config=config)
        rows.append((what, int(getattr(report, field)), time.perf_counter() - start,
                     time.process_time() - cpu))

    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://b/api") as client:
            response = await client.post("/flows/", json={"name": "bench"})
            if response.status_code >= 400:
                raise SystemExit(f"The API refused the benchmark's first request "
                                 f"({response.status_code}: {response.text[:300]}); with "
                                 "--postgres, the database must exist (createdb it first).")
            flow = response.json()
            # Ten schedules, every ten minutes, a minute apart: a run a minute (the
            # planner gives at most 1,000 dates per schedule and loop).
            tens = [{"interval": 600.0, "anchor_date": (T0 + dt.timedelta(minutes=i)).isoformat()}
                    for i in range(10)]
            await _deploy(client, "every-minute", flow["id"], *tens)
            await loop(f"plan {n:,} runs of one deployment", T0, "runs_created")
            # From now on the settings' defaults (runs up to 1 hour ahead, at
            # least 3, at most 100), with a slice of late runs as large as n.
            config = dataclasses.replace(SchedulerConfig(), late_per_loop=config.late_per_loop)
            later = T0 + dt.timedelta(minutes=n + 1)
            await loop(f"mark {n:,} runs Late", later, "runs_marked_late")
            await loop(f"next loop, {n:,} Late runs in the database", later, "runs_marked_late")
            hourly = {"interval": 3600.0, "anchor_date": later.isoformat()}
            for i in range(200):
                await _deploy(client, f"hourly-{i}", flow["id"], hourly)
            per_loop = config.deployments_per_loop
            for first in range(0, 200, per_loop):
                await loop(f"plan deployments {first + 1}-{first + per_loop} of 200 new, "
                           f"{n:,} Late runs there", later, "runs_created")
            await loop("the same loop again (nothing to do)", later, "runs_created")
    finally:
        await db.aclose()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=10_000, help="Late runs (default 10,000).")
    parser.add_argument("--postgres", help="A scratch PostgreSQL database URL (emptied!).")
    parser.add_argument("--json", action="store_true", help="Print JSON.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.postgres or f"sqlite:///{Path(tmp) / 'bench.db'}"
        rows = asyncio.run(run(url, args.n))
    if args.json:
        json.dump([{"step": s, "runs": r, "seconds": round(t, 4), "cpu_seconds": round(c, 4)}
                   for s, r, t, c in rows], sys.stdout, indent=2)
        print()
        return
    width = max(len(s) for s, _, _, _ in rows)
    print(f"{'step':<{width}}  {'runs':>7}  {'seconds':>8}  {'CPU s':>7}")
    for step, runs, seconds, cpu in rows:
        print(f"{step:<{width}}  {runs:>7,}  {seconds:>8.3f}  {cpu:>7.3f}")
    print(f"\n{'PostgreSQL' if args.postgres else 'SQLite'}; target: each loop under 1 s with "
          "10,000 late runs. CPU s: this process's CPU time (the database's too on SQLite);\n"
          "seconds well above it mean the machine was busy with other work.")


if __name__ == "__main__":
    main()

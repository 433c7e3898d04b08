"""Liveness and worker costs: heartbeats per run, and runs claimed per second by one worker.

Run: ``python benchmarks/bench_workers.py``. Prints one line per measure.

- heartbeat (SQLite): one process's heartbeat for N running flow runs,
  written through the storage core (what embedded mode does every
  ``HEADWATER_FLOW_RUN_HEARTBEAT_SECONDS``), per run;
- heartbeat (API): the same through ``POST /api/flow_runs/heartbeat`` to the
  in-process app, per run;
- zombie sweep: one check over N running runs with fresh heartbeats;
- claims: one worker claiming N scheduled runs of a pool, runs per second
  (needs the deployments' flow_run columns, migration 0006).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

N = 1000


async def _app_client(url: str) -> tuple[Any, Any]:
    import httpx

    from headwater.client import HeadwaterClient
    from headwater.server.app import create_app

    app = create_app(url, use_settings=False)
    return app, HeadwaterClient("http://bench/api", transport=httpx.ASGITransport(app=app))


async def _running_runs(client: Any, n: int) -> list[str]:
    flow = await client.request("POST", "flows/", json={"name": "bench"})
    ids = []
    for _ in range(n):
        run = await client.request("POST", "flow_runs/", json={
            "flow_id": flow["id"], "state": {"type": "RUNNING"}})
        ids.append(run["id"])
    return ids


async def main() -> None:
    from headwater._private.heartbeats import process_identity, send_beats
    from headwater._private.zombie_check import sweep

    folder = Path(tempfile.mkdtemp())
    app, client = await _app_client(f"sqlite+aiosqlite:///{folder / 'b.db'}")
    async with client:
        ids = await _running_runs(client, N)
        host, pid, token = process_identity()
        start = time.perf_counter()
        await client.send_flow_run_heartbeats(ids, host=host, pid=pid, process_start=token,
                                              interval=30)
        api = time.perf_counter() - start
        con = sqlite3.connect(folder / "b.db", isolation_level=None)
        con.execute("PRAGMA synchronous=NORMAL")  # as the heartbeat sender's connection
        uuids = [uuid.UUID(i) for i in ids]
        start = time.perf_counter()
        send_beats(con, uuids, 30.0, dt.datetime.now(dt.timezone.utc))
        direct = time.perf_counter() - start
        start = time.perf_counter()
        ended = sweep(con)
        swept = time.perf_counter() - start
        assert ended == []
        con.close()
        await claims(app, client)
        await app.state.database.aclose()
    print(f"heartbeat (SQLite, storage core): {direct / N * 1e6:.1f} us per run ({N} runs)")
    print(f"heartbeat (API, in process): {api / N * 1e6:.1f} us per run ({N} runs, one request)")
    print(f"zombie sweep: {swept * 1e3:.1f} ms over {N} running runs")


async def claims(app: Any, client: Any) -> None:
    import sqlalchemy as sa

    from headwater.server.database import tables as t
    from headwater.server.services.work_pools import placed_in_pools

    if not placed_in_pools():
        print("claims: skipped (needs the deployments' flow_run columns, migration 0006)")
        return
    await client.create_work_pool("bench")
    flow = await client.request("POST", "flows/", json={"name": "bench-claims"})
    ids = []
    for _ in range(N):
        run = await client.request("POST", "flow_runs/", json={
            "flow_id": flow["id"], "state": {"type": "SCHEDULED"}})
        ids.append(uuid.UUID(run["id"]))

    async def place(conn: Any) -> None:
        await conn.execute(sa.update(t.flow_run).where(t.flow_run.c.id.in_(ids)).values(
            work_pool_name="bench", labels=[],
            expected_start_time=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)))

    await app.state.database.write(place)
    start = time.perf_counter()
    claimed = 0
    while batch := await client.get_scheduled_flow_runs_for_work_pool(
            "bench", worker_name="w", limit=100):
        claimed += len(batch)
    seconds = time.perf_counter() - start
    print(f"claims: {claimed / seconds:.0f} runs per second by one worker "
          f"({claimed} runs, batches of 100)")


if __name__ == "__main__":
    asyncio.run(main())

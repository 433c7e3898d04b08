"""Time ``POST /api/records/batch`` with one large batch: rows stored per second.

Usage::

    python benchmarks/bench_records_batch.py                     # SQLite in a temporary folder
    python benchmarks/bench_records_batch.py -n 20000 --reps 5
    python benchmarks/bench_records_batch.py --postgres postgresql+asyncpg://user@host/scratch_db

Each repetition posts one batch of a flow run, ``n`` task runs and three
states per task run (PENDING, RUNNING, COMPLETED) through the real app in
process (``httpx.ASGITransport``), on a database emptied first (a new SQLite
file; a new flow run on PostgreSQL, whose database must be a scratch one).
The table gives the median and best time and rows per second. This was an
assertion in ``tests/server/test_records_batch.py`` (a wall-clock bound that a
loaded machine turned red); the test keeps checking that such a batch is
stored whole.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path


def large_batch(n_tasks: int) -> bytes:
    """A batch of one flow run, ``n_tasks`` task runs and their three states each, as JSON."""
    run_id = str(uuid.uuid4())
    now = dt.datetime.now(dt.timezone.utc)
    tasks = [{"id": str(uuid.uuid4()), "flow_run_id": run_id, "task_key": "t",
              "dynamic_key": str(i), "name": f"t-{i}", "tags": [],
              "expected_start_time": now.isoformat()} for i in range(n_tasks)]
    states = [{"id": str(uuid.uuid4()), "run_id": t["id"], "run_kind": "task", "type": type_,
               "timestamp": (now + dt.timedelta(milliseconds=k)).isoformat()}
              for t in tasks for k, type_ in enumerate(("PENDING", "RUNNING", "COMPLETED"))]
    return json.dumps({"flow_runs": [{"id": run_id, "flow_name": "big", "name": "big-run"}],
                       "task_runs": tasks, "states": states}).encode()


async def time_one(database_url: str, body: bytes) -> float:
    """Seconds to store ``body`` through the app on ``database_url`` (migrations not timed)."""
    import httpx

    from headwater.server.app import create_app

    app = create_app(database_url, use_settings=False)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench/api") as http:
            if (await http.get("/hello")).status_code != 200:
                raise RuntimeError("the app did not answer /hello")
            start = time.perf_counter()
            response = await http.post("/records/batch", content=body,
                                       headers={"content-type": "application/json"})
            elapsed = time.perf_counter() - start
            if response.status_code != 200:
                raise RuntimeError(f"records batch refused: {response.text[:500]}")
    finally:
        await app.state.database.aclose()
    return elapsed


def main() -> int:
    """Parse the command line, time the batches, print a table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=10_000, help="task runs in the batch")
    parser.add_argument("--reps", type=int, default=3, help="timed batches")
    parser.add_argument("--postgres", metavar="URL", help="a scratch PostgreSQL database")
    args = parser.parse_args()
    rows = 1 + 4 * args.n
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(args.reps):
            url = args.postgres or f"sqlite:///{Path(tmp) / f'bench-{rep}.db'}"
            times.append(asyncio.run(time_one(url, large_batch(args.n))))
    backend = "postgresql" if args.postgres else "sqlite"
    median, best = statistics.median(times), min(times)
    print("| database | rows | median s | best s | rows/s (median) |")
    print("| --- | --- | --- | --- | --- |")
    print(f"| {backend} | {rows:,} | {median:.3f} | {best:.3f} | {rows / median:,.0f} |")
    return 0


if __name__ == "__main__":
    os.environ.pop("HEADWATER_API_URL", None)  # always the app in process
    sys.exit(main())

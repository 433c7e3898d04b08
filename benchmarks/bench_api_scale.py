"""Time the API's common reads on a database of a million task runs.

Usage::

    python benchmarks/bench_api_scale.py                      # 1,000,000 task runs, SQLite
    python benchmarks/bench_api_scale.py -n 100000 --reps 7
    python benchmarks/bench_api_scale.py --db /tmp/big.db     # keep the file; reuse it next time
    python benchmarks/bench_api_scale.py --postgres postgresql://user@host/scratch_db
    python benchmarks/bench_api_scale.py --json

What it builds (deterministic, from ``--seed``):

* 50 flows and 1,000 flow runs (``--flow-runs``) spread over 30 days; every
  tenth flow run is a subflow of the run before it (``parent_flow_run_id``,
  ``parent_task_run_id``). Flow runs are 85 % COMPLETED, 8 % FAILED, 2 %
  CANCELLED, 5 % RUNNING, tagged ``env:prod`` (4 in 5) or ``env:staging``.
* ``n`` task runs (default 1,000,000): ten "big" flow runs of 2.5 % of them
  each (25,000 at 1M, so a deep page exists), the rest shared evenly. Task runs
  follow each other 20 ms apart from their flow run's start; five task
  functions per flow, tagged ``io, db`` / none / ``cpu`` / ``io, api`` /
  none by function. States: 90 % COMPLETED, 5 % FAILED, 2 % CANCELLED, 3 %
  RUNNING. Every task run has a Running state and, unless still running, a
  final one (1.97 states per task run), so start and end times and run
  counts are real. Ids are time-ordered (version 7), as the recorder makes.

SQLite is built with ``headwater._private.storage.record_writer.write_batch``
(the embedded recorder's write path) in batches of the ``POST
/api/records/batch`` shape; PostgreSQL through ``POST /api/records/batch``
itself. Then each query runs ``--reps`` times (after one warm-up) through
the real app in process (``httpx.ASGITransport``, as the CLI's embedded
client does), and the median is printed with the rows returned; under the
table, why the queries that read a whole table do. ``docs/server.md`` has
the figures of a small machine; ``tests/server/test_query_plans.py`` checks
the plans of the same queries.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

UTC = dt.timezone.utc
#: Every run starts in the 30 days before this moment.
END = dt.datetime(2024, 6, 1, tzinfo=UTC)
DAYS = 30
FLOWS = 50
BIG_RUNS = 10
BIG_SHARE = 0.025
TASK_GAP = 0.020  # seconds between a flow run's task runs
TASK_FUNCTIONS = (("extract", ["io", "db"]), ("clean", []), ("transform", ["cpu"]),
                  ("load", ["io", "api"]), ("report", []))
FLOW_STATES = (("COMPLETED", 85), ("FAILED", 8), ("CANCELLED", 2), ("RUNNING", 5))
TASK_STATES = (("COMPLETED", 90), ("FAILED", 5), ("CANCELLED", 2), ("RUNNING", 3))
BATCH_TASKS = 25_000


# ---------------------------------------------------------------------- the data
def _uuid7(when: dt.datetime, rng: random.Random) -> str:
    """A version 7 UUID of ``when`` (ms), as text: ids sort by time, as recorded ones do."""
    ms = int(when.timestamp() * 1000)
    bits = (ms << 80) | (7 << 76) | (rng.getrandbits(12) << 64) | (0b10 << 62) \
        | rng.getrandbits(62)
    h = f"{bits:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _iso(when: dt.datetime) -> str:
    return when.isoformat(timespec="microseconds")


def _pick(rng: random.Random, weighted: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([w[0] for w in weighted], [w[1] for w in weighted])[0]


@dataclass
class FlowRunPlan:
    """One flow run of the data set; its task runs are made from ``seed`` when needed."""

    index: int
    id: str
    flow: str
    start: dt.datetime
    tasks: int
    state: str
    tags: list[str]
    seed: str
    first_task_id: str
    parent_flow_run_id: str | None = None
    parent_task_run_id: str | None = None


@dataclass
class Plan:
    """The data set: flow runs (with their sizes) and what the queries look for."""

    n: int
    flow_runs: list[FlowRunPlan] = field(default_factory=list)

    @property
    def big_run(self) -> FlowRunPlan:
        """The largest flow run (the one paged through)."""
        return max(self.flow_runs, key=lambda r: (r.tasks, r.id))


def make_plan(n: int, n_flow_runs: int, seed: int) -> Plan:
    """Lay out the flow runs: cheap, so a kept database is queried without rebuilding."""
    rng = random.Random(seed)
    big = BIG_RUNS if n_flow_runs > 2 * BIG_RUNS else 0
    big_size = int(n * BIG_SHARE) if big else 0
    rest = n - big * big_size
    small = n_flow_runs - big
    sizes = [big_size] * big + [rest // small + (1 if i < rest % small else 0)
                                for i in range(small)]
    rng.shuffle(sizes)
    span = DAYS * 86_400
    starts = sorted(rng.uniform(0, span) for _ in range(n_flow_runs))
    plan = Plan(n)
    for i, (size, offset) in enumerate(zip(sizes, starts, strict=True)):
        start = END - dt.timedelta(seconds=span - offset)
        run_seed = f"{seed}-{i}"
        task_rng = random.Random(run_seed)
        run = FlowRunPlan(
            index=i, id=_uuid7(start, rng), flow=f"flow-{rng.randrange(FLOWS):02d}",
            start=start, tasks=size, state=_pick(rng, FLOW_STATES),
            tags=["env:prod"] if rng.random() < 0.8 else ["env:staging"], seed=run_seed,
            first_task_id=_uuid7(start, task_rng))
        if i % 10 == 9:
            parent = plan.flow_runs[-1]
            run.parent_flow_run_id, run.parent_task_run_id = parent.id, parent.first_task_id
            run.flow = parent.flow
        plan.flow_runs.append(run)
    return plan


def _run_batches(run: FlowRunPlan) -> Iterator[dict[str, Any]]:
    """A flow run and its task runs, in API-shaped batches (task runs and states as columns)."""
    rng = random.Random(run.seed)
    first_task_id = _uuid7(run.start, rng)  # the plan's first_task_id: the same first draw
    gap = dt.timedelta(seconds=TASK_GAP)
    end = run.start + gap * run.tasks + dt.timedelta(seconds=1)
    flow_run = {"id": run.id, "flow_name": run.flow, "name": f"{run.flow}-run-{run.index}",
                "parameters": {"day": run.start.date().isoformat()}, "tags": run.tags,
                "parent_flow_run_id": run.parent_flow_run_id,
                "parent_task_run_id": run.parent_task_run_id,
                "expected_start_time": _iso(run.start)}
    flow_states = [("RUNNING", run.start)]
    if run.state != "RUNNING":
        flow_states.append((run.state, end))
    batch: dict[str, Any] = {"flows": [{"name": run.flow}], "flow_runs": [flow_run]}
    tasks = _columns(("id", "flow_run_id", "task_key", "task_name", "dynamic_key", "name",
                      "tags", "expected_start_time"))
    states = _columns(("id", "run_id", "run_kind", "type", "name", "timestamp"))
    for type_, when in flow_states:
        _add_state(states, run.id, "flow", type_, when, rng)
    for i in range(run.tasks):
        expected = run.start + gap * i
        task_id = first_task_id if i == 0 else _uuid7(expected, rng)
        function, tags = TASK_FUNCTIONS[i % len(TASK_FUNCTIONS)]
        key = f"{run.flow}.{function}"
        for name, value in (("id", task_id), ("flow_run_id", run.id), ("task_key", key),
                            ("task_name", function), ("dynamic_key", str(i)),
                            ("name", f"{function}-{i}"), ("tags", tags),
                            ("expected_start_time", _iso(expected))):
            tasks[name].append(value)
        started = expected + dt.timedelta(milliseconds=5)
        _add_state(states, task_id, "task", "RUNNING", started, rng)
        final = _pick(rng, TASK_STATES)
        if final != "RUNNING":
            took = dt.timedelta(milliseconds=rng.randrange(10, 2000))
            _add_state(states, task_id, "task", final, started + took, rng)
        if len(tasks["id"]) == BATCH_TASKS:
            yield {**batch, "task_runs": tasks, "states": states}
            batch = {}
            tasks, states = _columns(tuple(tasks)), _columns(tuple(states))
    yield {**batch, "task_runs": tasks, "states": states}


def _columns(names: tuple[str, ...]) -> dict[str, list[Any]]:
    return {name: [] for name in names}


def _add_state(states: dict[str, list[Any]], run_id: str, kind: str, type_: str,
               when: dt.datetime, rng: random.Random) -> None:
    for name, value in (("id", _uuid7(when, rng)), ("run_id", run_id), ("run_kind", kind),
                        ("type", type_), ("name", type_.capitalize()),
                        ("timestamp", _iso(when))):
        states[name].append(value)


def batches(plan: Plan) -> Iterator[dict[str, Any]]:
    """Every batch of the data set, flow runs in time order (parents before subflows)."""
    for run in plan.flow_runs:
        yield from _run_batches(run)


# ---------------------------------------------------------------------- building
def build_sqlite(path: Path, plan: Plan) -> float:
    """Create the schema and write the data set with the embedded recorder's writer."""
    from headwater._private.storage.record_writer import write_batch
    from headwater._private.storage.sqlite_schema import ensure_sqlite_schema

    con = sqlite3.connect(path, isolation_level=None)
    try:
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=NORMAL")
        con.execute("PRAGMA cache_size=-262144")
        if not ensure_sqlite_schema(con):
            raise RuntimeError(f"{path} is not a fresh database")
        start = time.perf_counter()
        for batch in batches(plan):
            write_batch(con, batch)
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return time.perf_counter() - start
    finally:
        con.close()


async def build_via_api(database_url: str, plan: Plan) -> float | None:
    """Write the data set through ``POST /api/records/batch`` (for PostgreSQL).

    A database that holds it already (as many task runs) is reused: None.
    """
    import pydantic_core

    from headwater.client._factory import embedded_client

    async with embedded_client(database_url) as client:
        http = client._http  # the raw httpx client: no retries, no decoding
        stored = (await http.post("task_runs/count")).json()
        if stored == plan.n:
            return None
        if stored:
            raise RuntimeError(f"the database holds {stored:,} task runs: give an empty one")
        start = time.perf_counter()
        for batch in batches(plan):
            response = await http.post("records/batch", content=pydantic_core.to_json(batch),
                                       headers={"content-type": "application/json"})
            if response.status_code != 200:
                raise RuntimeError(f"records batch refused: {response.text[:1000]}")
        return time.perf_counter() - start


# ---------------------------------------------------------------------- the queries
@dataclass
class Query:
    """One API call that is timed; ``why`` explains a known slow one."""

    name: str
    path: str
    body: dict[str, Any]
    why: str = ""


def _range(day_from: float, days: float) -> dict[str, str]:
    after = END - dt.timedelta(days=DAYS - day_from)
    return {"after_": _iso(after), "before_": _iso(after + dt.timedelta(days=days))}


_NO_START_INDEX = ("no index on task runs' start_time (each index slows recording): "
                   "a full scan; filter on expected_start_time, which has one")
_NO_END_INDEX = ("no index on task runs' end_time: every finished run is read and sorted; "
                 "within a flow run or a time range it is fast")
_NO_TAG_INDEX = ("on SQLite tags are JSON text and no index serves membership: a full "
                 "scan (with a flow run, flow or time range, that index narrows first); "
                 "PostgreSQL has a GIN index, and the count reads every match")


def queries(plan: Plan) -> list[Query]:
    """The common reads: counts, pages of a flow run, filtered lists, the CLI's calls."""
    big = plan.big_run
    flow = big.flow
    day = _range(15, 1)
    of_big = {"flow_run_id": {"any_": [big.id]}}
    failed = {"type": {"any_": ["FAILED"]}}
    return [
        Query("task runs: count by state (FAILED)", "task_runs/count",
              {"task_runs": {"state": failed}}),
        Query("task runs: count by state (COMPLETED)", "task_runs/count",
              {"task_runs": {"state": {"type": {"any_": ["COMPLETED"]}}}}),
        Query("task runs: count by flow run", "task_runs/count", {"task_runs": of_big}),
        Query("task runs: count by flow", "task_runs/count",
              {"flows": {"name": {"any_": [flow]}}}),
        Query("task runs: count, expected start in one day", "task_runs/count",
              {"task_runs": {"expected_start_time": day}}),
        Query("task runs: count COMPLETED in one day", "task_runs/count",
              {"task_runs": {"state": {"type": {"any_": ["COMPLETED"]}},
                             "expected_start_time": day}}),
        Query("task runs: count by tag in a flow run", "task_runs/count",
              {"task_runs": {**of_big, "tags": {"all_": ["db"]}}}),
        Query("task runs: count by tag", "task_runs/count",
              {"task_runs": {"tags": {"all_": ["db"]}}}, _NO_TAG_INDEX),
        Query("task runs: count, started in one day", "task_runs/count",
              {"task_runs": {"start_time": day}}, _NO_START_INDEX),
        Query("task-run ls --flow-run (first 200)", "task_runs/filter",
              {"task_runs": of_big, "sort": "EXPECTED_START_TIME_ASC", "limit": 200}),
        Query("task runs of a flow run, offset 10,000", "task_runs/filter",
              {"task_runs": of_big, "sort": "EXPECTED_START_TIME_ASC", "limit": 200,
               "offset": 10_000}),
        Query("task runs of a flow run, FAILED", "task_runs/filter",
              {"task_runs": {**of_big, "state": failed}, "sort": "EXPECTED_START_TIME_ASC",
               "limit": 200}),
        Query("task runs: one day, limit 100", "task_runs/filter",
              {"task_runs": {"expected_start_time": day}, "limit": 100}),
        Query("task runs: one day, newest first", "task_runs/filter",
              {"task_runs": {"expected_start_time": day}, "sort": "EXPECTED_START_TIME_DESC",
               "limit": 100}),
        Query("task runs: FAILED, newest first", "task_runs/filter",
              {"task_runs": {"state": failed}, "sort": "EXPECTED_START_TIME_DESC",
               "limit": 100}),
        Query("task runs: last finished (END_TIME_DESC)", "task_runs/filter",
              {"task_runs": {"end_time": {"is_null_": False}}, "sort": "END_TIME_DESC",
               "limit": 20}, _NO_END_INDEX),
        Query("flow runs: count by state (FAILED)", "flow_runs/count",
              {"flow_runs": {"state": failed}}),
        Query("flow runs: by flow and state, by start time", "flow_runs/filter",
              {"flows": {"name": {"any_": [flow]}},
               "flow_runs": {"state": {"type": {"any_": ["COMPLETED"]}}},
               "sort": "START_TIME_DESC", "limit": 50}),
        Query("flow runs: subflows of a flow run", "flow_runs/filter",
              {"flow_runs": {"parent_flow_run_id": {"any_": [plan.flow_runs[8].id]}}}),
        Query("flow-run ls (newest 20)", "flow_runs/filter",
              {"sort": "EXPECTED_START_TIME_DESC", "limit": 20}),
        Query("flow-run ls --flow --state FAILED", "flow_runs/filter",
              {"flows": {"name": {"any_": [flow]}}, "flow_runs": {"state": failed},
               "sort": "EXPECTED_START_TIME_DESC", "limit": 20}),
        Query("flow ls (flow names for flow-run ls)", "flows/filter", {"limit": 10_000}),
    ]


async def time_queries(database_url: str, plan: Plan, reps: int) -> list[dict[str, Any]]:
    """Run every query ``reps`` times after a warm-up; medians in ms and rows returned."""
    from headwater.client._factory import embedded_client

    out = []
    async with embedded_client(database_url) as client:
        http = client._http
        assert (await http.get("hello")).status_code == 200
        for query in queries(plan):
            times = []
            answer: Any = None
            for _ in range(reps + 1):
                start = time.perf_counter()
                response = await http.post(query.path, json=query.body)
                times.append(time.perf_counter() - start)
                if response.status_code != 200:
                    raise RuntimeError(f"{query.name}: {response.status_code} {response.text}")
                answer = response.json()
            rows = answer if isinstance(answer, int) else len(answer)
            out.append({"query": query.name, "ms": 1000 * statistics.median(times[1:]),
                        "rows": rows, "why": query.why})
    return out


# ---------------------------------------------------------------------- main
def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


def _print_table(results: list[dict[str, Any]]) -> None:
    width = max(len(r["query"]) for r in results)
    print(f"| {'query':<{width}} | median ms | rows |")
    print(f"|{'-' * (width + 2)}|----------:|-----:|")
    for r in results:
        print(f"| {r['query']:<{width}} | {r['ms']:9.1f} | {r['rows']:,} |")
    notes = [r for r in results if r["why"]]
    for r in notes:
        print(f"  {r['query']}: {r['why']}")


def main() -> int:
    """Parse the command line, build (or reuse) the database, time the queries, print."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=1_000_000, help="task runs")
    parser.add_argument("--flow-runs", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reps", type=int, default=5, help="timed runs of each query")
    parser.add_argument("--db", type=Path, help="SQLite file to build, or reuse if it exists")
    parser.add_argument("--postgres", metavar="URL",
                        help="a PostgreSQL database to build (it must be empty) and query "
                             "instead; one built before with the same -n is reused")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    plan = make_plan(args.n, args.flow_runs, args.seed)
    report: dict[str, Any] = {"n": args.n, "flow_runs": args.flow_runs}
    with tempfile.TemporaryDirectory() as tmp:
        if args.postgres:
            url = args.postgres
            report["database"] = "postgresql"
            report["build_s"] = asyncio.run(build_via_api(url, plan))
        else:
            path = args.db or Path(tmp) / "headwater.db"
            url = f"sqlite:///{path}"
            report["database"] = "sqlite"
            report["build_s"] = None if path.exists() else build_sqlite(path, plan)
            report["db_bytes"] = _size(path)
        report["queries"] = asyncio.run(time_queries(url, plan, args.reps))
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    build = report["build_s"]
    print(f"{report['database']}: {args.n:,} task runs in {args.flow_runs:,} flow runs "
          f"of {FLOWS} flows; built in "
          f"{'(reused)' if build is None else f'{build:.1f} s'}"
          + (f", {report['db_bytes'] / 2**20:,.0f} MiB" if "db_bytes" in report else ""))
    _print_table(report["queries"])
    return 0


if __name__ == "__main__":
    os.environ.pop("HEADWATER_API_URL", None)  # always the app in process
    sys.exit(main())

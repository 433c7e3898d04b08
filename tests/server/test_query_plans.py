"""The common filters, sorts and counts read indexes, not whole tables.

A data set of 20,000 task runs (40 flow runs of 5 flows over 30 days, one
flow run of 12,000 task runs so that a deep page exists, the usual mix of
states, tags by task function, subflows) is written once per module. Each
query goes through the app; its answer is checked against the data set, and
on SQLite the SQL it ran (caught by a ``before_cursor_execute`` listener) is
explained: a plain ``SCAN task_run`` or ``SCAN flow_run`` (a full table
scan) fails the test. An index ``SEARCH``, or ``SCAN ... USING INDEX``
walking an index in the order asked for, is fine. Where SQLite could pick a
poor index, the plan must name the good one (a flow run's task runs are
found by flow run, not by state type), and a page of runs must be joined to
their states only once the page is known. SQLite's plans do not
depend on the table sizes here (nothing runs ``ANALYZE``), so what is seen on
20,000 runs is what runs on a million (``benchmarks/bench_api_scale.py``).

A few filters have no index on SQLite, by choice (each index slows every
recorded run): they are marked, the test checks that they still scan, and
``docs/server.md`` says so. When one gets an index, its mark and the docs go.

On PostgreSQL (``HEADWATER_TEST_POSTGRES_URL``) the planner may rightly scan
small tables, so the answers are checked, and the plans only with
``enable_seqscan = off``: an index must be able to serve each filter.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import re
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("sqlalchemy")
pytest.importorskip("fastapi")

UTC = dt.timezone.utc
END = dt.datetime(2024, 6, 1, tzinfo=UTC)
DAYS = 30
FLOWS = 5
FLOW_RUNS = 40
TASK_RUNS = 20_000
BIG_RUN = 12_000  # task runs of the largest flow run: pages past offset 10,000 exist
GAP = dt.timedelta(milliseconds=20)  # between a flow run's task runs
FUNCTIONS = (("extract", ["io", "db"]), ("clean", []), ("transform", ["cpu"]),
             ("load", ["io", "api"]), ("report", []))
TASK_STATES = (("COMPLETED", 90), ("FAILED", 5), ("CANCELLED", 2), ("RUNNING", 3))
DAY_AFTER = END - dt.timedelta(days=15)
DAY_BEFORE = DAY_AFTER + dt.timedelta(days=1)


# ---------------------------------------------------------------------- the data set
@dataclass(frozen=True)
class Run:
    """A flow run or task run as the queries see it."""

    id: str
    name: str
    flow: str
    state: str
    tags: tuple[str, ...]
    expected: dt.datetime
    start: dt.datetime
    end: dt.datetime | None
    flow_run_id: str | None = None  # task runs
    parent_flow_run_id: str | None = None  # subflow runs


@dataclass
class Data:
    """The runs, and the batches (``POST /api/records/batch`` shape) that store them."""

    flow_runs: list[Run] = field(default_factory=list)
    task_runs: list[Run] = field(default_factory=list)
    batches: list[dict[str, Any]] = field(default_factory=list)

    @property
    def big(self) -> Run:
        """The flow run with the most task runs."""
        return self.flow_runs[0]


def _uuid7(when: dt.datetime, rng: random.Random) -> str:
    """A time-ordered id, as the recorder makes them."""
    bits = (int(when.timestamp() * 1000) << 80) | (7 << 76) | (0b10 << 62) \
        | rng.getrandbits(62)
    h = f"{bits:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _iso(when: dt.datetime) -> str:
    return when.isoformat(timespec="microseconds")


def _pick(rng: random.Random, weighted: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([w[0] for w in weighted], [w[1] for w in weighted])[0]


def _sizes() -> list[int]:
    rest = TASK_RUNS - BIG_RUN
    small = FLOW_RUNS - 1
    return [BIG_RUN] + [rest // small + (i < rest % small) for i in range(small)]


def make_data(seed: int = 7) -> Data:
    """The data set: deterministic, the same on every database."""
    rng = random.Random(seed)
    data = Data()
    for i, size in enumerate(_sizes()):
        start = END - dt.timedelta(seconds=rng.uniform(0, DAYS * 86_400))
        flow = f"flow-{i % FLOWS}"
        parent = data.flow_runs[-1] if i % 5 == 4 else None
        state = "FAILED" if i % 7 == 3 else "RUNNING" if i % 11 == 5 else "COMPLETED"
        end = None if state == "RUNNING" else start + GAP * size + dt.timedelta(seconds=1)
        run_id = _uuid7(start, rng)
        run = Run(run_id, f"run-{i:02d}-{run_id[-4:]}", flow, state,
                  ("env:prod",) if i % 3 else ("env:dev",), start, start, end,
                  parent_flow_run_id=parent.id if parent else None)
        data.flow_runs.append(run)
        data.batches.append(_batch(run, size, rng, data.task_runs))
    return data


def _batch(run: Run, size: int, rng: random.Random, task_runs: list[Run]) -> dict[str, Any]:
    tasks: dict[str, list[Any]] = {k: [] for k in (
        "id", "flow_run_id", "task_key", "task_name", "dynamic_key", "name", "tags",
        "expected_start_time")}
    states: dict[str, list[Any]] = {k: [] for k in (
        "id", "run_id", "run_kind", "type", "name", "timestamp")}

    def state(run_id: str, kind: str, type_: str, when: dt.datetime) -> None:
        for key, value in (("id", _uuid7(when, rng)), ("run_id", run_id), ("run_kind", kind),
                           ("type", type_), ("name", type_.capitalize()),
                           ("timestamp", _iso(when))):
            states[key].append(value)

    state(run.id, "flow", "RUNNING", run.start)
    if run.end is not None:
        state(run.id, "flow", run.state, run.end)
    for i in range(size):
        expected = run.expected + GAP * i
        function, tags = FUNCTIONS[i % len(FUNCTIONS)]
        started = expected + dt.timedelta(milliseconds=5)
        final = _pick(rng, TASK_STATES)
        ended = None if final == "RUNNING" else started + dt.timedelta(
            milliseconds=rng.randrange(10, 2000))
        task = Run(_uuid7(expected, rng), f"{function}-{i}", run.flow, final, tuple(tags),
                   expected, started, ended, flow_run_id=run.id)
        task_runs.append(task)
        for key, value in (("id", task.id), ("flow_run_id", run.id),
                           ("task_key", f"{run.flow}.{function}"), ("task_name", function),
                           ("dynamic_key", str(i)), ("name", task.name),
                           ("tags", tags), ("expected_start_time", _iso(expected))):
            tasks[key].append(value)
        state(task.id, "task", "RUNNING", started)
        if ended is not None:
            state(task.id, "task", final, ended)
    return {
        "flows": [{"name": run.flow}],
        "flow_runs": [{"id": run.id, "flow_name": run.flow, "name": run.name,
                       "tags": list(run.tags), "parent_flow_run_id": run.parent_flow_run_id,
                       "expected_start_time": _iso(run.expected)}],
        "task_runs": tasks, "states": states}


# ---------------------------------------------------------------------- the queries
def _day() -> dict[str, str]:
    return {"after_": _iso(DAY_AFTER), "before_": _iso(DAY_BEFORE)}


def _in_day(when: dt.datetime | None) -> bool:
    return when is not None and DAY_AFTER <= when <= DAY_BEFORE


def _ids(runs: list[Run], key: Callable[[Run], Any] | None = None, *,
         reverse: bool = False, offset: int = 0, limit: int = 200) -> list[str]:
    """Ids of ``runs`` sorted by ``key`` (ties by id ascending; by id descending without key)."""
    ordered = sorted(runs, key=lambda r: r.id, reverse=key is None)
    if key is not None:
        ordered.sort(key=key, reverse=reverse)  # stable: ties keep the id order
    return [r.id for r in ordered[offset:offset + limit]]


@dataclass(frozen=True)
class Case:
    """A request and its answer in the data set: a count, or the ids of a page."""

    name: str
    path: str
    body: Callable[[Data], dict[str, Any]]
    expected: Callable[[Data], int | list[str]]
    scans_on_sqlite: str = ""  # why a full scan is expected (no index, on purpose)
    scans_on_postgres: bool = False
    # Unfiltered, sorted by id: SQLite walks the table (its primary key) in that
    # order and stops at the limit; the plan says "SCAN task_run" all the same.
    walks_in_order: bool = False
    searches: str = ""  # a regular expression the SQLite plan must match


def _tasks_of_big(d: Data) -> dict[str, Any]:
    return {"flow_run_id": {"any_": [d.big.id]}}


def _failed(runs: list[Run]) -> list[Run]:
    return [r for r in runs if r.state == "FAILED"]


def _of_big(d: Data) -> list[Run]:
    return [t for t in d.task_runs if t.flow_run_id == d.big.id]


def _flow_runs_of(d: Data, flow: str, state: str) -> list[Run]:
    return [r for r in d.flow_runs if r.flow == flow and r.state == state]


def _expected(r: Run) -> dt.datetime:
    return r.expected


# A state filter must not take the place of the flow run (flow) index: a state
# type matches many runs (see services/filters.py).
BY_RUN = r"SEARCH task_run USING (COVERING )?INDEX \S+ \(flow_run_id=\?\)"
BY_FLOW = r"SEARCH flow_run USING (COVERING )?INDEX ix_flow_run__flow_id \(flow_id=\?\)"

CASES = [
    Case("task runs: count by state type", "task_runs/count",
         lambda d: {"task_runs": {"state": {"type": {"any_": ["FAILED"]}}}},
         lambda d: len(_failed(d.task_runs))),
    Case("task runs: count not in a state type", "task_runs/count",
         lambda d: {"task_runs": {"state": {"type": {"not_any_": ["COMPLETED"]}}}},
         lambda d: sum(t.state != "COMPLETED" for t in d.task_runs)),
    Case("task runs: count by flow run", "task_runs/count",
         lambda d: {"task_runs": _tasks_of_big(d)}, lambda d: BIG_RUN),
    Case("task runs: count by expected start time range", "task_runs/count",
         lambda d: {"task_runs": {"expected_start_time": _day()}},
         lambda d: sum(_in_day(t.expected) for t in d.task_runs)),
    Case("task runs: count by state type in a time range", "task_runs/count",
         lambda d: {"task_runs": {"state": {"type": {"any_": ["COMPLETED"]}},
                                  "expected_start_time": _day()}},
         lambda d: sum(_in_day(t.expected) and t.state == "COMPLETED" for t in d.task_runs),
         searches=r"\(state_type=\? AND expected_start_time>\? AND expected_start_time<\?\)"),
    Case("task runs: count by flow", "task_runs/count",
         lambda d: {"flows": {"name": {"any_": ["flow-1"]}}},
         lambda d: sum(t.flow == "flow-1" for t in d.task_runs)),
    Case("task runs: count by flow and state type", "task_runs/count",
         lambda d: {"flows": {"name": {"any_": ["flow-0"]}},
                    "task_runs": {"state": {"type": {"any_": ["COMPLETED"]}}}},
         lambda d: sum(t.flow == "flow-0" and t.state == "COMPLETED" for t in d.task_runs),
         searches=BY_RUN),
    Case("task runs: count by flow run state", "task_runs/count",
         lambda d: {"flow_runs": {"state": {"type": {"any_": ["RUNNING"]}}}},
         lambda d: sum(len(_of_run(d, r.id)) for r in d.flow_runs if r.state == "RUNNING"),
         searches=BY_RUN),
    Case("task runs: count by tag in a flow run", "task_runs/count",
         lambda d: {"task_runs": {**_tasks_of_big(d), "tags": {"all_": ["db"]}}},
         lambda d: sum("db" in t.tags for t in _of_big(d))),
    Case("task runs: count by tag", "task_runs/count",
         lambda d: {"task_runs": {"tags": {"all_": ["db"]}}},
         lambda d: sum("db" in t.tags for t in d.task_runs),
         scans_on_sqlite="tags are JSON text: no SQLite index serves membership"),
    Case("task runs: count by start time range", "task_runs/count",
         lambda d: {"task_runs": {"start_time": _day()}},
         lambda d: sum(_in_day(t.start) for t in d.task_runs),
         scans_on_sqlite="task runs' start_time has no index (expected_start_time has)",
         scans_on_postgres=True),
    Case("task runs of a flow run, first page", "task_runs/filter",
         lambda d: {"task_runs": _tasks_of_big(d), "sort": "EXPECTED_START_TIME_ASC"},
         lambda d: _ids(_of_big(d), _expected)),
    Case("task runs of a flow run, offset 10,000", "task_runs/filter",
         lambda d: {"task_runs": _tasks_of_big(d), "sort": "EXPECTED_START_TIME_ASC",
                    "offset": 10_000},
         lambda d: _ids(_of_big(d), _expected, offset=10_000)),
    Case("task runs of a flow run by name, offset 10,000", "task_runs/filter",
         lambda d: {"task_runs": _tasks_of_big(d), "sort": "NAME_DESC", "offset": 10_000},
         lambda d: _ids(_of_big(d), lambda r: r.name, reverse=True, offset=10_000)),
    Case("task runs of a flow run in a state", "task_runs/filter",
         lambda d: {"task_runs": {**_tasks_of_big(d), "state": {"type": {"any_": ["FAILED"]}}},
                    "sort": "EXPECTED_START_TIME_ASC"},
         lambda d: _ids(_failed(_of_big(d)), _expected), searches=BY_RUN),
    Case("task runs in a time range, limit 100", "task_runs/filter",
         lambda d: {"task_runs": {"expected_start_time": _day()}, "limit": 100},
         lambda d: _ids([t for t in d.task_runs if _in_day(t.expected)], limit=100)),
    Case("task runs in a time range, newest first", "task_runs/filter",
         lambda d: {"task_runs": {"expected_start_time": _day()}, "limit": 100,
                    "sort": "EXPECTED_START_TIME_DESC"},
         lambda d: _ids([t for t in d.task_runs if _in_day(t.expected)], _expected,
                        reverse=True, limit=100)),
    Case("task runs in a state, newest first", "task_runs/filter",
         lambda d: {"task_runs": {"state": {"type": {"any_": ["FAILED"]}}}, "limit": 50,
                    "sort": "EXPECTED_START_TIME_DESC"},
         lambda d: _ids(_failed(d.task_runs), _expected, reverse=True, limit=50),
         searches=r"SEARCH task_run USING (COVERING )?INDEX "
                  r"ix_task_run__state_type_expected_start_time \(state_type=\?\)"),
    Case("task runs, last finished", "task_runs/filter",
         lambda d: {"task_runs": {"end_time": {"is_null_": False}}, "sort": "END_TIME_DESC",
                    "limit": 20},
         lambda d: _ids([t for t in d.task_runs if t.end], lambda r: r.end, reverse=True,
                        limit=20),
         scans_on_sqlite="task runs' end_time has no index", scans_on_postgres=True),
    Case("task runs, newest ids", "task_runs/filter", lambda d: {"limit": 20},
         lambda d: _ids(d.task_runs, limit=20), walks_in_order=True),
    Case("flow runs: count by state type", "flow_runs/count",
         lambda d: {"flow_runs": {"state": {"type": {"any_": ["FAILED"]}}}},
         lambda d: len(_failed(d.flow_runs))),
    Case("flow runs: count by flow", "flow_runs/count",
         lambda d: {"flows": {"name": {"any_": ["flow-2"]}}},
         lambda d: sum(r.flow == "flow-2" for r in d.flow_runs)),
    Case("flow runs: count having failed task runs", "flow_runs/count",
         lambda d: {"task_runs": {"state": {"type": {"any_": ["FAILED"]}}}},
         lambda d: len({t.flow_run_id for t in _failed(d.task_runs)})),
    Case("flow runs by flow and state, by start time", "flow_runs/filter",
         lambda d: {"flows": {"name": {"any_": ["flow-0"]}},
                    "flow_runs": {"state": {"type": {"any_": ["COMPLETED"]}}},
                    "sort": "START_TIME_DESC"},
         lambda d: _ids(_flow_runs_of(d, "flow-0", "COMPLETED"), lambda r: r.start,
                        reverse=True), searches=BY_FLOW),
    Case("flow runs of a parent flow run", "flow_runs/filter",
         lambda d: {"flow_runs": {"parent_flow_run_id": {"any_": [d.flow_runs[3].id]}}},
         lambda d: [d.flow_runs[4].id]),
    Case("flow runs: top-level only, by name", "flow_runs/filter",
         lambda d: {"flow_runs": {"parent_flow_run_id": {"is_null_": True}},
                    "sort": "NAME_ASC", "limit": 10},
         lambda d: _ids([r for r in d.flow_runs if r.parent_flow_run_id is None],
                        lambda r: r.name, limit=10)),
    Case("flow-run ls", "flow_runs/filter",
         lambda d: {"sort": "EXPECTED_START_TIME_DESC", "limit": 20},
         lambda d: _ids(d.flow_runs, _expected, reverse=True, limit=20)),
    Case("flow-run ls --flow --state", "flow_runs/filter",
         lambda d: {"flows": {"name": {"any_": ["flow-3"]}},
                    "flow_runs": {"state": {"type": {"any_": ["FAILED"]}}},
                    "sort": "EXPECTED_START_TIME_DESC", "limit": 20},
         lambda d: _ids(_flow_runs_of(d, "flow-3", "FAILED"), _expected, reverse=True,
                        limit=20), searches=BY_FLOW),
]


def _of_run(d: Data, flow_run_id: str) -> list[Run]:
    return [t for t in d.task_runs if t.flow_run_id == flow_run_id]


# ---------------------------------------------------------------------- serving, plans
@dataclass
class Served:
    """An in-process client of the app, its database, and the SELECTs it ran."""

    client: Any
    database: Any
    statements: list[tuple[str, Any]]


@asynccontextmanager
async def _served(url: str) -> AsyncIterator[Served]:
    """Serve the app on ``url`` in process, catching the SQL statements it runs."""
    import httpx
    from sqlalchemy import event

    from headwater.server.app import create_app

    app = create_app(url, use_settings=False)
    database = app.state.database
    await database.start()
    statements: list[tuple[str, Any]] = []

    def caught(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    event.listen(database.engine.sync_engine, "before_cursor_execute", caught)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test/api") as client:
            yield Served(client, database, statements)
    finally:
        await database.aclose()


async def _answer(client: Any, case: Case, data: Data) -> int | list[str]:
    response = await client.post(case.path, json=case.body(data))
    assert response.status_code == 200, response.text
    body = response.json()
    return body if isinstance(body, int) else [run["id"] for run in body]


_FULL_SCAN = re.compile(r"SCAN (task_run|flow_run)(_\d+)?")

PlanRow = tuple[int, str]  # (parent step, detail) of EXPLAIN QUERY PLAN


def _sqlite_plan(path: Path, statements: list[tuple[str, Any]]) -> list[PlanRow]:
    con = sqlite3.connect(path)
    try:
        return [(row[1], row[3]) for statement, parameters in statements
                for row in con.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)]
    finally:
        con.close()


def _full_scans(plan: list[PlanRow]) -> list[PlanRow]:
    return [row for row in plan if _FULL_SCAN.fullmatch(row[1])]


def _states_for_the_page_only(plan: list[PlanRow]) -> bool:
    """Whether runs are joined to their states only once the page is known: next to
    reading the page's runs by primary key, not while filtering and sorting them all."""
    states = [parent for parent, detail in plan if re.match(r"SEARCH \w+_run_state ", detail)]
    return bool(states) and all(
        any(parent == level and re.fullmatch(r"SEARCH (task|flow)_run USING PRIMARY KEY "
                                             r"\(id=\?\)", detail)
            for parent, detail in plan)
        for level in states)


def _sorted_apart(plan: list[PlanRow], scan: PlanRow) -> bool:
    """Whether the rows a scan reads are sorted afterwards (so it cannot stop early)."""
    return any(parent == scan[0] and detail == "USE TEMP B-TREE FOR ORDER BY"
               for parent, detail in plan)


# ---------------------------------------------------------------------- SQLite
@pytest.fixture(scope="module")
def data() -> Data:
    return make_data()


@pytest.fixture(scope="module")
def sqlite_path(tmp_path_factory: pytest.TempPathFactory, data: Data) -> Path:
    """The data set in SQLite, written by the embedded recorder's writer."""
    from headwater._private.storage.record_writer import write_batch
    from headwater._private.storage.sqlite_schema import ensure_sqlite_schema

    path = tmp_path_factory.mktemp("plans") / "headwater.db"
    con = sqlite3.connect(path, isolation_level=None)
    try:
        assert ensure_sqlite_schema(con)
        for batch in data.batches:
            write_batch(con, batch)
    finally:
        con.close()
    return path


@pytest.mark.slow
@pytest.mark.anyio
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_sqlite_answers_from_indexes(case: Case, data: Data, sqlite_path: Path) -> None:
    async with _served(f"sqlite:///{sqlite_path}") as served:
        answer = await _answer(served.client, case, data)
    assert answer == case.expected(data)
    assert served.statements, "no SELECT was caught"
    plan = _sqlite_plan(sqlite_path, served.statements)
    scans = _full_scans(plan)
    shown = "\n".join(detail for _, detail in plan)
    if case.scans_on_sqlite:
        # Documented in docs/server.md; if an index now serves it, update both.
        assert scans, f"{case.name} no longer scans: drop its mark, update the docs\n{shown}"
    elif case.walks_in_order:
        assert scans and not any(_sorted_apart(plan, scan) for scan in scans), shown
    else:
        assert not scans, f"{case.name}: full table scan\n{shown}"
    if case.searches:
        assert re.search(case.searches, shown), f"{case.name}: not {case.searches}\n{shown}"
    if case.path.endswith("/filter"):
        assert _states_for_the_page_only(plan), f"{case.name}: states joined early\n{shown}"


def test_the_test_sees_a_full_scan(sqlite_path: Path) -> None:
    count = ("SELECT count(*) FROM task_run WHERE run_count > ?", (1,))
    assert [d for _, d in _full_scans(_sqlite_plan(sqlite_path, [count]))] == ["SCAN task_run"]
    ordered = ("SELECT id FROM task_run WHERE run_count > ? ORDER BY end_time LIMIT 5", (1,))
    plan = _sqlite_plan(sqlite_path, [ordered])
    scans = _full_scans(plan)
    assert scans and all(_sorted_apart(plan, scan) for scan in scans)


# ---------------------------------------------------------------------- PostgreSQL
async def _build_postgres(url: str, data: Data) -> None:
    import pydantic_core
    import sqlalchemy as sa

    async with _served(url) as served:
        async with served.database.engine.begin() as conn:
            await conn.execute(sa.text(
                "TRUNCATE flow, flow_run, task_run, flow_run_state, task_run_state, log CASCADE"))
        for batch in data.batches:
            response = await served.client.post(
                "records/batch", content=pydantic_core.to_json(batch),
                headers={"content-type": "application/json"})
            assert response.status_code == 200, response.text


@pytest.fixture(scope="module")
def postgres_data_url(postgres_url: str, data: Data) -> str:
    """The data set in the session's PostgreSQL database (other tests empty it first)."""
    asyncio.run(_build_postgres(postgres_url, data))
    return postgres_url


async def _postgres_plan(url: str, statements: list[tuple[str, Any]]) -> list[str]:
    from sqlalchemy.ext.asyncio import create_async_engine

    from headwater.server.database.engine import normalize_url

    engine = create_async_engine(normalize_url(url))
    try:
        async with engine.begin() as conn:
            await conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
            return [line for statement, parameters in statements
                    for (line,) in await conn.exec_driver_sql(f"EXPLAIN {statement}",
                                                              parameters)]
    finally:
        await engine.dispose()


@pytest.mark.anyio
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_postgres_answers_and_can_use_indexes(case: Case, data: Data,
                                                    postgres_data_url: str) -> None:
    async with _served(postgres_data_url) as served:
        answer = await _answer(served.client, case, data)
    assert answer == case.expected(data)
    if case.scans_on_postgres:
        return
    plan = await _postgres_plan(postgres_data_url, served.statements)
    assert not [line for line in plan if re.search(r"Seq Scan on (task_run|flow_run)\b", line)], \
        "\n".join(plan)


# ---------------------------------------------------------------------- the web UI's reads
UI_CASES: list[tuple[str, str, str, Callable[[Data], Any]]] = [
    # (name, method, path, body): none may scan a whole run table.
    ("timeline of the big run", "GET", "ui/flow_runs/{big}/timeline", lambda d: None),
    ("states of 200 task runs", "POST", "ui/task_runs/states",
     lambda d: {"task_run_ids": [t.id for t in _of_run(d, d.big.id)[:200]]}),
    ("chart: failed runs of a flow", "POST", "ui/flow_runs/history",
     lambda d: {"flows": {"name": {"any_": ["flow-3"]}},
                "flow_runs": {"state": {"type": {"any_": ["FAILED"]}}},
                "sort": "EXPECTED_START_TIME_DESC", "limit": 500}),
    ("chart: a day", "POST", "ui/flow_runs/history",
     lambda d: {"flow_runs": {"expected_start_time": {"after_": _iso(DAY_AFTER),
                                                      "before_": _iso(DAY_BEFORE)}},
                "sort": "EXPECTED_START_TIME_DESC", "limit": 500}),
    ("bounded count of failed runs", "POST", "ui/flow_runs/count",
     lambda d: {"flow_runs": {"state": {"type": {"any_": ["FAILED"]}}}, "at_most": 1000}),
    ("flows summary", "POST", "ui/flows/summary", lambda d: {"flow_ids": []}),
]


@pytest.mark.slow
@pytest.mark.anyio
@pytest.mark.parametrize("case", UI_CASES, ids=[c[0] for c in UI_CASES])
async def test_sqlite_ui_reads_use_indexes(case: tuple[str, str, str, Callable[[Data], Any]],
                                           data: Data, sqlite_path: Path) -> None:
    name, method, path, body = case
    async with _served(f"sqlite:///{sqlite_path}") as served:
        if name == "flows summary":
            flows = (await served.client.post("flows/filter", json={})).json()
            payload: Any = {"flow_ids": [f["id"] for f in flows]}
        else:
            payload = body(data)
        response = await served.client.request(method, path.format(big=data.big.id),
                                               json=payload)
        assert response.status_code == 200, response.text
    assert served.statements, "no SELECT was caught"
    plan = _sqlite_plan(sqlite_path, served.statements)
    shown = "\n".join(detail for _, detail in plan)
    assert not _full_scans(plan), f"{name}: full table scan\n{shown}"

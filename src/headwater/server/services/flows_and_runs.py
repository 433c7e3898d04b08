"""Flows, flow runs and task runs: create (idempotently), read, filter, set state."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from headwater._private.storage.bookkeeping import Book, advance, utc
from headwater._private.storage.run_names import random_flow_run_name
from headwater.server.database import tables as t
from headwater.server.orchestration.rules import decide
from headwater.server.schemas import actions as a
from headwater.server.schemas import filters as f
from headwater.server.schemas.core import StateType
from headwater.server.services import concurrency
from headwater.server.services.cache_keys import index_cached_states
from headwater.server.services.filters import (
    flow_clauses,
    flow_runs_where,
    lists_runs,
    task_runs_where,
)

__all__ = [
    "FLOW",
    "TASK",
    "UnknownReferenceError",
    "RunKind",
    "count_runs",
    "create_flow",
    "create_flow_run",
    "create_task_run",
    "filter_flows",
    "filter_runs",
    "insert_ignore",
    "now",
    "read_flow",
    "read_run",
    "read_state",
    "read_states",
    "set_state",
]

Row = dict[str, Any]


class UnknownReferenceError(ValueError):
    """Raised when a body refers to a flow or run that does not exist."""


def now() -> dt.datetime:
    """The current time, aware UTC."""
    return dt.datetime.now(dt.timezone.utc)


@dataclass(frozen=True)
class RunKind:
    """Flow runs and task runs share their logic; this says which tables."""

    name: str
    table: sa.Table
    states: sa.Table
    state_fk: str


FLOW = RunKind("flow", t.flow_run, t.flow_run_state, "flow_run_id")
TASK = RunKind("task", t.task_run, t.task_run_state, "task_run_id")


def insert_ignore(table: sa.Table, dialect: str) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING`` on ``table`` for this dialect."""
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(table).on_conflict_do_nothing()


# --- flows ------------------------------------------------------------------------------------

async def create_flow(conn: AsyncConnection, body: a.FlowCreate) -> tuple[Row, bool]:
    """Create a flow, or return the one with this name; the bool says whether it is new."""
    stamp = now()
    result = await conn.execute(
        insert_ignore(t.flow, conn.dialect.name).returning(t.flow.c.id),
        {"id": uuid.uuid4(), "created": stamp, "updated": stamp, "name": body.name,
         "tags": body.tags},
    )
    created = result.first() is not None
    row = (await conn.execute(sa.select(t.flow).where(t.flow.c.name == body.name))).mappings()
    return dict(row.one()), created


async def read_flow(conn: AsyncConnection, flow_id: uuid.UUID) -> Row | None:
    """The flow with this id, or None."""
    row = (await conn.execute(sa.select(t.flow).where(t.flow.c.id == flow_id))).mappings()
    found = row.first()
    return None if found is None else dict(found)


async def filter_flows(conn: AsyncConnection, body: f.FlowsFilterBody) -> list[Row]:
    """Flows matching a filter body, sorted and paginated."""
    dialect = conn.dialect.name
    where = flow_clauses(body.flows, dialect)
    run_clauses = flow_runs_where(f.FlowRunsCountBody(flow_runs=body.flow_runs), dialect)
    if body.flow_runs is not None and run_clauses:
        where.append(t.flow.c.id.in_(sa.select(t.flow_run.c.flow_id).where(*run_clauses)))
    c = t.flow.c
    orders: dict[f.FlowSort, list[sa.ColumnElement[Any]]] = {
        f.FlowSort.NAME_ASC: [c.name.asc()],
        f.FlowSort.NAME_DESC: [c.name.desc()],
        f.FlowSort.CREATED_DESC: [c.created.desc(), c.id],
        f.FlowSort.UPDATED_DESC: [c.updated.desc(), c.id],
    }
    order = orders[body.sort]
    query = sa.select(t.flow).where(*where).order_by(*order).limit(body.limit).offset(body.offset)
    return [dict(r) for r in (await conn.execute(query)).mappings()]


# --- runs -------------------------------------------------------------------------------------

def _state_columns(kind: RunKind) -> list[sa.Label[Any]]:
    s = kind.states.c
    return [s.id.label("s_id"), s.type.label("s_type"), s.name.label("s_name"),
            s.timestamp.label("s_timestamp"), s.message.label("s_message"),
            s.state_details.label("s_state_details"), s.data.label("s_data")]


def _run_select(kind: RunKind) -> sa.Select[Any]:
    return sa.select(kind.table, *_state_columns(kind)).select_from(
        kind.table.outerjoin(kind.states, kind.states.c.id == kind.table.c.state_id)
    )


def _run_from_row(row: Any) -> Row:
    run = dict(row)
    state = {key[2:]: run.pop(key) for key in list(run) if key.startswith("s_")}
    run["state"] = None if state["id"] is None else state
    return run


async def read_run(conn: AsyncConnection, kind: RunKind, run_id: uuid.UUID) -> Row | None:
    """A run with its current state, or None."""
    query = _run_select(kind).where(kind.table.c.id == run_id)
    row = (await conn.execute(query)).mappings().first()
    return None if row is None else _run_from_row(row)


async def delete_row(conn: AsyncConnection, table: sa.Table, row_id: uuid.UUID) -> bool:
    """Delete a flow, flow run or task run; False when there was none.

    What belongs to it goes with it, by foreign key: a flow's runs, a flow
    run's task runs, a run's states, and the states' cache key entries. Logs
    stay (they name runs without a foreign key, as in Prefect).
    """
    result = await conn.execute(sa.delete(table).where(table.c.id == row_id))
    return bool(result.rowcount)


#: Each sort of runs: its column, and whether descending. Ties go by id, ascending.
_SORTS: dict[str, tuple[str, bool]] = {
    "ID_DESC": ("id", True),
    "START_TIME_ASC": ("start_time", False),
    "START_TIME_DESC": ("start_time", True),
    "EXPECTED_START_TIME_ASC": ("expected_start_time", False),
    "EXPECTED_START_TIME_DESC": ("expected_start_time", True),
    "NAME_ASC": ("name", False),
    "NAME_DESC": ("name", True),
    "END_TIME_DESC": ("end_time", True),
}


def _order(source: Any, sort: str) -> list[sa.ColumnElement[Any]]:
    """The ``ORDER BY`` of a sort, on ``source``'s columns (a table or a CTE)."""
    name, descending = _SORTS[sort]
    column = source.c[name]
    return [column.desc() if descending else column.asc(), source.c.id]


def _where(kind: RunKind, body: f.FlowRunsCountBody | f.TaskRunsCountBody,
           dialect: str) -> list[sa.ColumnElement[bool]]:
    if kind is FLOW:
        assert isinstance(body, f.FlowRunsCountBody)
        return flow_runs_where(body, dialect)
    assert isinstance(body, f.TaskRunsCountBody)
    return task_runs_where(body, dialect)


def _page(kind: RunKind, body: f.FlowRunsFilterBody | f.TaskRunsFilterBody,
          dialect: str) -> sa.Subquery:
    """The ids of a page of runs (``page.id``), for :func:`filter_runs`."""
    table = kind.table
    where = _where(kind, body, dialect)
    source: Any = table
    if dialect == "postgresql" and lists_runs(body):
        # Filter first, then sort. Given a LIMIT, PostgreSQL likes to walk the
        # sort column's index in order, keeping the rows that match, as if they
        # were spread evenly; but a flow run's task runs are close together in
        # time, so for a recent flow run it read nearly every task run first
        # (160 ms among a million, against 10 ms). A materialized CTE is a fence.
        column = _SORTS[body.sort.value][0]
        columns = [table.c.id] if column == "id" else [table.c.id, table.c[column]]
        source = sa.select(*columns).where(*where).cte("matches").prefix_with("MATERIALIZED")
        where = []
    return (sa.select(source.c.id).where(*where).order_by(*_order(source, body.sort.value))
            .limit(body.limit).offset(body.offset).subquery("page"))


async def filter_runs(conn: AsyncConnection, kind: RunKind,
                      body: f.FlowRunsFilterBody | f.TaskRunsFilterBody) -> list[Row]:
    """Runs matching a filter body, sorted (ties broken by id) and paginated.

    The page is found first, as ids only (a "deferred join"): the filter and
    the sort run over narrow rows (often an index alone), and only the page's
    runs are read whole and joined to their states. Reading whole rows first
    sorted every matching run with its state: 120 ms for a page of the 25,000
    task runs of one flow run, against 60 (``benchmarks/bench_api_scale.py``).
    """
    table = kind.table
    page = _page(kind, body, conn.dialect.name)
    query = (sa.select(table, *_state_columns(kind))
             .select_from(table.join(page, page.c.id == table.c.id)
                          .outerjoin(kind.states, kind.states.c.id == table.c.state_id))
             .order_by(*_order(table, body.sort.value)))
    return [_run_from_row(r) for r in (await conn.execute(query)).mappings()]


async def count_runs(conn: AsyncConnection, kind: RunKind,
                     body: f.FlowRunsCountBody | f.TaskRunsCountBody) -> int:
    """How many runs match a filter body."""
    query = sa.select(sa.func.count()).select_from(kind.table).where(
        *_where(kind, body, conn.dialect.name))
    return int((await conn.execute(query)).scalar_one())


def _state_row(kind: RunKind, run_id: uuid.UUID, state: a.StateCreate, stamp: dt.datetime) -> Row:
    details = dict(state.state_details)
    details[kind.state_fk] = str(run_id)
    return {
        "id": state.id or uuid.uuid4(), "created": stamp, kind.state_fk: run_id,
        "type": state.type.value, "name": state.name or _default_name(state.type),
        "timestamp": utc(state.timestamp) if state.timestamp else stamp,
        "message": state.message, "state_details": details, "data": state.data,
    }


def _default_name(type_: StateType) -> str:
    return type_.value.capitalize()


async def _create_run(conn: AsyncConnection, kind: RunKind, row: Row,
                      state: a.StateCreate | None,
                      existing: sa.Select[Any]) -> tuple[Row, bool]:
    """Insert a run unless it exists (by id or by ``existing``); return it and whether new."""
    stamp = row["created"]
    state_row = None if state is None else _state_row(kind, row["id"], state, stamp)
    if state_row is not None:
        book = advance(Book(), state_row["id"], state_row["type"], state_row["name"],
                       state_row["timestamp"])
        row.update(book.values())
    found = (await conn.execute(existing)).first()
    if found is None:
        result = await conn.execute(
            insert_ignore(kind.table, conn.dialect.name).returning(kind.table.c.id), row)
        inserted = result.first() is not None
        if inserted and state_row is not None:
            await conn.execute(sa.insert(kind.states), state_row)
            if kind is TASK:
                await index_cached_states(conn, [state_row], stamp)
        if inserted:
            run = await read_run(conn, kind, row["id"])
            assert run is not None
            return run, True
        found = (await conn.execute(existing)).first()
    if found is None:  # a unique key other than ours matched: report the conflict
        raise LookupError("a run with this identity exists but could not be read")
    run = await read_run(conn, kind, found[0])
    assert run is not None
    return run, False


async def create_flow_run(conn: AsyncConnection, body: a.FlowRunCreate,
                          extra: Row | None = None) -> tuple[Row, bool]:
    """Create a flow run; an existing one with the same id or idempotency key is returned.

    ``extra``: more columns of the row (a deployment's run names its deployment).
    """
    if await read_flow(conn, body.flow_id) is None:
        raise UnknownReferenceError(f"Flow {body.flow_id} not found.")
    stamp = now()
    run_id = body.id or uuid.uuid4()
    row = {
        "id": run_id, "created": stamp, "updated": stamp,
        "name": body.name or random_flow_run_name(), "flow_id": body.flow_id,
        "flow_version": body.flow_version, "parameters": body.parameters, "tags": body.tags,
        "idempotency_key": body.idempotency_key,
        "parent_task_run_id": body.parent_task_run_id,
        "parent_flow_run_id": body.parent_flow_run_id,
        "expected_start_time": utc(body.expected_start_time or stamp),
        **(extra or {}),
    }
    c = t.flow_run.c
    same = c.id == run_id
    if body.idempotency_key is not None:
        same = sa.or_(same, sa.and_(c.flow_id == body.flow_id,
                                    c.idempotency_key == body.idempotency_key))
    return await _create_run(conn, FLOW, row, body.state, sa.select(c.id).where(same).limit(1))


async def create_task_run(conn: AsyncConnection, body: a.TaskRunCreate) -> tuple[Row, bool]:
    """Create a task run; an existing one with the same id, or the same flow run,
    task_key and dynamic_key, is returned."""
    if body.flow_run_id is not None:
        found = await conn.execute(sa.select(t.flow_run.c.id).where(
            t.flow_run.c.id == body.flow_run_id))
        if found.first() is None:
            raise UnknownReferenceError(f"Flow run {body.flow_run_id} not found.")
    stamp = now()
    run_id = body.id or uuid.uuid4()
    row = {
        "id": run_id, "created": stamp, "updated": stamp,
        "name": body.name or f"{body.task_key}-{body.dynamic_key}",
        "flow_run_id": body.flow_run_id, "task_key": body.task_key,
        "task_name": body.task_name, "dynamic_key": body.dynamic_key,
        "cache_key": body.cache_key, "task_version": body.task_version, "tags": body.tags,
        "expected_start_time": utc(body.expected_start_time or stamp),
    }
    c = t.task_run.c
    same = sa.or_(c.id == run_id, sa.and_(
        c.flow_run_id == body.flow_run_id if body.flow_run_id else c.flow_run_id.is_(None),
        c.task_key == body.task_key, c.dynamic_key == body.dynamic_key))
    return await _create_run(conn, TASK, row, body.state, sa.select(c.id).where(same).limit(1))


# --- states -----------------------------------------------------------------------------------

async def read_state(conn: AsyncConnection, kind: RunKind, state_id: uuid.UUID) -> Row | None:
    """One state by id, or None."""
    query = sa.select(kind.states).where(kind.states.c.id == state_id)
    row = (await conn.execute(query)).mappings().first()
    return None if row is None else dict(row)


async def read_states(conn: AsyncConnection, kind: RunKind, run_id: uuid.UUID) -> list[Row]:
    """The state history of a run, oldest first."""
    s = kind.states
    query = sa.select(s).where(s.c[kind.state_fk] == run_id).order_by(s.c.timestamp, s.c.id)
    return [dict(r) for r in (await conn.execute(query)).mappings()]


async def _current(conn: AsyncConnection, kind: RunKind, run_id: uuid.UUID) -> Row | None:
    cols = [kind.table.c[name] for name in (*Book.__dataclass_fields__, "tags")]
    query = sa.select(*cols).where(kind.table.c.id == run_id)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()  # orders concurrent set_state calls on this run
    row = (await conn.execute(query)).mappings().first()
    return None if row is None else dict(row)


async def set_state(conn: AsyncConnection, kind: RunKind, run_id: uuid.UUID,
                    body: a.SetStateRequest) -> a.OrchestrationResult | None:
    """Propose a state for a run; None if the run does not exist.

    The caller's transaction must be a write transaction: on SQLite it holds
    the write lock, on PostgreSQL the run row is locked, so the check and the
    update cannot interleave with another writer's.
    """
    current = await _current(conn, kind, run_id)
    if current is None:
        return None
    book = Book.from_row(current)
    proposed = body.state
    decision = decide(
        StateType(book.state_type) if book.state_type else None,
        proposed.type, proposed.name or _default_name(proposed.type),
        force=body.force, version=book.state_version,
        expected_version=body.expected_state_version)
    if decision.status != "ACCEPT":
        return await _refused(conn, kind, book, decision.status, decision.reason)
    if kind is FLOW and not body.force and (proposed.type is StateType.PAUSED
                                            or book.state_type == "PAUSED"):
        refused = await _judge_pause(conn, run_id, book, proposed)
        if refused is not None:
            return refused
    if kind is TASK and not body.force and proposed.type is StateType.RUNNING:
        wait = await concurrency.acquire_slots(conn, run_id, current["tags"])
        if wait is not None:
            return await _refused(conn, kind, book, wait.status, wait.reason,
                                  wait.delay_seconds)
    stamp = now()
    state_row = _state_row(kind, run_id, proposed, stamp)
    new_book = advance(book, state_row["id"], state_row["type"], state_row["name"],
                       state_row["timestamp"])
    c = kind.table.c
    result = await conn.execute(
        sa.update(kind.table)
        .where(c.id == run_id, c.state_version == book.state_version)
        .values(updated=stamp, **new_book.values()))
    if result.rowcount != 1:  # only without row locks, if another writer got in first
        return await _refused(conn, kind, book, "ABORT", "The run's state changed concurrently.")
    await conn.execute(insert_ignore(kind.states, conn.dialect.name), state_row)
    if kind is TASK:
        await index_cached_states(conn, [state_row], stamp)
    if kind is TASK and proposed.type is not StateType.RUNNING:
        await concurrency.release_slots(conn, run_id, current["tags"])
    return a.OrchestrationResult(status="ACCEPT", state=state_row, details={})  # type: ignore[arg-type]


async def _judge_pause(conn: AsyncConnection, run_id: uuid.UUID, book: Book,
                       proposed: a.StateCreate) -> a.OrchestrationResult | None:
    """Prefect 2's pause rules (``services/pauses.py``); None when they accept."""
    from headwater.server.services import pauses

    decision, failure = await pauses.judge(conn, run_id, book.state_type, proposed, now())
    if decision is None:
        return None
    if failure is not None:  # the pause timed out: the run ends Failed instead
        failed = a.StateCreate(type=StateType.FAILED, message=failure)
        ended = await set_state(conn, FLOW, run_id, a.SetStateRequest(state=failed, force=True))
        state = ended.state if ended is not None else None
        return a.OrchestrationResult(status="REJECT", state=state,
                                     details={"type": "reject_details",
                                              "reason": decision.reason})
    return await _refused(conn, FLOW, book, decision.status, decision.reason)


async def _refused(conn: AsyncConnection, kind: RunKind, book: Book, status: Any,
                   reason: str | None, delay: float | None = None) -> a.OrchestrationResult:
    state = None if book.state_id is None else await read_state(conn, kind, book.state_id)
    kind_name = {"REJECT": "reject_details", "ABORT": "abort_details",
                 "WAIT": "wait_details"}[status]
    details: dict[str, Any] = {"type": kind_name, "reason": reason}
    if delay is not None:
        details["delay_seconds"] = delay
    return a.OrchestrationResult(status=status, state=state, details=details)  # type: ignore[arg-type]


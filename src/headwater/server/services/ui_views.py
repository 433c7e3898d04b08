"""Compact reads for the web UI: a run's timeline, the run-history chart, bounded counts.

The Prefect-shaped routes return whole runs (state objects, parameters,
details): right for clients, heavy for drawing 10,000 task runs. These
queries read only the columns a chart draws, through the same indexes as
the filters (``task_run``'s ``(flow_run_id, ...)`` unique key,
``task_run_state``'s ``(task_run_id, timestamp)``, ``flow_run``'s
``parent_flow_run_id``), and return rows as arrays with times in epoch
milliseconds: a tenth of the JSON, parsed without building objects.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from headwater.server.database import tables as t
from headwater.server.schemas import filters as f
from headwater.server.services.filters import flow_runs_where

__all__ = ["TIMELINE_LIMIT", "bounded_count", "flow_run_timeline", "flows_summary",
           "run_history", "task_run_states"]

#: Most task runs a timeline returns (a run with more says it was cut).
TIMELINE_LIMIT = 20_000

_RUN_SORTS = {
    f.FlowRunSort.ID_DESC: ("id", True),
    f.FlowRunSort.START_TIME_ASC: ("start_time", False),
    f.FlowRunSort.START_TIME_DESC: ("start_time", True),
    f.FlowRunSort.EXPECTED_START_TIME_ASC: ("expected_start_time", False),
    f.FlowRunSort.EXPECTED_START_TIME_DESC: ("expected_start_time", True),
    f.FlowRunSort.NAME_ASC: ("name", False),
    f.FlowRunSort.NAME_DESC: ("name", True),
    f.FlowRunSort.END_TIME_DESC: ("end_time", True),
}


def _ms(value: dt.datetime | None) -> int | None:
    return None if value is None else int(value.timestamp() * 1000)


async def bounded_count(conn: AsyncConnection, body: f.FlowRunsCountBody,
                        at_most: int) -> tuple[int, bool]:
    """How many flow runs match, counting no further than ``at_most``.

    Returns:
        ``(count, more)``: ``more`` is True when more than ``at_most`` match
        (the count is then ``at_most``). A page says "10,000+" instead of
        walking every match of a broad filter.
    """
    where = flow_runs_where(body, conn.dialect.name)
    found = await _count_up_to(conn, sa.select(sa.literal(1).label("one"))
                               .select_from(t.flow_run).where(*where), at_most)
    return min(found, at_most), found > at_most


async def _count_up_to(conn: AsyncConnection, query: sa.Select[Any], at_most: int) -> int:
    """How many rows ``query`` returns, reading no more than ``at_most + 1``."""
    inner = query.limit(at_most + 1).subquery()
    return int((await conn.execute(sa.select(sa.func.count()).select_from(inner)))
               .scalar_one())


async def run_history(conn: AsyncConnection, body: f.FlowRunsFilterBody) -> list[list[Any]]:
    """The matching flow runs, sorted and paginated, as chart rows.

    Each row: ``[id, name, flow_id, state_type, state_name, expected_start_ms,
    start_ms, end_ms]``.
    """
    c = t.flow_run.c
    name, descending = _RUN_SORTS[body.sort]
    column = c[name]
    query = (sa.select(c.id, c.name, c.flow_id, c.state_type, c.state_name,
                       c.expected_start_time, c.start_time, c.end_time)
             .where(*flow_runs_where(body, conn.dialect.name))
             .order_by(column.desc() if descending else column.asc(), c.id)
             .limit(body.limit).offset(body.offset))
    return [[str(r.id), r.name, str(r.flow_id), r.state_type, r.state_name,
             _ms(r.expected_start_time), _ms(r.start_time), _ms(r.end_time)]
            for r in await conn.execute(query)]


def _epoch_ms(column: sa.ColumnElement[Any], dialect: str) -> sa.ColumnElement[Any]:
    """``column`` (a timestamp) as integer epoch milliseconds, computed by the database.

    Turning 50,000 stored timestamps into datetimes and back to numbers in
    Python cost more than the query; the database does it for nothing.
    """
    if dialect == "postgresql":
        return sa.cast(sa.func.round(sa.extract("epoch", column) * 1000), sa.BigInteger)
    # SQLite stores UTC text; julianday() reads it (to well under a millisecond).
    return sa.cast(sa.func.round((sa.func.julianday(column) - 2440587.5) * 86_400_000.0),
                   sa.Integer)


def _raw(column: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    """A UUID column as the driver returns it (hex text on SQLite): a grouping key,
    without building 50,000 ``uuid.UUID`` objects."""
    return sa.type_coerce(column, sa.String())


def _dashed(raw: Any) -> str:
    """A raw UUID value as the API writes ids (8-4-4-4-12)."""
    text = str(raw)
    if len(text) == 32:
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
    return text


_DEFAULT_NAMES = {name: name.capitalize() for name in (
    "SCHEDULED", "PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELLED", "CRASHED",
    "PAUSED", "CANCELLING")}


async def task_run_states(conn: AsyncConnection, task_run_ids: list[uuid.UUID]
                          ) -> dict[str, list[list[Any]]]:
    """The state histories of some task runs (those a timeline shows), oldest first.

    Returns:
        ``{task_run_id: [[ms, type, name], ...]}``; a state's name is None when
        it is its type's default ("Running" for RUNNING).
    """
    if not task_run_ids:
        return {}
    s = t.task_run_state.c
    query = (sa.select(s.task_run_id, s.type, s.name,
                       _epoch_ms(s.timestamp, conn.dialect.name).label("ms"))
             .where(s.task_run_id.in_(task_run_ids))
             .order_by(s.task_run_id, s.timestamp))
    out: dict[str, list[list[Any]]] = {}
    for key, type_, name, ms in await conn.execute(query):
        out.setdefault(str(key), []).append(
            [ms, type_, None if name == _DEFAULT_NAMES.get(type_) else name])
    return out


async def flow_run_timeline(conn: AsyncConnection, flow_run_id: uuid.UUID,
                            limit: int = TIMELINE_LIMIT) -> dict[str, Any]:
    """A flow run's task runs (one row each, no state history) and its subflow runs.

    The rows say when each task run was expected, started and ended and how
    many attempts it made (``run_count``): enough to draw every row at once.
    The timeline asks :func:`task_run_states` for the rows in view, to draw
    each attempt and wait: reading the 40,000 states of 10,000 task runs up
    front tripled the time to the first picture.

    Returns:
        ``{"task_runs": [[id, name, state_type, state_name, run_count,
        expected_start_ms, start_ms, end_ms], ...], "subflows": [[id, name,
        parent_task_run_id, state_type, state_name, expected_start_ms, start_ms,
        end_ms], ...], "truncated": bool}``, in order of expected start.
    """
    r = t.task_run.c
    dialect = conn.dialect.name
    query = (sa.select(_raw(r.id), r.name, r.state_type, r.state_name, r.run_count,
                       _epoch_ms(r.expected_start_time, dialect),
                       _epoch_ms(r.start_time, dialect), _epoch_ms(r.end_time, dialect))
             .where(r.flow_run_id == flow_run_id)
             .order_by(r.expected_start_time, r.id).limit(limit + 1))
    rows = list(await conn.execute(query))
    task_runs = [[_dashed(key), *rest] for key, *rest in rows[:limit]]
    c = t.flow_run.c
    subs = await conn.execute(
        sa.select(c.id, c.name, c.parent_task_run_id, c.state_type, c.state_name,
                  c.expected_start_time, c.start_time, c.end_time)
        .where(c.parent_flow_run_id == flow_run_id)
        .order_by(c.expected_start_time, c.id).limit(limit))
    subflows = [[str(x.id), x.name, None if x.parent_task_run_id is None
                 else str(x.parent_task_run_id), x.state_type, x.state_name,
                 _ms(x.expected_start_time), _ms(x.start_time), _ms(x.end_time)]
                for x in subs]
    return {"task_runs": task_runs, "subflows": subflows, "truncated": len(rows) > limit}


async def flows_summary(conn: AsyncConnection, flow_ids: list[uuid.UUID],
                        at_most: int) -> dict[str, dict[str, Any]]:
    """For each flow, how many runs it has, counted no further than ``at_most``.

    One covering-index lookup per flow (``flow_run.flow_id``). (The latest run
    of each flow is left to the runs page filtered by flow: without an index on
    ``(flow_id, expected_start_time)`` it meant sorting each flow's runs.)
    """
    c = t.flow_run.c
    out: dict[str, dict[str, Any]] = {}
    for flow_id in flow_ids:
        found = await _count_up_to(
            conn, sa.select(sa.literal(1).label("one")).where(c.flow_id == flow_id), at_most)
        out[str(flow_id)] = {"runs": min(found, at_most), "more": found > at_most}
    return out

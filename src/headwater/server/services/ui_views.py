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
           "run_history"]

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
    inner = sa.select(sa.literal(1).label("one")).select_from(t.flow_run).where(*where)
    inner = inner.limit(at_most + 1).subquery()
    found = int((await conn.execute(sa.select(sa.func.count()).select_from(inner)))
                .scalar_one())
    return min(found, at_most), found > at_most


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


async def _task_states(conn: AsyncConnection, flow_run_id: uuid.UUID
                       ) -> dict[uuid.UUID, list[list[Any]]]:
    """Every state of the flow run's task runs, oldest first, by task run."""
    s, r = t.task_run_state.c, t.task_run.c
    query = (sa.select(s.task_run_id, s.type, s.name, s.timestamp)
             .select_from(t.task_run_state.join(t.task_run, r.id == s.task_run_id))
             .where(r.flow_run_id == flow_run_id)
             .order_by(s.task_run_id, s.timestamp))
    out: dict[uuid.UUID, list[list[Any]]] = {}
    for row in await conn.execute(query):
        out.setdefault(row.task_run_id, []).append([_ms(row.timestamp), row.type, row.name])
    return out


async def flow_run_timeline(conn: AsyncConnection, flow_run_id: uuid.UUID,
                            limit: int = TIMELINE_LIMIT) -> dict[str, Any]:
    """A flow run's task runs with their state histories, and its subflow runs.

    Returns:
        ``{"task_runs": [[id, name, task_key, state_type, state_name, run_count,
        expected_start_ms, start_ms, end_ms, [[ms, type, name], ...]], ...],
        "subflows": [[id, name, parent_task_run_id, state_type, state_name,
        expected_start_ms, start_ms, end_ms], ...], "truncated": bool}``;
        task runs in order of expected start. Retries show as several
        RUNNING states (and ``AwaitingRetry`` between them); waits as the
        gaps between a SCHEDULED/PENDING state and the next RUNNING one.
    """
    r = t.task_run.c
    query = (sa.select(r.id, r.name, r.task_key, r.state_type, r.state_name, r.run_count,
                       r.expected_start_time, r.start_time, r.end_time)
             .where(r.flow_run_id == flow_run_id)
             .order_by(r.expected_start_time, r.id).limit(limit + 1))
    rows = list(await conn.execute(query))
    states = await _task_states(conn, flow_run_id) if rows else {}
    task_runs = [[str(x.id), x.name, x.task_key, x.state_type, x.state_name, x.run_count,
                  _ms(x.expected_start_time), _ms(x.start_time), _ms(x.end_time),
                  states.get(x.id, [])] for x in rows[:limit]]
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
    """For each flow: its run count (bounded by ``at_most``) and its latest run.

    One indexed lookup per flow (``flow_run.flow_id``), for a page of flows.
    """
    c = t.flow_run.c
    out: dict[str, dict[str, Any]] = {}
    for flow_id in flow_ids:
        inner = sa.select(sa.literal(1).label("one")).where(c.flow_id == flow_id)
        inner = inner.limit(at_most + 1).subquery()
        found = int((await conn.execute(sa.select(sa.func.count()).select_from(inner)))
                    .scalar_one())
        latest = (await conn.execute(
            sa.select(c.id, c.name, c.state_type, c.state_name, c.expected_start_time)
            .where(c.flow_id == flow_id)
            .order_by(sa.nulls_last(c.expected_start_time.desc()), c.id.desc())
            .limit(1))).first()
        out[str(flow_id)] = {
            "runs": min(found, at_most), "more": found > at_most,
            "latest": None if latest is None else [
                str(latest.id), latest.name, latest.state_type, latest.state_name,
                _ms(latest.expected_start_time)],
        }
    return out

"""Turn filter bodies into SQL ``WHERE`` clauses (SQLite and PostgreSQL).

SQLite plans without statistics (nothing runs ``ANALYZE``), so it sees
``state_type = ?`` and ``flow_run_id = ?`` as equally narrow and may walk
the state index: for the failed task runs of one flow run, every failed task
run of the database (130 ms among a million, against 40). A state type
matches a large share of the runs, a flow run's (or a flow's) task runs are
few, so when a filter names runs or flows the state test is written
``+state_type`` on SQLite: the unary ``+`` is SQLite's documented way to keep
the planner off a column's index. PostgreSQL has statistics and needs no
hint. ``tests/server/test_query_plans.py`` checks the plans of the common
filters and counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql import operators

from headwater.server.database import tables as t
from headwater.server.schemas import filters as f

__all__ = [
    "deployment_clauses",
    "flow_clauses",
    "flow_run_clauses",
    "flow_runs_where",
    "lists_runs",
    "log_clauses",
    "task_run_clauses",
    "task_runs_where",
    "unindexed",
]

Clause = sa.ColumnElement[bool]


def _has_tag(column: sa.ColumnElement[Any], tag: str, dialect: str) -> Clause:
    if dialect == "postgresql":
        # jsonb @>, served by the GIN index (the column's base type is plain JSON).
        return sa.type_coerce(column, JSONB).contains([tag])
    each = sa.func.json_each(column).table_valued("value")
    return sa.exists(sa.select(sa.literal(1)).select_from(each).where(each.c.value == tag))


def _tags(column: sa.ColumnElement[Any], flt: f.TagsFilter | None, dialect: str) -> list[Clause]:
    if flt is None:
        return []
    out: list[Clause] = [_has_tag(column, tag, dialect) for tag in flt.all_ or ()]
    if flt.any_ is not None:
        out.append(sa.or_(sa.false(), *(_has_tag(column, tag, dialect) for tag in flt.any_)))
    if flt.is_null_ is not None:
        length = (sa.func.jsonb_array_length if dialect == "postgresql"
                  else sa.func.json_array_length)(column)
        out.append(length == 0 if flt.is_null_ else length > 0)
    return out


def _ids(column: sa.ColumnElement[Any], flt: f.IdFilter | None, dialect: str) -> list[Clause]:
    if flt is None:
        return []
    out: list[Clause] = []
    if flt.any_ is not None:
        out.append(column.in_(flt.any_))
    if flt.not_any_ is not None:
        out.append(column.not_in(flt.not_any_))
    if flt.like_ is not None:
        out.append(_id_hex(column, dialect).contains(flt.like_.replace("-", "").lower(),
                                                     autoescape=True))
    return out


def _id_hex(column: sa.ColumnElement[Any], dialect: str) -> sa.ColumnElement[str]:
    """An id as 32 lower-case hex digits: SQLite stores that text, PostgreSQL a ``uuid``."""
    text = sa.cast(column, sa.String)
    if dialect == "postgresql":
        return sa.func.replace(text, "-", "")
    return sa.func.lower(text)


def _nullable_ids(column: sa.ColumnElement[Any], flt: f.NullableIdFilter | None) -> list[Clause]:
    if flt is None:
        return []
    out: list[Clause] = []
    if flt.any_ is not None:
        out.append(column.in_(flt.any_))
    if flt.is_null_ is not None:
        out.append(column.is_(None) if flt.is_null_ else column.is_not(None))
    return out


def _names(column: sa.ColumnElement[Any], flt: f.NameFilter | None) -> list[Clause]:
    if flt is None:
        return []
    out: list[Clause] = []
    if flt.any_ is not None:
        out.append(column.in_(flt.any_))
    if flt.like_ is not None:
        out.append(column.icontains(flt.like_, autoescape=True))
    return out


def _times(column: sa.ColumnElement[Any], flt: f.TimeFilter | None) -> list[Clause]:
    if flt is None:
        return []
    out: list[Clause] = []
    if flt.before_ is not None:
        out.append(column <= flt.before_)
    if flt.after_ is not None:
        out.append(column >= flt.after_)
    if flt.is_null_ is not None:
        out.append(column.is_(None) if flt.is_null_ else column.is_not(None))
    return out


def unindexed(column: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    """``+column``: the same value, but SQLite's planner will not use an index of it."""
    return sa.sql.expression.UnaryExpression(column, operator=operators.custom_op("+"),
                                             type_=column.type)


def _state(table: sa.Table, flt: f.StateFilter | None, *, indexed: bool = True) -> list[Clause]:
    if flt is None:
        return []
    out: list[Clause] = []
    if flt.type is not None:
        state_type = table.c.state_type if indexed else unindexed(table.c.state_type)
        if flt.type.any_ is not None:
            out.append(state_type.in_([s.value for s in flt.type.any_]))
        if flt.type.not_any_ is not None:
            excluded = [s.value for s in flt.type.not_any_]
            out.append(sa.or_(state_type.is_(None), state_type.not_in(excluded)))
        # (state_type NULL: a run without a state yet matches "not any".)
    if flt.name is not None:
        if flt.name.any_ is not None:
            out.append(table.c.state_name.in_(flt.name.any_))
        if flt.name.not_any_ is not None:
            out.append(sa.or_(table.c.state_name.is_(None),
                              table.c.state_name.not_in(flt.name.not_any_)))
    return out


def flow_clauses(flt: f.FlowFilter | None, dialect: str) -> list[Clause]:
    """Clauses on ``flow``."""
    if flt is None:
        return []
    c = t.flow.c
    return [*_ids(c.id, flt.id, dialect), *_names(c.name, flt.name),
            *_tags(c.tags, flt.tags, dialect)]


def _flag(column: sa.ColumnElement[Any], flt: f.BoolFilter | None) -> list[Clause]:
    if flt is None or flt.eq_ is None:
        return []
    return [column.is_(sa.true()) if flt.eq_ else column.is_(sa.false())]


def deployment_clauses(flt: f.DeploymentFilter | None, dialect: str, *,
                       current_only: bool) -> list[Clause]:
    """Clauses on ``deployment``; ``current_only``: no ``archived`` criterion means not archived."""
    c = t.deployment.c
    if flt is None:
        return [c.archived.is_(sa.false())] if current_only else []
    archived = flt.archived
    if archived is None and "archived" not in flt.model_fields_set and current_only:
        archived = f.BoolFilter(eq_=False)
    return [
        *_ids(c.id, flt.id, dialect),
        *_names(c.name, flt.name),
        *_tags(c.tags, flt.tags, dialect),
        *_names(c.project, flt.project),
        *_flag(c.archived, archived),
        *_flag(c.paused, flt.paused),
        *_names(c.work_pool_name, flt.work_pool_name),
        *_names(c.work_queue_name, flt.work_queue_name),
    ]


def _listed(*filters: f.IdFilter | f.NullableIdFilter | None) -> bool:
    """Whether any of these id filters lists ids (``any_``)."""
    return any(flt is not None and flt.any_ is not None for flt in filters)


def flow_run_clauses(flt: f.FlowRunFilter | None, dialect: str, *,
                     narrowed: bool = False) -> list[Clause]:
    """Clauses on ``flow_run``.

    ``narrowed``: another clause (flows) picks few flow runs, so on SQLite the
    state type index is left out of the plan (see the module's docstring).
    """
    if flt is None:
        return []
    c = t.flow_run.c
    narrowed = narrowed or _listed(flt.id, flt.parent_task_run_id, flt.parent_flow_run_id)
    return [
        *_ids(c.id, flt.id, dialect),
        *_names(c.name, flt.name),
        *_tags(c.tags, flt.tags, dialect),
        *_state(t.flow_run, flt.state, indexed=dialect != "sqlite" or not narrowed),
        *_times(c.expected_start_time, flt.expected_start_time),
        *_times(c.start_time, flt.start_time),
        *_times(c.end_time, flt.end_time),
        *_nullable_ids(c.parent_task_run_id, flt.parent_task_run_id),
        *_nullable_ids(c.parent_flow_run_id, flt.parent_flow_run_id),
        *_names(c.idempotency_key, flt.idempotency_key),
        *_nullable_ids(c.deployment_id, flt.deployment_id),
    ]


def task_run_clauses(flt: f.TaskRunFilter | None, dialect: str, *,
                     narrowed: bool = False) -> list[Clause]:
    """Clauses on ``task_run``.

    ``narrowed``: another clause (flows, flow runs) picks few task runs, so on
    SQLite the state type index is left out of the plan (see the module's docstring).
    """
    if flt is None:
        return []
    c = t.task_run.c
    narrowed = narrowed or _listed(flt.id, flt.flow_run_id)
    return [
        *_ids(c.id, flt.id, dialect),
        *_names(c.name, flt.name),
        *_tags(c.tags, flt.tags, dialect),
        *_state(t.task_run, flt.state, indexed=dialect != "sqlite" or not narrowed),
        *_times(c.expected_start_time, flt.expected_start_time),
        *_times(c.start_time, flt.start_time),
        *_times(c.end_time, flt.end_time),
        *_nullable_ids(c.flow_run_id, flt.flow_run_id),
    ]


def log_clauses(flt: f.LogFilter | None) -> list[Clause]:
    """Clauses on ``log``."""
    if flt is None:
        return []
    c = t.log.c
    out: list[Clause] = [
        *_times(c.timestamp, flt.timestamp),
        *_nullable_ids(c.flow_run_id, flt.flow_run_id),
        *_nullable_ids(c.task_run_id, flt.task_run_id),
    ]
    if flt.level is not None:
        if flt.level.ge_ is not None:
            out.append(c.level >= flt.level.ge_)
        if flt.level.le_ is not None:
            out.append(c.level <= flt.level.le_)
    return out


def _in_subquery(column: sa.ColumnElement[Any], select_column: sa.ColumnElement[Any],
                 clauses: Sequence[Clause]) -> list[Clause]:
    if not clauses:
        return []
    return [column.in_(sa.select(select_column).where(*clauses))]


def lists_runs(body: f.FlowRunsCountBody | f.TaskRunsCountBody) -> bool:
    """Whether a filter lists the runs it wants, their flow runs or their parents, by id.

    Such runs are few, and close together in time.
    """
    if isinstance(body, f.TaskRunsCountBody):
        task_runs = body.task_runs
        return task_runs is not None and _listed(task_runs.id, task_runs.flow_run_id)
    runs = body.flow_runs
    return runs is not None and _listed(runs.id, runs.parent_task_run_id,
                                        runs.parent_flow_run_id)


def _flow_run_where(flows: f.FlowFilter | None, flow_runs: f.FlowRunFilter | None,
                    dialect: str) -> list[Clause]:
    """Clauses on ``flow_run`` from flow and flow run criteria."""
    by_flow = _in_subquery(t.flow_run.c.flow_id, t.flow.c.id, flow_clauses(flows, dialect))
    return [*flow_run_clauses(flow_runs, dialect, narrowed=bool(by_flow)), *by_flow]


def flow_runs_where(body: f.FlowRunsCountBody, dialect: str) -> list[Clause]:
    """Every clause of a flow runs filter or count, on ``flow_run``."""
    return [
        *_flow_run_where(body.flows, body.flow_runs, dialect),
        *_in_subquery(t.flow_run.c.deployment_id, t.deployment.c.id,
                      deployment_clauses(body.deployments, dialect, current_only=False)),
        *_in_subquery(t.flow_run.c.id, t.task_run.c.flow_run_id,
                      task_run_clauses(body.task_runs, dialect)),
    ]


def task_runs_where(body: f.TaskRunsCountBody, dialect: str) -> list[Clause]:
    """Every clause of a task runs filter or count, on ``task_run``."""
    run_clauses = _flow_run_where(body.flows, body.flow_runs, dialect)
    return [
        *task_run_clauses(body.task_runs, dialect, narrowed=bool(run_clauses)),
        *_in_subquery(t.task_run.c.flow_run_id, t.flow_run.c.id, run_clauses),
    ]

"""Deployments: versions by content hash, reads, filters, settings, pause, deletion.

A deployment is stored once per VERSION (a ``deployment`` row). Registering
the same content again (same flow, name and ``version_hash``) changes
nothing; new content becomes a new row and the current one is archived: it
stays readable with its runs, gets no new runs, its schedules stop, and its
auto-scheduled runs that have not started go (the ones not yet due are
deleted, the ones already due are Cancelled with the reason). Registering
the content of an archived version makes that version current again.

Creation is serialized per flow (the flow row is locked on PostgreSQL; a
SQLite write holds the file lock), so two processes deploying at once
cannot both become current.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections import defaultdict
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from headwater.server.database import tables as t
from headwater.server.schemas import deployments as d
from headwater.server.schemas import filters as f
from headwater.server.services.filters import deployment_clauses, flow_clauses
from headwater.server.services.flows_and_runs import UnknownReferenceError
from headwater.server.services.parameter_schema import (
    ParameterError,
    check_parameters,
    missing_required,
)
from headwater.server.services.projects import ensure_project
from headwater.server.services.run_moves import lock_rows, move_runs

__all__ = [
    "ArchivedVersionError",
    "Outcome",
    "check_schedulable",
    "content_hash",
    "count_deployments",
    "create_deployment",
    "delete_deployment",
    "filter_deployments",
    "read_deployment",
    "read_deployment_by_name",
    "read_versions",
    "remove_scheduled_runs",
    "set_paused",
    "update_deployment",
]

Row = dict[str, Any]
#: What a registration did: a new version, nothing (same content), or an old version back.
Outcome = Literal["created", "unchanged", "restored"]

_D = t.deployment.c
#: Fields that are not the version's content: the liveness switches hold for
#: every version of a deployment, so changing one makes no new version.
_NOT_CONTENT = frozenset({"version_hash", "paused", *d.SWITCH_DEFAULTS})
#: Content fields added later: left out of the hash while unset, so a
#: registration hashes as it did before they existed.
_LATER_CONTENT = ("job_variables", "pull_steps")
_NULLABLE_SETTINGS = frozenset({"description", "work_pool_name", "work_queue_name",
                                "max_lateness_seconds", "job_variables"})
_SETTINGS = ("description", "tags", "labels", "work_pool_name", "work_queue_name",
             "enforce_parameter_schema", "max_lateness_seconds", "late_runs", "catchup")


class ArchivedVersionError(ValueError):
    """Raised when an archived version is asked to change or run (409, naming the current one)."""


def content_hash(body: d.DeploymentCreate) -> str:
    """The content hash of a registration (every field but ``version_hash``, ``paused``
    and the liveness switches)."""
    unset = {name for name in _LATER_CONTENT if getattr(body, name) is None}
    data = body.model_dump(mode="json", exclude=set(_NOT_CONTENT) | unset)
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def check_schedulable(name: str, schema: dict[str, Any] | None, defaults: dict[str, Any],
                      schedules: list[tuple[bool, dict[str, Any]]],
                      enforce: bool = True) -> None:
    """Refuse a deployment whose active schedules would start runs without required parameters.

    Args:
        name: The deployment's name (for the message).
        schema: Its parameter schema.
        defaults: Its default parameters.
        schedules: ``(active, parameters)`` of each schedule.
        enforce: Check the defaults' types too.

    Raises:
        ParameterError: Naming the missing parameters (or the ill-typed ones) and the fix.
    """
    if enforce:
        for _, params in [(True, {}), *schedules]:
            check_parameters(schema, {**defaults, **params}, complete=False)
    missing: list[str] = []
    for active, params in schedules:
        if active:
            missing += [p for p in missing_required(schema, {**defaults, **params})
                        if p not in missing]
    if missing:
        raise ParameterError(
            f"deployment {name!r} cannot be scheduled: no value for required parameter(s) "
            f"{', '.join(map(repr, missing))}. Give them default values (parameters=...), "
            "or set them in the parameters of every active schedule.")


def _select() -> sa.Select[Any]:
    return (sa.select(t.deployment, t.flow.c.name.label("flow_name"))
            .select_from(t.deployment.join(t.flow, t.flow.c.id == _D.flow_id)))


async def _with_schedules(conn: AsyncConnection, rows: list[Row]) -> list[Row]:
    if not rows:
        return rows
    s = t.deployment_schedule.c
    query = (sa.select(t.deployment_schedule)
             .where(s.deployment_id.in_([r["id"] for r in rows]))
             .order_by(s.created, s.id))
    by_deployment: dict[Any, list[Row]] = defaultdict(list)
    for schedule in (await conn.execute(query)).mappings():
        by_deployment[schedule["deployment_id"]].append(dict(schedule))
    for row in rows:
        row["schedules"] = by_deployment.get(row["id"], [])
        row["is_schedule_active"] = any(s["active"] for s in row["schedules"])
    return rows


async def read_deployment(conn: AsyncConnection, deployment_id: uuid.UUID) -> Row | None:
    """A deployment version with its flow's name and its schedules, or None."""
    row = (await conn.execute(_select().where(_D.id == deployment_id))).mappings().first()
    return None if row is None else (await _with_schedules(conn, [dict(row)]))[0]


async def read_deployment_by_name(conn: AsyncConnection, flow_name: str,
                                  name: str) -> Row | None:
    """The current version of ``flow_name/name``, or None."""
    query = _select().where(t.flow.c.name == flow_name, _D.name == name,
                            _D.archived.is_(sa.false()))
    row = (await conn.execute(query)).mappings().first()
    return None if row is None else (await _with_schedules(conn, [dict(row)]))[0]


async def read_versions(conn: AsyncConnection, flow_name: str, name: str) -> list[Row]:
    """Every version of ``flow_name/name``, newest first."""
    query = (_select().where(t.flow.c.name == flow_name, _D.name == name)
             .order_by(_D.created.desc(), _D.id.desc()))
    rows = [dict(r) for r in (await conn.execute(query)).mappings()]
    return await _with_schedules(conn, rows)


def _where(body: f.DeploymentsCountBody, dialect: str) -> list[sa.ColumnElement[bool]]:
    where = deployment_clauses(body.deployments, dialect, current_only=True)
    by_flow = flow_clauses(body.flows, dialect)
    if by_flow:
        where.append(_D.flow_id.in_(sa.select(t.flow.c.id).where(*by_flow)))
    return where


async def filter_deployments(conn: AsyncConnection, body: f.DeploymentsFilterBody) -> list[Row]:
    """Deployment versions matching a filter body (current ones unless asked), paginated."""
    orders: dict[f.DeploymentSort, list[sa.ColumnElement[Any]]] = {
        f.DeploymentSort.NAME_ASC: [_D.name.asc(), t.flow.c.name.asc(), _D.id],
        f.DeploymentSort.NAME_DESC: [_D.name.desc(), t.flow.c.name.desc(), _D.id],
        f.DeploymentSort.CREATED_DESC: [_D.created.desc(), _D.id],
        f.DeploymentSort.UPDATED_DESC: [_D.updated.desc(), _D.id],
    }
    query = (_select().where(*_where(body, conn.dialect.name)).order_by(*orders[body.sort])
             .limit(body.limit).offset(body.offset))
    rows = [dict(r) for r in (await conn.execute(query)).mappings()]
    return await _with_schedules(conn, rows)


async def count_deployments(conn: AsyncConnection, body: f.DeploymentsCountBody) -> int:
    """How many deployment versions match."""
    query = sa.select(sa.func.count()).select_from(t.deployment).where(
        *_where(body, conn.dialect.name))
    return int((await conn.execute(query)).scalar_one())


async def _lock_flow(conn: AsyncConnection, flow_id: uuid.UUID) -> bool:
    query = sa.select(t.flow.c.id).where(t.flow.c.id == flow_id)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return (await conn.execute(query)).first() is not None


def _schedule_rows(deployment_id: uuid.UUID, schedules: list[d.DeploymentScheduleCreate],
                   now: dt.datetime) -> list[Row]:
    return [{"id": uuid.uuid4(), "created": now, "updated": now, "deployment_id": deployment_id,
             "schedule": s.schedule, "active": s.active, "parameters": s.parameters,
             "slug": s.slug} for s in schedules]


def _version_values(body: d.DeploymentCreate, version_hash: str) -> Row:
    values = {name: getattr(body, name) for name in _SETTINGS}
    code = None if body.code_location is None else body.code_location.model_dump(
        exclude_none=True)
    return {**values, "project": body.project, "version": body.version or version_hash[:12],
            "paused": body.paused, "parameters": body.parameters,
            "parameter_openapi_schema": body.parameter_openapi_schema,
            "entrypoint": body.entrypoint, "code_location": code,
            "job_variables": body.job_variables, "pull_steps": body.pull_steps}


def _switches(body: d.DeploymentCreate | d.DeploymentUpdate) -> Row:
    """The switches the body sets (None: unchanged)."""
    return {name: getattr(body, name) for name in d.SWITCH_DEFAULTS
            if getattr(body, name) is not None}


async def _set_switches(conn: AsyncConnection, flow_id: uuid.UUID, name: str, switches: Row,
                        now: dt.datetime) -> None:
    """Set liveness switches on every version of ``flow_id``/``name``: they are the
    deployment's, whichever version a run was created with (Lazarus reads them)."""
    if switches:
        await conn.execute(sa.update(t.deployment).where(
            _D.flow_id == flow_id, _D.name == name).values(updated=now, **switches))


async def create_deployment(conn: AsyncConnection, body: d.DeploymentCreate,
                            now: dt.datetime) -> tuple[Row, Outcome]:
    """Register a version of a deployment (see the module docstring).

    Raises:
        UnknownReferenceError: The flow does not exist.
        ParameterError: Defaults of the wrong type, or active schedules
            missing required parameters.
    """
    if not await _lock_flow(conn, body.flow_id):
        raise UnknownReferenceError(f"Flow {body.flow_id} not found.")
    check_schedulable(body.name, body.parameter_openapi_schema, body.parameters,
                      [(s.active, s.parameters) for s in body.schedules],
                      body.enforce_parameter_schema)
    await ensure_project(conn, body.project, None, now)
    version_hash = body.version_hash or content_hash(body)
    same_name = (_D.flow_id == body.flow_id, _D.name == body.name)
    rows = (await conn.execute(sa.select(t.deployment).where(
        *same_name, sa.or_(_D.version_hash == version_hash, _D.archived.is_(sa.false())))
    )).mappings().all()
    same = next((dict(r) for r in rows if r["version_hash"] == version_hash), None)
    current = next((dict(r) for r in rows if not r["archived"]), None)
    switches = _switches(body)
    if same is not None and not same["archived"]:
        if any(same[k] != v for k, v in switches.items()):
            await _set_switches(conn, body.flow_id, body.name, switches, now)
        found = await read_deployment(conn, same["id"])
        assert found is not None
        return found, "unchanged"
    # A new version keeps the deployment's switches unless the body sets them.
    base = current or same
    inherited = {k: base[k] if base is not None else default
                 for k, default in d.SWITCH_DEFAULTS.items()}
    values = {**_version_values(body, version_hash), **inherited, **switches}
    if current is not None:
        await _archive(conn, current, now, values["version"])
    if same is not None:
        deployment_id, outcome = same["id"], "restored"
        await conn.execute(sa.update(t.deployment).where(_D.id == deployment_id).values(
            archived=False, updated=now, last_scheduled_time=None, **values))
        await conn.execute(sa.delete(t.deployment_schedule).where(
            t.deployment_schedule.c.deployment_id == deployment_id))
    else:
        deployment_id, outcome = uuid.uuid4(), "created"
        await conn.execute(sa.insert(t.deployment).values(
            id=deployment_id, created=now, updated=now, flow_id=body.flow_id, name=body.name,
            version_hash=version_hash, archived=False, **values))
    if body.schedules:
        await conn.execute(sa.insert(t.deployment_schedule),
                           _schedule_rows(deployment_id, body.schedules, now))
    await _set_switches(conn, body.flow_id, body.name, switches, now)
    found = await read_deployment(conn, deployment_id)
    assert found is not None
    return found, outcome  # type: ignore[return-value]


async def _archive(conn: AsyncConnection, row: Row, now: dt.datetime, successor: str) -> None:
    await conn.execute(sa.update(t.deployment).where(_D.id == row["id"])
                       .values(archived=True, updated=now))
    await conn.execute(sa.update(t.deployment_schedule)
                       .where(t.deployment_schedule.c.deployment_id == row["id"])
                       .values(active=False, updated=now))
    await remove_scheduled_runs(
        conn, row["id"], now,
        f"Version {row['version']!r} of deployment {row['name']!r} was replaced by version "
        f"{successor!r}; its scheduled runs do not start.")


async def remove_scheduled_runs(conn: AsyncConnection, deployment_id: uuid.UUID,
                                now: dt.datetime, message: str, *,
                                schedule_id: uuid.UUID | None = None) -> tuple[int, int]:
    """Take away a version's auto-scheduled runs that have not started.

    Those not due yet are deleted (they never were anyone's business); those
    already due (Scheduled or Late) are Cancelled with ``message``, so whoever
    waited for them sees why they did not run. Ad-hoc runs are left alone.

    Returns:
        (deleted, cancelled).
    """
    r = t.flow_run.c
    mine = [r.deployment_id == deployment_id, r.auto_scheduled.is_(sa.true()),
            r.state_type == "SCHEDULED", r.run_count == 0]
    if schedule_id is not None:
        mine.append(r.schedule_id == schedule_id)
    deleted = await conn.execute(sa.delete(t.flow_run).where(*mine, r.expected_start_time > now))
    due = (await conn.execute(lock_rows(sa.select(r.id).where(*mine),
                                        conn.dialect.name))).scalars().all()
    cancelled = await move_runs(conn, due, type_="CANCELLED", name="Cancelled",
                                message=message, now=now)
    return int(deleted.rowcount), cancelled


async def _current_or_raise(conn: AsyncConnection, deployment_id: uuid.UUID) -> Row | None:
    row = await read_deployment(conn, deployment_id)
    if row is not None and row["archived"]:
        raise ArchivedVersionError(await archived_message(conn, row))
    return row


async def archived_message(conn: AsyncConnection, row: Row) -> str:
    """Why an archived version cannot be used, naming the current version."""
    current = (await conn.execute(sa.select(_D.id, _D.version).where(
        _D.flow_id == row["flow_id"], _D.name == row["name"], _D.archived.is_(sa.false()))
    )).first()
    now_is = ("no version is current" if current is None
              else f"the current version is {current.version!r} (id {current.id})")
    return (f"Version {row['version']!r} of deployment {row['flow_name']}/{row['name']} is "
            f"archived: {now_is}.")


async def update_deployment(conn: AsyncConnection, deployment_id: uuid.UUID,
                            body: d.DeploymentUpdate, now: dt.datetime) -> Row | None:
    """Change settings of the current version in place; None if it does not exist.

    Raises:
        ArchivedVersionError: The version is archived.
        ParameterError: New defaults that leave active schedules without required parameters.
    """
    row = await _current_or_raise(conn, deployment_id)
    if row is None:
        return None
    # null clears a nullable setting (description, max_lateness_seconds...); for
    # the others it means "unchanged".
    changes: dict[str, Any] = {k: v for k, v in body.model_dump(exclude_unset=True).items()
                               if (v is not None or k in _NULLABLE_SETTINGS)
                               and k not in d.SWITCH_DEFAULTS}
    await _set_switches(conn, row["flow_id"], row["name"], _switches(body), now)
    if "parameters" in changes or "enforce_parameter_schema" in changes:
        now_set = {**row, **changes}
        defaults: dict[str, Any] = now_set["parameters"]
        enforce: bool = now_set["enforce_parameter_schema"]
        check_schedulable(row["name"], row["parameter_openapi_schema"], defaults,
                          [(s["active"], s["parameters"]) for s in row["schedules"]], enforce)
    values = dict(changes)
    if changes.get("paused") and not row["paused"]:
        await remove_scheduled_runs(conn, deployment_id, now,
                                    f"Deployment {row['name']!r} was paused.")
        # The slots it had planned are free again: on resume, plan from then.
        values["last_scheduled_time"] = None
    if values:
        await conn.execute(sa.update(t.deployment).where(_D.id == deployment_id)
                           .values(updated=now, **values))
    return await read_deployment(conn, deployment_id)


async def set_paused(conn: AsyncConnection, deployment_id: uuid.UUID, paused: bool,
                     now: dt.datetime) -> Row | None:
    """Pause (its runs not yet started go) or resume the current version."""
    return await update_deployment(conn, deployment_id, d.DeploymentUpdate(paused=paused), now)


async def delete_deployment(conn: AsyncConnection, deployment_id: uuid.UUID,
                            now: dt.datetime) -> bool:
    """Delete a version and its schedules; its runs stay, minus auto-scheduled ones not started."""
    row = await read_deployment(conn, deployment_id)
    if row is None:
        return False
    await remove_scheduled_runs(conn, deployment_id, now,
                                f"Deployment {row['name']!r} was deleted.")
    await conn.execute(sa.delete(t.deployment).where(_D.id == deployment_id))
    return True

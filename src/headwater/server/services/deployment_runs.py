"""Flow runs created from a deployment version (``POST /deployments/{id}/create_flow_run``)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from headwater.server.schemas import actions as a
from headwater.server.schemas import deployments as d
from headwater.server.schemas.core import StateType
from headwater.server.services import flows_and_runs
from headwater.server.services.deployments import (
    ArchivedVersionError,
    archived_message,
    read_deployment,
)
from headwater.server.services.parameter_schema import ParameterError, check_parameters

__all__ = ["create_run_from_deployment", "merged_tags", "scheduled_state"]

Row = dict[str, Any]


def merged_tags(*groups: list[str]) -> list[str]:
    """The tags of all groups, each once, in order."""
    return list(dict.fromkeys(tag for group in groups for tag in group))


def scheduled_state(when: dt.datetime) -> a.StateCreate:
    """A Scheduled state for ``when`` (Prefect 2 keeps it in ``state_details.scheduled_time``)."""
    return a.StateCreate(type=StateType.SCHEDULED, name="Scheduled",
                         state_details={"scheduled_time": when.isoformat()})


def _start_time(state: a.StateCreate, now: dt.datetime) -> dt.datetime:
    when = state.state_details.get("scheduled_time")
    if isinstance(when, str):
        try:
            parsed = dt.datetime.fromisoformat(when)
        except ValueError:
            raise ParameterError(f"state_details.scheduled_time {when!r} is not an ISO 8601 "
                                 "time") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)
    return now


async def create_run_from_deployment(conn: AsyncConnection, deployment_id: uuid.UUID,
                                     body: d.DeploymentFlowRunCreate,
                                     now: dt.datetime) -> tuple[Row, bool] | None:
    """Create a run of a deployment version; None if there is no such version.

    Parameters are the version's defaults with the body's over them, checked
    against its schema (unless ``enforce_parameter_schema`` is off). The run
    starts Scheduled for now unless the body gives a state; an idempotency
    key that the flow has seen returns that run instead (the bool is False).

    Raises:
        ArchivedVersionError: The version is archived (the message names the current one).
        ParameterError: A missing or ill-typed parameter (named).
    """
    row = await read_deployment(conn, deployment_id)
    if row is None:
        return None
    if row["archived"]:
        raise ArchivedVersionError(await archived_message(conn, row))
    parameters = {**row["parameters"], **body.parameters}
    enforce = (row["enforce_parameter_schema"] if body.enforce_parameter_schema is None
               else body.enforce_parameter_schema)
    if enforce:
        check_parameters(row["parameter_openapi_schema"], parameters, complete=True)
    state = body.state or scheduled_state(now)
    create = a.FlowRunCreate(
        flow_id=row["flow_id"], name=body.name, parameters=parameters,
        tags=merged_tags(row["tags"], body.tags), idempotency_key=body.idempotency_key,
        parent_task_run_id=body.parent_task_run_id, state=state,
        expected_start_time=_start_time(state, now))
    extra = {"deployment_id": row["id"], "deployment_version": row["version"],
             "auto_scheduled": False,
             "work_queue_name": body.work_queue_name or row["work_queue_name"],
             "work_pool_name": row["work_pool_name"],
             "labels": body.labels if body.labels is not None else row["labels"]}
    return await flows_and_runs.create_flow_run(conn, create, extra)

"""The deployment, schedule and project methods of :class:`~headwater.client.HeadwaterClient`.

A mixin, so that ``_client.py`` keeps the transport and the run methods;
every method here is one request through ``request``/``send``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from headwater._private.labels import as_labels
from headwater.client._requester import Requester

__all__ = ["DeploymentsMixin", "split_deployment_name"]

Id = uuid.UUID | str


def split_deployment_name(name: str) -> tuple[str, str]:
    """``"flow/deployment"`` as ``(flow, deployment)``.

    Raises:
        InvalidNameError: ``name`` is not of that form (the message shows it).
    """
    from headwater.exceptions import InvalidNameError

    flow, sep, deployment = name.partition("/")
    if not sep or not flow or not deployment or "/" in deployment:
        raise InvalidNameError(f"{name!r} is not a deployment name: write it as "
                         "'FLOW_NAME/DEPLOYMENT_NAME' (e.g. 'etl/nightly').")
    return flow, deployment


def _schedule_json(schedule: Any) -> dict[str, Any]:
    """A schedule to send: a dict as it is, a ``DeploymentScheduleCreate`` or a bare schedule."""
    if isinstance(schedule, Mapping):
        return dict(schedule)
    from headwater.schedules import schedule_to_json

    inner = getattr(schedule, "schedule", None)
    if inner is None:  # a bare CronSchedule, IntervalSchedule or RRuleSchedule
        return {"schedule": schedule_to_json(schedule)}
    body: dict[str, Any] = {"schedule": schedule_to_json(inner),
                            "active": getattr(schedule, "active", True),
                            "parameters": dict(getattr(schedule, "parameters", None) or {})}
    if getattr(schedule, "slug", None) is not None:
        body["slug"] = schedule.slug
    return body


class DeploymentsMixin(Requester):
    """Deployments (one row per version), their schedules, projects and the scheduler."""

    async def create_deployment(self, **fields: Any) -> tuple[dict[str, Any], bool]:
        """``POST /deployments/``: register a deployment version (an upsert).

        Args:
            **fields: ``DeploymentCreate``'s fields (``name``, ``flow_id``,
                ``parameters``, ``schedules`` as dicts or schedule objects...).

        Returns:
            The version, and whether it is new (False: the same content was
            registered before, or an archived version became current again).

        Raises:
            APIError: 422 for a bad field or a parameter problem (named).
        """
        body = dict(fields)
        if "schedules" in body:
            body["schedules"] = [_schedule_json(s) for s in body["schedules"]]
        if body.get("labels") is not None:
            body["labels"] = as_labels(body["labels"])  # one string alone: a TypeError
        response = await self.send("POST", "deployments/", json=_jsonable(body))
        return dict(response.json()), response.status_code == 201

    async def read_deployment(self, deployment_id: Id) -> dict[str, Any]:
        """``GET /deployments/{id}``: a version, archived or not."""
        return dict(await self.request("GET", f"deployments/{deployment_id}"))

    async def read_deployment_by_name(self, name: str) -> dict[str, Any]:
        """``GET /deployments/name/{flow}/{deployment}``: the current version of a deployment.

        Args:
            name: ``"flow/deployment"``.
        """
        flow, deployment = split_deployment_name(name)
        return dict(await self.request("GET", f"deployments/name/{flow}/{deployment}"))

    async def read_deployment_versions(self, name: str) -> list[dict[str, Any]]:
        """Every version of ``"flow/deployment"``, newest first."""
        flow, deployment = split_deployment_name(name)
        return list(await self.request("GET", f"deployments/name/{flow}/{deployment}/versions"))

    async def read_deployments(self, *, flow_name: str | None = None, name: str | None = None,
                               project: str | None = None, tags: Iterable[str] | None = None,
                               archived: bool | None = False, paused: bool | None = None,
                               limit: int = 200, offset: int = 0,
                               sort: str = "NAME_ASC") -> list[dict[str, Any]]:
        """``POST /deployments/filter``: current versions by default (``archived=None``: all)."""
        deployments: dict[str, Any] = {"archived": {"eq_": archived}}
        if name is not None:
            deployments["name"] = {"any_": [name]}
        if project is not None:
            deployments["project"] = {"any_": [project]}
        if tags is not None:
            deployments["tags"] = {"all_": list(tags)}
        if paused is not None:
            deployments["paused"] = {"eq_": paused}
        body: dict[str, Any] = {"deployments": deployments, "limit": limit, "offset": offset,
                                "sort": sort}
        if flow_name is not None:
            body["flows"] = {"name": {"any_": [flow_name]}}
        return list(await self.request("POST", "deployments/filter", json=body))

    async def update_deployment(self, deployment_id: Id, **fields: Any) -> None:
        """``PATCH /deployments/{id}``: change settings of the current version in place."""
        await self.request("PATCH", f"deployments/{deployment_id}", json=_jsonable(fields))

    async def delete_deployment(self, deployment_id: Id) -> None:
        """``DELETE /deployments/{id}``: a version and its schedules (its runs stay)."""
        await self.request("DELETE", f"deployments/{deployment_id}")

    async def pause_deployment(self, deployment_id: Id) -> dict[str, Any]:
        """``POST /deployments/{id}/pause_deployment``."""
        return dict(await self.request("POST", f"deployments/{deployment_id}/pause_deployment"))

    async def resume_deployment(self, deployment_id: Id) -> dict[str, Any]:
        """``POST /deployments/{id}/resume_deployment``."""
        return dict(await self.request("POST", f"deployments/{deployment_id}/resume_deployment"))

    async def create_flow_run_from_deployment(
            self, deployment_id: Id, *, parameters: Mapping[str, Any] | None = None,
            idempotency_key: str | None = None, name: str | None = None,
            tags: Iterable[str] | None = None, state: Mapping[str, Any] | None = None,
            parent_task_run_id: Id | None = None, work_queue_name: str | None = None,
            labels: Iterable[str] | None = None,
            enforce_parameter_schema: bool | None = None) -> dict[str, Any]:
        """``POST /deployments/{id}/create_flow_run``: a run of this version.

        Parameters are merged over the version's defaults and checked
        against its schema by the server. The run starts Scheduled for now
        unless ``state`` says otherwise (``{"type": "SCHEDULED",
        "state_details": {"scheduled_time": ...}}`` for later).

        Raises:
            APIError: 409 for an archived version (the message names the
                current one), 422 naming a missing or ill-typed parameter.
        """
        body: dict[str, Any] = {"parameters": dict(parameters or {})}
        optional = {"idempotency_key": idempotency_key, "name": name, "state": state,
                    "parent_task_run_id": parent_task_run_id,
                    "work_queue_name": work_queue_name,
                    "enforce_parameter_schema": enforce_parameter_schema}
        body.update({k: v for k, v in optional.items() if v is not None})
        if tags is not None:
            body["tags"] = list(tags)
        if labels is not None:
            body["labels"] = as_labels(labels)  # one string alone: a TypeError
        return dict(await self.request("POST", f"deployments/{deployment_id}/create_flow_run",
                                       json=_jsonable(body)))

    async def claim_run_lock(self, run_id: Id, kind: str, *, host: str, pid: int,
                             process_start: str | None) -> dict[str, Any]:
        """``POST /run_locks/``: take the version lock of a flow run or task run.

        Returns:
            ``claimed`` (bool); when refused, the run's ``state_type`` and
            ``state_name`` and its holder's ``host``, ``pid``, ``process_start``.
        """
        body = {"run_id": str(run_id), "kind": kind, "host": host, "pid": pid,
                "process_start": process_start}
        return dict(await self.request("POST", "run_locks/", json=body))

    async def read_deployment_schedules(self, deployment_id: Id) -> list[dict[str, Any]]:
        """``GET /deployments/{id}/schedules``."""
        return list(await self.request("GET", f"deployments/{deployment_id}/schedules"))

    async def create_deployment_schedules(self, deployment_id: Id,
                                          schedules: Iterable[Any]) -> list[dict[str, Any]]:
        """``POST /deployments/{id}/schedules``: add schedules (dicts or schedule objects)."""
        body = [_schedule_json(s) for s in schedules]
        return list(await self.request("POST", f"deployments/{deployment_id}/schedules",
                                       json=_jsonable(body)))

    async def update_deployment_schedule(self, deployment_id: Id, schedule_id: Id,
                                         **fields: Any) -> None:
        """``PATCH /deployments/{id}/schedules/{schedule_id}`` (``active=False`` pauses it)."""
        if "schedule" in fields and not isinstance(fields["schedule"], Mapping):
            fields["schedule"] = _schedule_json(fields["schedule"])["schedule"]
        await self.request("PATCH", f"deployments/{deployment_id}/schedules/{schedule_id}",
                           json=_jsonable(fields))

    async def delete_deployment_schedule(self, deployment_id: Id, schedule_id: Id) -> None:
        """``DELETE /deployments/{id}/schedules/{schedule_id}``."""
        await self.request("DELETE", f"deployments/{deployment_id}/schedules/{schedule_id}")

    async def schedule_deployments(self, deployment_ids: Iterable[Id] | None = None,
                                   ) -> dict[str, Any]:
        """``POST /deployments/schedule``: one scheduler loop for these versions (None: all)."""
        body = None if deployment_ids is None else {
            "deployment_ids": [str(i) for i in deployment_ids]}
        return dict(await self.request("POST", "deployments/schedule", json=body))

    async def read_deployment_flow_runs(self, name: str, *, state_type: str | None = None,
                                        limit: int = 200, offset: int = 0,
                                        sort: str = "EXPECTED_START_TIME_DESC",
                                        ) -> list[dict[str, Any]]:
        """``POST /flow_runs/filter``: runs of every version of ``"flow/deployment"``."""
        flow, deployment = split_deployment_name(name)
        body: dict[str, Any] = {
            "flows": {"name": {"any_": [flow]}},
            "deployments": {"name": {"any_": [deployment]}},
            "limit": limit, "offset": offset, "sort": sort}
        if state_type is not None:
            body["flow_runs"] = {"state": {"type": {"any_": [state_type.upper()]}}}
        return list(await self.request("POST", "flow_runs/filter", json=body))

    async def read_projects(self, *, limit: int = 200, offset: int = 0) -> list[dict[str, Any]]:
        """``GET /projects/``: projects by name."""
        return list(await self.request("GET", "projects/",
                                       params={"limit": limit, "offset": offset}))

    async def create_project(self, name: str, description: str | None = None,
                             ) -> dict[str, Any]:
        """``POST /projects/``: create a project (or get the one with this name)."""
        return dict(await self.request("POST", "projects/",
                                       json={"name": name, "description": description}))


def _jsonable(value: Any) -> Any:
    """``value`` with UUIDs and datetimes as text, ready for ``json=``."""
    import pydantic_core

    return pydantic_core.to_jsonable_python(value)

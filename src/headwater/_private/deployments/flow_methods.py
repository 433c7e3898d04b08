"""The cores of ``Flow.to_deployment`` and ``Flow.deploy`` (the methods are thin)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from headwater._private.deployments.runner_deployment import (
    DeploymentError,
    RunnerDeployment,
    build_schedules,
    deployment_from_flow,
    register_sync,
)

if TYPE_CHECKING:
    from headwater._private.options import FlowDefinition

__all__ = ["deploy", "describe_registration", "to_deployment"]


def _refuse(option: str, value: Any, why: str) -> None:
    if value:
        raise DeploymentError(f"{option}= is not supported: {why}. Leave it out.")


def to_deployment(flow: FlowDefinition, name: str, *, interval: Any = None, cron: Any = None,
                  rrule: Any = None, paused: bool | None = None,
                  schedules: list[Any] | None = None, schedule: Any = None,
                  is_schedule_active: bool | None = None,
                  parameters: dict[str, Any] | None = None, triggers: Any = None,
                  description: str | None = None, tags: list[str] | None = None,
                  version: str | None = None, enforce_parameter_schema: bool = True,
                  work_pool_name: str | None = None, work_queue_name: str | None = None,
                  job_variables: Any = None, timezone: str | None = None,
                  anchor_date: Any = None, labels: list[str] | None = None,
                  project: str | None = None, entrypoint: str | None = None,
                  code_location: dict[str, Any] | None = None,
                  max_lateness_seconds: float | None = None, late_runs: str | None = None,
                  catchup: bool | None = None, heartbeat: bool | None = None,
                  lazarus: bool | None = None,
                  version_lock: bool | None = None) -> RunnerDeployment:
    """``Flow.to_deployment``: see there."""
    _refuse("triggers", triggers, "headwater has no event triggers")
    _refuse("job_variables", job_variables, "work pools take no job variables yet")
    every = list(schedules or [])
    if schedule is not None:
        every.append(schedule)
    built = build_schedules(cron=cron, interval=interval, rrule=rrule, timezone=timezone,
                            anchor_date=anchor_date, schedules=every)
    if paused is None:
        paused = is_schedule_active is False
    return deployment_from_flow(
        flow, name, version=version, parameters=parameters, schedules=built,
        entrypoint=entrypoint, code_location=code_location, paused=paused,
        description=description, tags=list(tags or []), labels=list(labels or []),
        project=project, work_pool_name=work_pool_name, work_queue_name=work_queue_name,
        enforce_parameter_schema=enforce_parameter_schema,
        max_lateness_seconds=max_lateness_seconds, late_runs=late_runs, catchup=catchup,
        # The liveness switches: the flow's options when not given here.
        heartbeat=heartbeat if heartbeat is not None else flow.options.heartbeat,
        lazarus=lazarus,
        version_lock=version_lock if version_lock is not None else flow.options.version_lock)


def describe_registration(deployment: RunnerDeployment, row: dict[str, Any],
                          created: bool) -> str:
    """The line ``deploy`` prints: registered, or unchanged."""
    version = row.get("version") or deployment.version
    if not created:
        return (f"unchanged: version {version} already registered for deployment "
                f"{deployment.full_name!r}")
    return f"registered deployment {deployment.full_name!r} version {version}"


def deploy(flow: FlowDefinition, name: str, *, work_pool_name: str | None = None,
           image: Any = None, build: bool = True, push: bool = True,
           print_next_steps: bool = True, ignore_warnings: bool = False,
           entrypoint_type: Any = None, **options: Any) -> uuid.UUID:
    """``Flow.deploy``: build the deployment, register it, say what happened; return its id."""
    _refuse("image", image, "headwater runs the code where it is deployed from (a folder or a "
            "git repository), not in images")
    deployment = to_deployment(flow, name, work_pool_name=work_pool_name, **options)
    row, created = register_sync(deployment)
    if print_next_steps:
        print(describe_registration(deployment, row, created))
        if created:
            print(f"Start a run with: headwater deployment run {deployment.full_name!r}")
    return uuid.UUID(str(row["id"]))

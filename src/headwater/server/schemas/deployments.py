"""Deployments, their schedules and projects: request bodies and responses.

Prefect 2's REST field names, plus headwater's: ``project``, ``labels``,
``code_location``, ``version_hash``, ``max_lateness_seconds``,
``late_runs``, ``catchup`` and the liveness switches ``heartbeat``,
``lazarus`` and ``version_lock``. A deployment is stored once per version
(see ``docs/deployments.md``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, ValidationError, field_validator, model_validator

from headwater.server.schemas.actions import ActionModel, StateCreate
from headwater.server.schemas.core import ORMModel
from headwater.server.schemas.labels import Labels
from headwater.server.schemas.text import IndexedStr

__all__ = [
    "CodeLocation",
    "Deployment",
    "DeploymentCreate",
    "DeploymentFlowRunCreate",
    "DeploymentSchedule",
    "DeploymentScheduleCreate",
    "DeploymentScheduleUpdate",
    "DeploymentUpdate",
    "Project",
    "ProjectCreate",
    "SWITCH_DEFAULTS",
    "ScheduleRequest",
    "SchedulerReport",
]

#: Characters a deployment or project name may not hold: ``flow/deployment``
#: names a deployment on the command line and in ``run_deployment``.
_FORBIDDEN = "/%&<>"


def _plain_name(value: str) -> str:
    bad = sorted({c for c in value if c in _FORBIDDEN})
    if bad:
        raise ValueError(f"a name may not contain {' '.join(bad)} (it names the deployment as "
                         "'flow/deployment'); choose another name")
    return value


#: A deployment or project name.
Name = Annotated[IndexedStr, Field(min_length=1), BeforeValidator(_plain_name)]


def check_schedule(value: dict[str, Any]) -> dict[str, Any]:
    """A schedule's stored JSON (Prefect 2's shape), checked; the error names the fix."""
    from headwater.server.services.planning import parse_schedule

    try:
        parse_schedule(value)
    except ValidationError as exc:  # the schedule model's: say what, not pydantic's dump
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'schedule'}: "
                             f"{str(e['msg']).removeprefix('Value error, ')}"
                             for e in exc.errors())
        raise ValueError(f"invalid schedule {value!r}: {problems}") from None
    except (TypeError, ValueError, KeyError) as exc:
        raise ValueError(f"invalid schedule {value!r}: {exc}") from None
    return value


class CodeLocation(ActionModel):
    """Where a version's code is: a local folder, or a git repository at a commit."""

    kind: Literal["local", "git"]
    path: str | None = None
    url: str | None = None
    commit: str | None = None
    subdirectory: str | None = None

    @model_validator(mode="after")
    def _complete(self) -> CodeLocation:
        if self.kind == "local" and not self.path:
            raise ValueError("a local code location needs 'path' (the absolute folder)")
        if self.kind == "git" and not (self.url and self.commit):
            raise ValueError("a git code location needs 'url' and 'commit'")
        return self


class DeploymentScheduleCreate(ActionModel):
    """A schedule of a deployment, with its own parameter defaults."""

    schedule: dict[str, Any]
    active: bool = True
    parameters: dict[str, Any] = Field(default_factory=dict)
    slug: IndexedStr | None = None

    _check = field_validator("schedule")(check_schedule)


class DeploymentScheduleUpdate(ActionModel):
    """Change a schedule: only the fields sent."""

    schedule: dict[str, Any] | None = None
    active: bool | None = None
    parameters: dict[str, Any] | None = None
    slug: IndexedStr | None = None

    @field_validator("schedule")
    @classmethod
    def _check(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        return None if value is None else check_schedule(value)


class _Settings(ActionModel):
    """What a version's owner may change without making a new version."""

    description: str | None = None
    tags: list[IndexedStr] = Field(default_factory=list)
    labels: Labels = Field(default_factory=list)
    work_pool_name: IndexedStr | None = None
    work_queue_name: IndexedStr | None = None
    enforce_parameter_schema: bool = True
    max_lateness_seconds: float | None = Field(default=None, ge=0)
    late_runs: Literal["run", "skip"] = "run"
    catchup: bool = False


class _Switches(ActionModel):
    """The liveness switches (``docs/liveness.md``); None: unchanged (on a new
    deployment: heartbeats on, Lazarus on, version lock off). Not part of the
    content hash: they hold for every version of the deployment."""

    heartbeat: bool | None = Field(
        default=None, description="Its runs send heartbeats (the zombie check judges them).")
    lazarus: bool | None = Field(
        default=None, description="A run of it found crashed is rescheduled (Lazarus).")
    version_lock: bool | None = Field(
        default=None, description="Its runs and their task runs start once and only once.")


#: The switch names, and their values for a new deployment.
SWITCH_DEFAULTS = {"heartbeat": True, "lazarus": True, "version_lock": False}


def _infra_overrides(data: Any) -> Any:
    """Prefect 2's deprecated ``infra_overrides`` is ``job_variables``."""
    if isinstance(data, dict) and "infra_overrides" in data:
        data = dict(data)
        overrides = data.pop("infra_overrides")
        if data.get("job_variables") is None:
            data["job_variables"] = overrides
    return data


class DeploymentCreate(_Settings, _Switches):
    """Register a deployment version (an upsert: see ``POST /deployments/``)."""

    name: Name
    flow_id: uuid.UUID
    project: Name = "default"
    version: IndexedStr | None = None
    version_hash: IndexedStr | None = Field(
        default=None, description="The version's content hash; unset: computed by the server "
        "from the fields of this body.")
    paused: bool = False
    parameters: dict[str, Any] = Field(default_factory=dict)
    parameter_openapi_schema: dict[str, Any] | None = None
    entrypoint: str | None = None
    code_location: CodeLocation | None = None
    schedules: list[DeploymentScheduleCreate] = Field(default_factory=list)
    job_variables: dict[str, Any] | None = Field(
        default=None, description="Prefect 2's field: stored and returned as sent.")
    pull_steps: list[dict[str, Any]] | None = Field(
        default=None, description="Prefect 2's field: stored and returned as sent; the "
        "code is found through code_location (see docs/migration.md).")

    _infra = model_validator(mode="before")(_infra_overrides)


class DeploymentUpdate(_Switches):
    """``PATCH /deployments/{id}``: change settings of a version in place (the fields sent).

    The liveness switches change on every version of the deployment.
    """

    description: str | None = None
    paused: bool | None = None
    tags: list[IndexedStr] | None = None
    labels: Labels | None = None
    parameters: dict[str, Any] | None = None
    work_pool_name: IndexedStr | None = None
    work_queue_name: IndexedStr | None = None
    enforce_parameter_schema: bool | None = None
    max_lateness_seconds: float | None = Field(default=None, ge=0)
    late_runs: Literal["run", "skip"] | None = None
    catchup: bool | None = None
    job_variables: dict[str, Any] | None = None

    _infra = model_validator(mode="before")(_infra_overrides)


class DeploymentFlowRunCreate(ActionModel):
    """``POST /deployments/{id}/create_flow_run``: a run of this version."""

    parameters: dict[str, Any] = Field(default_factory=dict)
    name: IndexedStr | None = None
    tags: list[IndexedStr] = Field(default_factory=list)
    idempotency_key: IndexedStr | None = None
    state: StateCreate | None = None
    parent_task_run_id: uuid.UUID | None = None
    work_queue_name: IndexedStr | None = None
    labels: Labels | None = None
    enforce_parameter_schema: bool | None = None


class ProjectCreate(ActionModel):
    """Create a project (a group of deployments)."""

    name: Name
    description: str | None = None


class ScheduleRequest(ActionModel):
    """``POST /deployments/schedule``: run one scheduler loop, for these deployments only."""

    deployment_ids: list[uuid.UUID] | None = None


class DeploymentSchedule(ORMModel):
    """A schedule as the API returns it."""

    id: uuid.UUID
    created: dt.datetime
    updated: dt.datetime
    deployment_id: uuid.UUID
    schedule: dict[str, Any]
    active: bool
    parameters: dict[str, Any] = Field(default_factory=dict)
    slug: str | None = None


class Deployment(ORMModel):
    """A deployment version as the API returns it."""

    id: uuid.UUID
    created: dt.datetime
    updated: dt.datetime
    name: str
    flow_id: uuid.UUID
    flow_name: str | None = None
    project: str
    version: str | None = None
    version_hash: str
    archived: bool
    paused: bool
    description: str | None = None
    tags: list[str] = Field(default_factory=list)
    labels: list[str] = Field(default_factory=list)
    parameters: dict[str, Any] = Field(default_factory=dict)
    parameter_openapi_schema: dict[str, Any] | None = None
    entrypoint: str | None = None
    code_location: dict[str, Any] | None = None
    work_pool_name: str | None = None
    work_queue_name: str | None = None
    enforce_parameter_schema: bool = True
    max_lateness_seconds: float | None = None
    late_runs: str = "run"
    catchup: bool = False
    last_scheduled_time: dt.datetime | None = None
    heartbeat: bool = True
    lazarus: bool = True
    version_lock: bool = False
    job_variables: dict[str, Any] | None = None
    pull_steps: list[dict[str, Any]] | None = None
    schedules: list[DeploymentSchedule] = Field(default_factory=list)
    is_schedule_active: bool = Field(
        default=False, description="Whether any schedule is active (Prefect 2's field).")


class Project(ORMModel):
    """A project."""

    id: uuid.UUID
    created: dt.datetime
    updated: dt.datetime
    name: str
    description: str | None = None


class SchedulerReport(ORMModel):
    """What one scheduler loop did."""

    deployments: int = Field(description="Deployments whose schedules were planned.")
    runs_created: int
    runs_marked_late: int
    runs_skipped: int = Field(description="Late runs cancelled by the lateness policy.")
    more: bool = Field(description="A slice was full: more work waits for the next loop.")

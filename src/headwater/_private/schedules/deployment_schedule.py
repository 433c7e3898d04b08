"""`DeploymentScheduleCreate`: one schedule of a deployment, with its own defaults."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from headwater._private.schedules.building import TAGGED_SCHEDULE


class DeploymentScheduleCreate(BaseModel):
    """A schedule to attach to a deployment.

    Args:
        schedule: When to run: an `IntervalSchedule`, `CronSchedule` or
            `RRuleSchedule` (or its JSON form).
        active: Inactive schedules create no runs (``headwater deployment
            schedule pause``).
        parameters: Parameter defaults of the runs this schedule creates, over
            the deployment's own (Prefect 1's clock ``parameter_defaults``).
        slug: An optional name, unique within the deployment.

    Example:
        >>> from headwater.client.schemas.actions import DeploymentScheduleCreate
        >>> from headwater.schedules import CronSchedule
        >>> nightly = DeploymentScheduleCreate(
        ...     schedule=CronSchedule(cron="0 2 * * *", timezone="Europe/London"),
        ...     parameters={"full": True})
    """

    model_config = ConfigDict(extra="forbid")

    schedule: TAGGED_SCHEDULE = Field(description="The schedule for the deployment.")
    active: bool = Field(default=True, description="Whether or not the schedule is active.")
    parameters: dict[str, Any] = Field(
        default_factory=dict,
        description="Parameter defaults of this schedule's runs, over the deployment's.",
    )
    slug: str | None = Field(default=None, description="A name unique within the deployment.")

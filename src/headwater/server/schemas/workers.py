"""Work pools, work queues and workers, as the API takes and returns them (Prefect 2's shape)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from pydantic import Field

from headwater.server.schemas.actions import MAX_INT, ActionModel
from headwater.server.schemas.core import FlowRun, ORMModel
from headwater.server.schemas.labels import Labels
from headwater.server.schemas.text import IndexedStr

__all__ = [
    "GetScheduledFlowRuns",
    "Labels",
    "WorkPool",
    "WorkPoolCreate",
    "WorkPoolUpdate",
    "WorkQueue",
    "WorkQueueCreate",
    "WorkQueueUpdate",
    "Worker",
    "WorkerFlowRunResponse",
    "WorkerHeartbeat",
]


Name = Annotated[IndexedStr, Field(min_length=1, pattern=r"^[^/%&><]+$")]
Limit = Annotated[int, Field(ge=0, le=MAX_INT)]


class WorkPoolCreate(ActionModel):
    """Create a work pool (its ``default`` queue comes with it)."""

    name: Name
    description: str | None = None
    type: str = "process"
    base_job_template: dict[str, Any] = Field(default_factory=dict)
    is_paused: bool = False
    concurrency_limit: Limit | None = None
    require_labels: bool = Field(
        default=False, description="Runs without labels are taken by no worker.")


class WorkPoolUpdate(ActionModel):
    """Change a work pool; fields left out stay as they are."""

    description: str | None = None
    base_job_template: dict[str, Any] | None = None
    is_paused: bool | None = None
    concurrency_limit: Limit | None = None
    require_labels: bool | None = None


class WorkPool(ORMModel):
    """A work pool."""

    id: uuid.UUID
    created: dt.datetime
    updated: dt.datetime
    name: str
    description: str | None = None
    type: str
    base_job_template: dict[str, Any] = Field(default_factory=dict)
    is_paused: bool
    concurrency_limit: int | None = None
    require_labels: bool = False
    default_queue_id: uuid.UUID | None = None
    status: Literal["READY", "NOT_READY", "PAUSED"] | None = None


class WorkQueueCreate(ActionModel):
    """Create a queue in a pool."""

    name: Name
    description: str | None = None
    is_paused: bool = False
    concurrency_limit: Limit | None = None
    priority: int = Field(default=1, ge=1, le=MAX_INT)


class WorkQueueUpdate(ActionModel):
    """Change a queue; fields left out stay as they are."""

    name: Name | None = None
    description: str | None = None
    is_paused: bool | None = None
    concurrency_limit: Limit | None = None
    priority: int | None = Field(default=None, ge=1, le=MAX_INT)


class WorkQueue(ORMModel):
    """A work queue of a pool."""

    id: uuid.UUID
    created: dt.datetime
    updated: dt.datetime
    name: str
    description: str | None = None
    is_paused: bool
    concurrency_limit: int | None = None
    priority: int
    work_pool_id: uuid.UUID
    work_pool_name: str | None = None
    last_polled: dt.datetime | None = None
    status: Literal["READY", "NOT_READY", "PAUSED"] | None = None


class WorkerHeartbeat(ActionModel):
    """A worker says it polls this pool."""

    name: Name
    heartbeat_interval_seconds: float | None = Field(default=None, gt=0, le=86_400)
    labels: Labels = Field(default_factory=list)
    host: str | None = Field(default=None, max_length=255)


class Worker(ORMModel):
    """A worker of a pool, as its last heartbeat described it."""

    id: uuid.UUID
    created: dt.datetime
    updated: dt.datetime
    name: str
    work_pool_id: uuid.UUID
    labels: list[str] = Field(default_factory=list)
    host: str | None = None
    heartbeat_interval_seconds: float | None = None
    last_heartbeat_time: dt.datetime
    status: Literal["ONLINE", "OFFLINE"] = "OFFLINE"


class GetScheduledFlowRuns(ActionModel):
    """A worker asks for runs to start; the runs returned are claimed for it (PENDING)."""

    work_queue_names: list[Name] | None = None
    scheduled_before: dt.datetime | None = None
    limit: int | None = Field(default=None, ge=1, le=1000)
    worker_name: Name | None = None
    labels: Labels = Field(default_factory=list)


class WorkerFlowRunResponse(ActionModel):
    """A run claimed by a worker."""

    work_pool_id: uuid.UUID
    work_queue_id: uuid.UUID
    flow_run: FlowRun

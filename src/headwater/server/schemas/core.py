"""Objects as the API returns them (Prefect 2's field names where they exist)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from headwater._private.storage.state_types import TERMINAL_TYPES, StateType

__all__ = [
    "TERMINAL_TYPES",
    "CacheKeyEntry",
    "ConcurrencyLimit",
    "Flow",
    "FlowRun",
    "FlowRunInput",
    "Log",
    "ORMModel",
    "State",
    "StateType",
    "TaskRun",
]


class ORMModel(BaseModel):
    """A response model built from a database row."""

    model_config = ConfigDict(from_attributes=True, extra="ignore")


class State(ORMModel):
    """A state of a flow run or task run."""

    id: uuid.UUID
    type: StateType
    name: str | None = None
    timestamp: dt.datetime
    message: str | None = None
    state_details: dict[str, Any] = Field(default_factory=dict)
    data: Any = None


class CacheKeyEntry(ORMModel):
    """The cache key index's entry for a key: the newest COMPLETED state recorded with it."""

    cache_key: str
    task_run_id: uuid.UUID
    cache_expiration: dt.datetime | None = None
    created: dt.datetime
    updated: dt.datetime
    state: State


class Flow(ORMModel):
    """A flow, known by its name."""

    id: uuid.UUID
    created: dt.datetime
    updated: dt.datetime
    name: str
    tags: list[str] = Field(default_factory=list)


class _Run(ORMModel):
    id: uuid.UUID
    created: dt.datetime
    updated: dt.datetime
    name: str
    tags: list[str] = Field(default_factory=list)
    state_id: uuid.UUID | None = None
    state_type: StateType | None = None
    state_name: str | None = None
    state: State | None = None
    state_version: int = Field(
        default=0, description="Bumped by every state change (optimistic concurrency)."
    )
    run_count: int = 0
    expected_start_time: dt.datetime | None = None
    start_time: dt.datetime | None = None
    end_time: dt.datetime | None = None
    total_run_time: float = Field(default=0.0, description="Seconds spent in RUNNING states.")


def _false_if_none(value: Any) -> Any:
    return False if value is None else value


def _empty_if_none(value: Any) -> Any:
    return [] if value is None else value


class FlowRun(_Run):
    """A flow run."""

    flow_id: uuid.UUID
    flow_version: str | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    idempotency_key: str | None = None
    parent_task_run_id: uuid.UUID | None = None
    parent_flow_run_id: uuid.UUID | None = None
    deployment_id: uuid.UUID | None = None
    deployment_version: str | None = None
    auto_scheduled: Annotated[bool, BeforeValidator(_false_if_none)] = False
    work_queue_name: str | None = None
    work_pool_name: str | None = None
    labels: Annotated[list[str], BeforeValidator(_empty_if_none)] = Field(default_factory=list)
    schedule_id: uuid.UUID | None = None


class TaskRun(_Run):
    """A task run."""

    flow_run_id: uuid.UUID | None = None
    task_key: str
    task_name: str | None = None
    dynamic_key: str
    cache_key: str | None = None
    task_version: str | None = None


class Log(ORMModel):
    """A log line of a run."""

    id: uuid.UUID
    created: dt.datetime
    name: str
    level: int
    message: str
    timestamp: dt.datetime
    flow_run_id: uuid.UUID | None = None
    task_run_id: uuid.UUID | None = None


class ConcurrencyLimit(ORMModel):
    """A tag concurrency limit and the task runs holding its slots."""

    id: uuid.UUID
    created: dt.datetime
    updated: dt.datetime
    tag: str
    concurrency_limit: int
    active_slots: list[uuid.UUID] = Field(default_factory=list)


class FlowRunInput(ORMModel):
    """A key/value input of a flow run (Prefect 2's flow run input store)."""

    id: uuid.UUID
    created: dt.datetime
    updated: dt.datetime
    flow_run_id: uuid.UUID
    key: str
    value: str
    sender: str | None = None

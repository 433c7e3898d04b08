"""Request bodies that create or change objects."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from headwater.server.schemas.core import State, StateType
from headwater.server.schemas.text import IndexedStr
from headwater.server.schemas.times import UtcDatetime

__all__ = [
    "MAX_INT",
    "ActionModel",
    "ConcurrencyLimitCreate",
    "ConcurrencyLimitReset",
    "FlowCreate",
    "FlowRunCreate",
    "LogCreate",
    "OrchestrationResult",
    "SetStateRequest",
    "StateCreate",
    "TaskRunCreate",
]

#: Largest integer a column accepts (32-bit on PostgreSQL).
MAX_INT = 2**31 - 1


class ActionModel(BaseModel):
    """A request body: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class FlowCreate(ActionModel):
    """Create a flow, or get the one with this name."""

    name: IndexedStr = Field(min_length=1)
    tags: list[str] = Field(default_factory=list)


class StateCreate(ActionModel):
    """A state proposed for a run; ``id`` and ``timestamp`` default to new/now."""

    type: StateType
    name: str | None = None
    message: str | None = None
    id: uuid.UUID | None = None
    timestamp: UtcDatetime | None = None
    state_details: dict[str, Any] = Field(default_factory=dict)
    data: Any = None


class FlowRunCreate(ActionModel):
    """Create a flow run (idempotent by ``id`` and by ``flow_id`` + ``idempotency_key``)."""

    flow_id: uuid.UUID
    id: uuid.UUID | None = None
    name: IndexedStr | None = None
    flow_version: str | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)
    idempotency_key: IndexedStr | None = None
    parent_task_run_id: uuid.UUID | None = None
    parent_flow_run_id: uuid.UUID | None = None
    expected_start_time: UtcDatetime | None = None
    state: StateCreate | None = None


class TaskRunCreate(ActionModel):
    """Create a task run (idempotent by ``id`` and by flow run + task_key + dynamic_key)."""

    task_key: IndexedStr
    dynamic_key: IndexedStr
    flow_run_id: uuid.UUID | None = None
    id: uuid.UUID | None = None
    name: str | None = None
    task_name: str | None = None
    cache_key: str | None = None
    task_version: str | None = None
    tags: list[str] = Field(default_factory=list)
    expected_start_time: UtcDatetime | None = None
    state: StateCreate | None = None


class SetStateRequest(ActionModel):
    """Body of ``POST /flow_runs/{id}/set_state`` and ``/task_runs/{id}/set_state``."""

    state: StateCreate
    force: bool = False
    expected_state_version: int | None = Field(
        default=None,
        ge=0,
        le=MAX_INT,
        description="Abort unless the run's state_version still equals this "
        "(optimistic concurrency); unset: no check beyond the transition rules.",
    )


class OrchestrationResult(BaseModel):
    """The answer to a proposed state."""

    status: Literal["ACCEPT", "REJECT", "ABORT", "WAIT"]
    state: State | None = None
    details: dict[str, Any] = Field(default_factory=dict)


class LogCreate(ActionModel):
    """A log line to store; send an ``id`` to make sending it again safe (stored once)."""

    name: str
    level: int = Field(ge=0, le=MAX_INT)
    message: str
    timestamp: UtcDatetime
    flow_run_id: uuid.UUID | None = None
    task_run_id: uuid.UUID | None = None
    id: uuid.UUID | None = None


class ConcurrencyLimitCreate(ActionModel):
    """Create a tag concurrency limit, or change the limit of an existing tag."""

    tag: IndexedStr = Field(min_length=1)
    concurrency_limit: int = Field(ge=0, le=MAX_INT)


class ConcurrencyLimitReset(ActionModel):
    """Body of ``POST /concurrency_limits/tag/{tag}/reset``."""

    slot_override: list[uuid.UUID] | None = None


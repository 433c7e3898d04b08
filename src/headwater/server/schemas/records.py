"""The records batch (``POST /api/records/batch``): what the recorder sends.

TypedDicts, not models: the batch is validated straight from JSON bytes into
plain dicts (``RECORDS_BATCH.validate_json``), which is several times faster
than building model instances for tens of thousands of rows.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, with_config
from typing_extensions import NotRequired, TypedDict

from headwater.server.schemas.actions import MAX_INT

__all__ = [
    "RECORDS_BATCH",
    "FlowRecord",
    "FlowRunRecord",
    "LogRecord",
    "RecordsBatch",
    "RecordsBatchResult",
    "StateRecord",
    "TaskRunRecord",
]

StateTypeName = Literal["SCHEDULED", "PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELLED",
                        "CANCELLING", "CRASHED", "PAUSED"]
_FORBID = ConfigDict(extra="forbid")


@with_config(_FORBID)
class FlowRecord(TypedDict):
    """A flow, by name (created unless it exists)."""

    name: str


@with_config(_FORBID)
class FlowRunRecord(TypedDict):
    """A flow run; its flow is created by name if needed."""

    id: uuid.UUID
    flow_name: str
    name: str
    parameters: NotRequired[dict[str, Any]]
    tags: NotRequired[list[str]]
    parent_flow_run_id: NotRequired[uuid.UUID | None]
    parent_task_run_id: NotRequired[uuid.UUID | None]
    expected_start_time: NotRequired[dt.datetime | None]
    flow_version: NotRequired[str | None]


@with_config(_FORBID)
class TaskRunRecord(TypedDict):
    """A task run."""

    id: uuid.UUID
    flow_run_id: uuid.UUID | None
    task_key: str
    dynamic_key: str
    name: str
    task_name: NotRequired[str | None]
    tags: NotRequired[list[str]]
    expected_start_time: NotRequired[dt.datetime | None]
    cache_key: NotRequired[str | None]
    task_version: NotRequired[str | None]


@with_config(_FORBID)
class StateRecord(TypedDict):
    """A state of a flow run (``run_kind: "flow"``) or a task run (``"task"``)."""

    id: uuid.UUID
    run_id: uuid.UUID
    run_kind: Literal["flow", "task"]
    type: StateTypeName
    timestamp: dt.datetime
    name: NotRequired[str | None]
    message: NotRequired[str | None]
    state_details: NotRequired[dict[str, Any]]
    data: NotRequired[Any]


@with_config(_FORBID)
class LogRecord(TypedDict):
    """A log line; send an ``id`` to make re-sending the batch safe for logs too."""

    name: str
    level: Annotated[int, Field(ge=0, le=MAX_INT)]
    message: str
    timestamp: dt.datetime
    flow_run_id: NotRequired[uuid.UUID | None]
    task_run_id: NotRequired[uuid.UUID | None]
    id: NotRequired[uuid.UUID]


@with_config(_FORBID)
class RecordsBatch(TypedDict, total=False):
    """Everything the recorder has to store, in one request; every list is optional."""

    flows: list[FlowRecord]
    flow_runs: list[FlowRunRecord]
    task_runs: list[TaskRunRecord]
    states: list[StateRecord]
    logs: list[LogRecord]


RECORDS_BATCH: TypeAdapter[RecordsBatch] = TypeAdapter(RecordsBatch)


class RecordsBatchResult(BaseModel):
    """How many rows of each kind the batch stored (records already stored are not counted)."""

    flows: int = 0
    flow_runs: int = 0
    task_runs: int = 0
    states: int = 0
    logs: int = 0

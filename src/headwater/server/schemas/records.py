"""The records batch (``POST /api/records/batch``): what the recorder sends.

TypedDicts, not models: the batch is validated straight from JSON bytes into
plain dicts (``RECORDS_BATCH.validate_json``), which is several times faster
than building model instances for tens of thousands of rows.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass
from itertools import chain
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, with_config
from typing_extensions import NotRequired, TypedDict

from headwater.server.schemas.actions import MAX_INT
from headwater.server.schemas.text import MAX_INDEXED_LENGTH, IndexedStr
from headwater.server.schemas.times import UtcDatetime, to_utc

__all__ = [
    "RECORDS_BATCH",
    "RECORDS_BATCH_BODY",
    "ColumnsError",
    "StateColumns",
    "TaskRunColumns",
    "columns_to_rows",
    "parse_state_columns",
    "parse_task_run_columns",
    "FlowRecord",
    "FlowRunRecord",
    "LivenessRecord",
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

    name: IndexedStr


@with_config(_FORBID)
class FlowRunRecord(TypedDict):
    """A flow run; its flow is created by name if needed."""

    id: uuid.UUID
    flow_name: IndexedStr
    name: IndexedStr
    parameters: NotRequired[dict[str, Any]]
    tags: NotRequired[list[str]]
    parent_flow_run_id: NotRequired[uuid.UUID | None]
    parent_task_run_id: NotRequired[uuid.UUID | None]
    expected_start_time: NotRequired[UtcDatetime | None]
    flow_version: NotRequired[str | None]


@with_config(_FORBID)
class TaskRunRecord(TypedDict):
    """A task run."""

    id: uuid.UUID
    flow_run_id: uuid.UUID | None
    task_key: IndexedStr
    dynamic_key: IndexedStr
    name: str
    task_name: NotRequired[str | None]
    tags: NotRequired[list[str]]
    expected_start_time: NotRequired[UtcDatetime | None]
    cache_key: NotRequired[str | None]
    task_version: NotRequired[str | None]


@with_config(_FORBID)
class StateRecord(TypedDict):
    """A state of a flow run (``run_kind: "flow"``) or a task run (``"task"``)."""

    id: uuid.UUID
    run_id: uuid.UUID
    run_kind: Literal["flow", "task"]
    type: StateTypeName
    timestamp: UtcDatetime
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
    timestamp: UtcDatetime
    flow_run_id: NotRequired[uuid.UUID | None]
    task_run_id: NotRequired[uuid.UUID | None]
    id: NotRequired[uuid.UUID]


@with_config(_FORBID)
class LivenessRecord(TypedDict):
    """A flow run starting: where its process lives (as ``POST /flow_runs/heartbeat`` says).

    Stored as its first heartbeat, stamped with the server's time, in the
    batch's transaction: starting a run costs no request of its own. A run
    already final stores none.
    """

    flow_run_id: uuid.UUID
    host: Annotated[str, Field(min_length=1, max_length=255)]
    pid: Annotated[int, Field(ge=0, le=2**31 - 1)]
    process_start: NotRequired[Annotated[str, Field(max_length=200)] | None]
    heartbeat_interval: Annotated[float, Field(gt=0, le=86_400)]


@with_config(_FORBID)
class RecordsBatch(TypedDict, total=False):
    """Everything the recorder has to store, in one request; every list is optional."""

    flows: list[FlowRecord]
    flow_runs: list[FlowRunRecord]
    task_runs: list[TaskRunRecord]
    states: list[StateRecord]
    logs: list[LogRecord]
    liveness: list[LivenessRecord]


RECORDS_BATCH: TypeAdapter[RecordsBatch] = TypeAdapter(RecordsBatch)


@with_config(_FORBID)
class TaskRunRecordColumns(TypedDict):
    """Task runs as columns: one list per field, all of the same length (``null``: not given)."""

    id: list[uuid.UUID]
    flow_run_id: list[uuid.UUID | None]
    task_key: list[IndexedStr]
    dynamic_key: list[IndexedStr]
    name: list[str]
    task_name: NotRequired[list[str | None]]
    tags: NotRequired[list[list[str] | None]]
    expected_start_time: NotRequired[list[UtcDatetime | None]]
    cache_key: NotRequired[list[str | None]]
    task_version: NotRequired[list[str | None]]


@with_config(_FORBID)
class StateRecordColumns(TypedDict):
    """States as columns: one list per field, all of the same length (``null``: not given)."""

    id: list[uuid.UUID]
    run_id: list[uuid.UUID]
    run_kind: list[Literal["flow", "task"]]
    type: list[StateTypeName]
    timestamp: list[UtcDatetime]
    name: NotRequired[list[str | None]]
    message: NotRequired[list[str | None]]
    state_details: NotRequired[list[dict[str, Any] | None]]
    data: NotRequired[list[Any]]


@with_config(_FORBID)
class RecordsBatchBody(TypedDict, total=False):
    """The request body: ``task_runs`` and ``states`` as rows or as columns."""

    flows: list[FlowRecord]
    flow_runs: list[FlowRunRecord]
    task_runs: list[TaskRunRecord] | TaskRunRecordColumns
    states: list[StateRecord] | StateRecordColumns
    logs: list[LogRecord]
    liveness: list[LivenessRecord]


#: The documented body (both shapes); validation goes through ``RECORDS_BATCH``
#: (rows) or the column parsers below.
RECORDS_BATCH_BODY: TypeAdapter[RecordsBatchBody] = TypeAdapter(RecordsBatchBody)


class RecordsBatchResult(BaseModel):
    """How many rows of each kind the batch stored (records already stored are not counted)."""

    flows: int = 0
    flow_runs: int = 0
    task_runs: int = 0
    states: int = 0
    logs: int = 0


# ------------------------------------------------------------------ columns
class ColumnsError(ValueError):
    """Columns that cannot even be turned into rows (not lists, unequal lengths)."""


_TASK_RUN_FIELDS = frozenset(TaskRunRecordColumns.__annotations__)
_TASK_RUN_REQUIRED = frozenset(("id", "flow_run_id", "task_key", "dynamic_key", "name"))
_STATE_FIELDS = frozenset(StateRecordColumns.__annotations__)
_STATE_REQUIRED = frozenset(("id", "run_id", "run_kind", "type", "timestamp"))
#: Optional fields that rows may leave out but may not set to null.
_NOT_NULL = frozenset(("tags", "state_details"))
_STATE_TYPES = frozenset(StateTypeName.__args__)  # type: ignore[attr-defined]
_RUN_KINDS = frozenset(("flow", "task"))
_HEX = "[0-9a-f]"
_UUID = f"{_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}"
_UUID_LINES = re.compile(f"(?:{_UUID}\n)*{_UUID}")


def _length(columns: Any, what: str) -> int:
    if not isinstance(columns, dict):
        raise ColumnsError(f"{what}: expected a list of rows or an object of columns")
    lengths = set()
    for name, values in columns.items():
        if not isinstance(values, list):
            raise ColumnsError(f"{what}.{name}: a column must be a list")
        lengths.add(len(values))
    if len(lengths) > 1:
        raise ColumnsError(f"{what}: columns of unequal lengths {sorted(lengths)}")
    return lengths.pop() if lengths else 0


def columns_to_rows(columns: Any, what: str) -> list[dict[str, Any]]:
    """Columns as rows (``null`` in an optional column: the field is left out).

    Raises:
        ColumnsError: Not an object of lists of one length.
    """
    _length(columns, what)
    names = list(columns)
    return [{name: value for name, value in zip(names, values, strict=True)
             if value is not None or name not in _NOT_NULL}
            for values in zip(*columns.values(), strict=True)]


def _uuids(values: list[Any]) -> list[str] | None:
    """Canonical lower-case UUID strings, or None when any value is not one."""
    if not values:
        return []
    try:
        text = "\n".join(values).lower()
    except TypeError:
        return None
    if len(text) != 37 * len(values) - 1 or _UUID_LINES.fullmatch(text) is None:
        return None
    return text.split("\n")


def _strings(values: list[Any], nullable: bool = True) -> bool:
    try:
        "".join([v for v in values if v is not None] if nullable else values)
    except TypeError:
        return False
    return True


def _times(values: list[Any], nullable: bool = False) -> list[dt.datetime | None] | None:
    """ISO texts as UTC datetimes (naive means UTC), as ``UtcDatetime`` validates them.

    None when any is not one or is out of range in UTC: the columns are then
    validated as rows, whose errors name the field and the accepted range.
    """
    parse = dt.datetime.fromisoformat
    try:
        if nullable:
            times = [parse(v) if v is not None else None for v in values]
        else:
            times = [parse(v) for v in values]
        return [to_utc(v) if v is not None else None for v in times]
    except (TypeError, ValueError, OverflowError):
        return None


def _optional(columns: dict[str, Any], name: str, n: int) -> list[Any]:
    values: list[Any] | None = columns.get(name)
    return values if values is not None else [None] * n


@dataclass
class TaskRunColumns:
    """Task runs, checked: ids as canonical UUID strings, times as aware datetimes."""

    id: list[str]
    flow_run_id: list[str | None]
    task_key: list[str]
    task_name: list[str | None]
    dynamic_key: list[str]
    name: list[str]
    tags: list[list[str] | None]
    expected_start_time: list[dt.datetime | None]
    expected_start_text: list[str | None]
    cache_key: list[str | None]
    task_version: list[str | None]


@dataclass
class StateColumns:
    """States, checked: ids as canonical UUID strings, times as aware datetimes."""

    id: list[str]
    run_id: list[str]
    run_kind: list[str]
    type: list[str]
    name: list[str | None]
    message: list[str | None]
    timestamp: list[dt.datetime]
    timestamp_text: list[str]
    state_details: list[dict[str, Any] | None]
    data: list[Any]


def parse_task_run_columns(columns: Any) -> TaskRunColumns | None:
    """Check task run columns with cheap whole-column tests; None when in any doubt.

    Raises:
        ColumnsError: Not an object of lists of one length.
    """
    n = _length(columns, "task_runs")
    if not _TASK_RUN_REQUIRED <= columns.keys() <= _TASK_RUN_FIELDS:
        return None
    ids = _uuids(columns["id"])
    flow_ids = columns["flow_run_id"]
    given = [v for v in flow_ids if v is not None]
    checked = _uuids(given)
    if ids is None or checked is None:
        return None
    if len(given) == n:
        flow_ids = checked
    else:
        it = iter(checked)
        flow_ids = [next(it) if v is not None else None for v in flow_ids]
    tags = _optional(columns, "tags", n)
    if not all(type(v) is list or v is None for v in tags):
        return None
    if not _strings(list(chain.from_iterable(v for v in tags if v))):
        return None
    expected_text = _optional(columns, "expected_start_time", n)
    expected = _times(expected_text, nullable=True)
    if expected is None:
        return None
    text = {name: _optional(columns, name, n)
            for name in ("task_key", "task_name", "dynamic_key", "name", "cache_key",
                         "task_version")}
    for name, values in text.items():
        if not _strings(values, nullable=name not in _TASK_RUN_REQUIRED):
            return None
    if max(map(len, text["task_key"] + text["dynamic_key"]), default=0) > MAX_INDEXED_LENGTH:
        return None  # rows, where pydantic names the one too long
    return TaskRunColumns(id=ids, flow_run_id=flow_ids, tags=tags,
                          expected_start_time=expected, expected_start_text=expected_text,
                          **text)


def parse_state_columns(columns: Any) -> StateColumns | None:
    """Check state columns with cheap whole-column tests; None when in any doubt.

    Raises:
        ColumnsError: Not an object of lists of one length.
    """
    n = _length(columns, "states")
    if not _STATE_REQUIRED <= columns.keys() <= _STATE_FIELDS:
        return None
    ids = _uuids(columns["id"])
    run_ids = _uuids(columns["run_id"])
    if ids is None or run_ids is None:
        return None
    kinds, types = columns["run_kind"], columns["type"]
    if not _strings(kinds, nullable=False) or not _strings(types, nullable=False):
        return None
    if set(kinds) - _RUN_KINDS or set(types) - _STATE_TYPES:
        return None
    times = _times(columns["timestamp"])
    if times is None:
        return None
    names, messages = _optional(columns, "name", n), _optional(columns, "message", n)
    if not _strings(names) or not _strings(messages):
        return None
    details = _optional(columns, "state_details", n)
    if not all(type(v) is dict or v is None for v in details):
        return None
    return StateColumns(id=ids, run_id=run_ids, run_kind=kinds, type=types, name=names,
                        message=messages, timestamp=times,  # type: ignore[arg-type]
                        timestamp_text=columns["timestamp"],
                        state_details=details, data=_optional(columns, "data", n))

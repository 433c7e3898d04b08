"""Filter, sort and pagination bodies of the ``/filter`` and ``/count`` routes.

Prefect 2's shape: each criterion is an object of operators
(``{"state": {"type": {"any_": ["FAILED"]}}}``); criteria combine with AND;
unset operators match everything.
"""

from __future__ import annotations

import enum
import uuid
from typing import Annotated

from pydantic import AfterValidator, Field

from headwater.server.schemas.actions import MAX_INT, ActionModel
from headwater.server.schemas.core import StateType
from headwater.server.schemas.text import IndexedStr
from headwater.server.schemas.times import UtcDatetime

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "BoolFilter",
    "ConcurrencyLimitsFilterBody",
    "DeploymentFilter",
    "DeploymentSort",
    "DeploymentsCountBody",
    "DeploymentsFilterBody",
    "FlowFilter",
    "FlowRunFilter",
    "FlowRunSort",
    "FlowRunsCountBody",
    "FlowRunsFilterBody",
    "FlowSort",
    "FlowsFilterBody",
    "IdFilter",
    "IdPart",
    "LevelFilter",
    "LogFilter",
    "LogSort",
    "LogsFilterBody",
    "NameFilter",
    "NullableIdFilter",
    "StateFilter",
    "StateNameFilter",
    "StateTypeFilter",
    "TagsFilter",
    "TaskRunFilter",
    "TaskRunSort",
    "TaskRunsCountBody",
    "TaskRunsFilterBody",
    "TimeFilter",
]


def _id_part(text: str) -> str:
    digits = len(text.replace("-", ""))
    if not 4 <= digits <= 32:
        raise ValueError(f"a part of an id has 4 to 32 hex digits, not {digits}")
    return text


#: Part of an id: 4 to 32 hex digits, with the dashes of the canonical form allowed.
IdPart = Annotated[str, Field(pattern=r"^[0-9A-Fa-f-]+$", max_length=36),
                   AfterValidator(_id_part)]

DEFAULT_LIMIT = 200
MAX_LIMIT = 10_000


class IdFilter(ActionModel):
    """Match ids in (``any_``) or not in (``not_any_``) a list, or by a part (``like_``).

    ``like_`` is headwater's (Prefect 2 has no such operator): ids whose 32
    hex digits contain these, in any case, dashes ignored. The command line
    finds a run by the part of its id a table shows, or by a prefix.
    """

    any_: list[uuid.UUID] | None = None
    not_any_: list[uuid.UUID] | None = None
    like_: IdPart | None = None


class NullableIdFilter(ActionModel):
    """Match ids in a list, or rows where the id is (not) set."""

    any_: list[uuid.UUID] | None = None
    is_null_: bool | None = None


class NameFilter(ActionModel):
    """Match names exactly (``any_``) or by case-insensitive substring (``like_``).

    A ``like_`` longer than a name can be (512 characters) could match
    nothing: it is refused with 422, where SQLite refused patterns over
    50,000 bytes with an error (a 500).
    """

    any_: list[str] | None = None
    like_: IndexedStr | None = None


class TagsFilter(ActionModel):
    """Match rows having all (``all_``) or any (``any_``) of the tags, or no tags."""

    all_: list[str] | None = None
    any_: list[str] | None = None
    is_null_: bool | None = None


class StateTypeFilter(ActionModel):
    """Match the current state's type."""

    any_: list[StateType] | None = None
    not_any_: list[StateType] | None = None


class StateNameFilter(ActionModel):
    """Match the current state's name."""

    any_: list[str] | None = None
    not_any_: list[str] | None = None


class StateFilter(ActionModel):
    """Match the current state."""

    type: StateTypeFilter | None = None
    name: StateNameFilter | None = None


class TimeFilter(ActionModel):
    """Match times in ``[after_, before_]``, or unset (``is_null_``)."""

    before_: UtcDatetime | None = None
    after_: UtcDatetime | None = None
    is_null_: bool | None = None


class BoolFilter(ActionModel):
    """Match a flag (``eq_``); null matches both values."""

    eq_: bool | None = None


class DeploymentFilter(ActionModel):
    """Criteria on deployment versions.

    ``archived`` unset: ``/deployments/filter`` and ``/count`` match current
    versions only (``{"eq_": false}``), flow run filters match runs of every
    version; send ``{"eq_": true}`` for archived versions, ``{"eq_": null}``
    (or ``null``) for all.
    """

    id: IdFilter | None = None
    name: NameFilter | None = None
    tags: TagsFilter | None = None
    project: NameFilter | None = None
    archived: BoolFilter | None = None
    paused: BoolFilter | None = None
    work_pool_name: NameFilter | None = None
    work_queue_name: NameFilter | None = None


class FlowFilter(ActionModel):
    """Criteria on flows."""

    id: IdFilter | None = None
    name: NameFilter | None = None
    tags: TagsFilter | None = None


class FlowRunFilter(ActionModel):
    """Criteria on flow runs."""

    id: IdFilter | None = None
    name: NameFilter | None = None
    tags: TagsFilter | None = None
    state: StateFilter | None = None
    expected_start_time: TimeFilter | None = None
    start_time: TimeFilter | None = None
    end_time: TimeFilter | None = None
    parent_task_run_id: NullableIdFilter | None = None
    parent_flow_run_id: NullableIdFilter | None = None
    idempotency_key: NameFilter | None = None
    deployment_id: NullableIdFilter | None = None


class TaskRunFilter(ActionModel):
    """Criteria on task runs."""

    id: IdFilter | None = None
    name: NameFilter | None = None
    tags: TagsFilter | None = None
    state: StateFilter | None = None
    expected_start_time: TimeFilter | None = None
    start_time: TimeFilter | None = None
    end_time: TimeFilter | None = None
    flow_run_id: NullableIdFilter | None = None


class LevelFilter(ActionModel):
    """Match log levels in ``[ge_, le_]``."""

    ge_: int | None = Field(default=None, ge=0, le=MAX_INT)
    le_: int | None = Field(default=None, ge=0, le=MAX_INT)


class LogFilter(ActionModel):
    """Criteria on logs."""

    level: LevelFilter | None = None
    timestamp: TimeFilter | None = None
    flow_run_id: NullableIdFilter | None = None
    task_run_id: NullableIdFilter | None = None


class FlowSort(str, enum.Enum):
    """Orders of flows."""

    CREATED_DESC = "CREATED_DESC"
    UPDATED_DESC = "UPDATED_DESC"
    NAME_ASC = "NAME_ASC"
    NAME_DESC = "NAME_DESC"


class FlowRunSort(str, enum.Enum):
    """Orders of flow runs."""

    ID_DESC = "ID_DESC"
    START_TIME_ASC = "START_TIME_ASC"
    START_TIME_DESC = "START_TIME_DESC"
    EXPECTED_START_TIME_ASC = "EXPECTED_START_TIME_ASC"
    EXPECTED_START_TIME_DESC = "EXPECTED_START_TIME_DESC"
    NAME_ASC = "NAME_ASC"
    NAME_DESC = "NAME_DESC"
    END_TIME_DESC = "END_TIME_DESC"


class TaskRunSort(str, enum.Enum):
    """Orders of task runs."""

    ID_DESC = "ID_DESC"
    EXPECTED_START_TIME_ASC = "EXPECTED_START_TIME_ASC"
    EXPECTED_START_TIME_DESC = "EXPECTED_START_TIME_DESC"
    NAME_ASC = "NAME_ASC"
    NAME_DESC = "NAME_DESC"
    END_TIME_DESC = "END_TIME_DESC"


class DeploymentSort(str, enum.Enum):
    """Orders of deployments."""

    CREATED_DESC = "CREATED_DESC"
    UPDATED_DESC = "UPDATED_DESC"
    NAME_ASC = "NAME_ASC"
    NAME_DESC = "NAME_DESC"


class LogSort(str, enum.Enum):
    """Orders of logs."""

    TIMESTAMP_ASC = "TIMESTAMP_ASC"
    TIMESTAMP_DESC = "TIMESTAMP_DESC"


class _Page(ActionModel):
    limit: int = Field(default=DEFAULT_LIMIT, ge=0, le=MAX_LIMIT)
    offset: int = Field(default=0, ge=0, le=MAX_INT)


class FlowsFilterBody(_Page):
    """Body of ``POST /flows/filter``: flows matching ``flows`` and having runs matching
    ``flow_runs`` (when given)."""

    flows: FlowFilter | None = None
    flow_runs: FlowRunFilter | None = None
    sort: FlowSort = FlowSort.NAME_ASC


class FlowRunsCountBody(ActionModel):
    """Body of ``POST /flow_runs/count``."""

    flows: FlowFilter | None = None
    flow_runs: FlowRunFilter | None = None
    task_runs: TaskRunFilter | None = None
    deployments: DeploymentFilter | None = None


class FlowRunsFilterBody(_Page, FlowRunsCountBody):
    """Body of ``POST /flow_runs/filter``."""

    sort: FlowRunSort = FlowRunSort.ID_DESC


class TaskRunsCountBody(ActionModel):
    """Body of ``POST /task_runs/count``."""

    flows: FlowFilter | None = None
    flow_runs: FlowRunFilter | None = None
    task_runs: TaskRunFilter | None = None


class TaskRunsFilterBody(_Page, TaskRunsCountBody):
    """Body of ``POST /task_runs/filter``."""

    sort: TaskRunSort = TaskRunSort.ID_DESC


class LogsFilterBody(_Page):
    """Body of ``POST /logs/filter``."""

    logs: LogFilter | None = None
    sort: LogSort = LogSort.TIMESTAMP_ASC


class ConcurrencyLimitsFilterBody(_Page):
    """Body of ``POST /concurrency_limits/filter``."""


class DeploymentsCountBody(ActionModel):
    """Body of ``POST /deployments/count``."""

    flows: FlowFilter | None = None
    deployments: DeploymentFilter | None = None


class DeploymentsFilterBody(_Page, DeploymentsCountBody):
    """Body of ``POST /deployments/filter``."""

    sort: DeploymentSort = DeploymentSort.NAME_ASC

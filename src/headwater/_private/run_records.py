"""Run records: what headwater knows about one flow run or task run.

Users read them (``get_run_context().task_run``, hooks' arguments) but never
write them: every public attribute is a read-only property over a private
slot that only the engine sets.
"""

from __future__ import annotations

import datetime as _dt
import uuid
from typing import Any

from headwater._private.states import State


class _Run:
    __slots__ = (
        "_end_time",
        "_expected_start_time",
        "_id",
        "_name",
        "_parameters",
        "_run_count",
        "_start_time",
        "_state",
        "_tags",
    )

    def __init__(self, id: uuid.UUID, name: str, tags: frozenset[str],
                 expected_start_time: _dt.datetime) -> None:
        self._id = id
        self._name = name
        self._tags = tags
        self._run_count = 0
        self._state: State[Any] | None = None
        self._parameters: dict[str, Any] | None = None
        self._expected_start_time = expected_start_time
        self._start_time: _dt.datetime | None = None
        self._end_time: _dt.datetime | None = None

    @property
    def id(self) -> uuid.UUID:
        """The run's unique id."""
        return self._id

    @property
    def name(self) -> str:
        """The run's human-readable name (``add-3``, ``crimson-fox``)."""
        return self._name

    @property
    def tags(self) -> list[str]:
        """The run's tags, sorted."""
        return sorted(self._tags)

    @property
    def run_count(self) -> int:
        """How many times the run's function has been called (1 + retries so far)."""
        return self._run_count

    @property
    def state(self) -> State[Any] | None:
        """The run's current state."""
        return self._state

    @property
    def state_type(self) -> Any:
        """The type of the current state, or None before the run is created."""
        return self._state.type if self._state is not None else None

    @property
    def state_name(self) -> str | None:
        """The name of the current state."""
        return self._state.name if self._state is not None else None

    @property
    def expected_start_time(self) -> _dt.datetime:
        """When the run was created to start."""
        return self._expected_start_time

    @property
    def start_time(self) -> _dt.datetime | None:
        """When the run first entered a RUNNING state."""
        return self._start_time

    @property
    def end_time(self) -> _dt.datetime | None:
        """When the run reached a final state."""
        return self._end_time

    @property
    def total_run_time(self) -> _dt.timedelta:
        """Time spent between start and end (so far, while running)."""
        if self._start_time is None:
            return _dt.timedelta(0)
        end = self._end_time or _dt.datetime.now(_dt.timezone.utc)
        return end - self._start_time

    def __repr__(self) -> str:
        return f"{type(self).__name__}(id={self._id!s}, name={self._name!r}, state={self._state!r})"


class TaskRun(_Run):
    """The record of one task run."""

    __slots__ = ("_dynamic_key", "_flow_run_id", "_param_source", "_task_key", "_task_name")

    def __init__(self, id: uuid.UUID, name: str, task_name: str, task_key: str,
                 dynamic_key: str, flow_run_id: uuid.UUID | None, tags: frozenset[str],
                 expected_start_time: _dt.datetime) -> None:
        super().__init__(id, name, tags, expected_start_time)
        self._task_name = task_name
        self._task_key = task_key
        self._dynamic_key = dynamic_key
        self._flow_run_id = flow_run_id
        self._param_source: Any = None

    @property
    def task_name(self) -> str:
        """The name of the task this run belongs to."""
        return self._task_name

    @property
    def task_key(self) -> str:
        """A stable key for the task (its qualified function name)."""
        return self._task_key

    @property
    def dynamic_key(self) -> str:
        """The run's index among runs of the same task in its flow run."""
        return self._dynamic_key

    @property
    def flow_run_id(self) -> uuid.UUID | None:
        """The id of the flow run this task run belongs to, if any."""
        return self._flow_run_id

    @property
    def parameters(self) -> dict[str, Any]:
        """The arguments of the call, by parameter name (computed on first access)."""
        if self._parameters is None:
            src = self._param_source
            self._parameters = src() if callable(src) else {}
        return self._parameters


class FlowRun(_Run):
    """The record of one flow run."""

    __slots__ = ("_flow_name", "_parent_flow_run_id", "_parent_task_run_id", "_version_lock")

    def __init__(self, id: uuid.UUID, name: str, flow_name: str, tags: frozenset[str],
                 parameters: dict[str, Any], parent_flow_run_id: uuid.UUID | None,
                 parent_task_run_id: uuid.UUID | None,
                 expected_start_time: _dt.datetime) -> None:
        super().__init__(id, name, tags, expected_start_time)
        self._flow_name = flow_name
        self._parameters = parameters
        self._parent_flow_run_id = parent_flow_run_id
        self._parent_task_run_id = parent_task_run_id
        # Its task runs' version lock: set by its job; None: the setting decides.
        self._version_lock: bool | None = None

    @property
    def flow_name(self) -> str:
        """The name of the flow this run belongs to."""
        return self._flow_name

    @property
    def parameters(self) -> dict[str, Any]:
        """The run's parameters, after validation."""
        return self._parameters or {}

    @property
    def parent_flow_run_id(self) -> uuid.UUID | None:
        """The id of the flow run that called this one as a subflow."""
        return self._parent_flow_run_id

    @property
    def parent_task_run_id(self) -> uuid.UUID | None:
        """The id of the task run that called this flow, if a task called it."""
        return self._parent_task_run_id

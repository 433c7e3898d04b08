"""The current run's attributes, read from the run context on each access.

``headwater.runtime.flow_run`` and ``headwater.runtime.task_run`` are thin
modules over `flow_run_attr` and `task_run_attr`. `FLOW_RUN` and `TASK_RUN`
are the same attributes as objects, for code below the public modules:
``result_storage_key`` templates see them as ``{flow_run.name}``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from headwater._private.context import deployment_ctx, flow_run_ctx, task_run_ctx

FLOW_RUN_EMPTY: dict[str, Any] = {
    "id": None, "name": None, "flow_name": None, "flow_version": None, "parameters": {},
    "tags": [], "run_count": 0, "scheduled_start_time": None, "parent_flow_run_id": None,
    "parent_task_run_id": None, "parent_deployment_id": None,
}
"""Each flow run attribute, with its value outside a flow run."""

TASK_RUN_EMPTY: dict[str, Any] = {
    "id": None, "name": None, "task_name": None, "parameters": {}, "tags": [],
    "run_count": 0, "flow_run_id": None,
}
"""Each task run attribute, with its value outside a task run."""


def _empty(table: dict[str, Any], attr: str) -> Any:
    empty = table[attr]
    return empty.copy() if isinstance(empty, (dict, list)) else empty


def flow_run_attr(attr: str) -> Any:
    """Return the attribute ``attr`` of the current flow run (its empty value outside one).

    Raises:
        AttributeError: ``attr`` is not a flow run attribute.
    """
    if attr not in FLOW_RUN_EMPTY:
        raise AttributeError(f"headwater.runtime.flow_run has no attribute {attr!r}")
    ctx = flow_run_ctx.get()
    if ctx is None:
        return _empty(FLOW_RUN_EMPTY, attr)
    run = ctx.flow_run
    if attr == "parent_deployment_id":
        # A subflow of a deployment's run: that deployment (the run itself has no parent).
        deployment = deployment_ctx.get()
        if deployment is None or deployment["flow_run_id"] == str(run.id):
            return None
        return deployment["id"]
    if attr == "flow_version":
        return ctx.flow.options.version
    if attr == "scheduled_start_time":
        return run.expected_start_time
    if attr == "parameters":
        return dict(run.parameters)
    if attr == "id":
        return str(run.id)  # a str in Prefect 2 (its parent ids stay UUIDs there too)
    return getattr(run, attr)


def task_run_attr(attr: str) -> Any:
    """Return the attribute ``attr`` of the current task run (its empty value outside one).

    Raises:
        AttributeError: ``attr`` is not a task run attribute.
    """
    if attr not in TASK_RUN_EMPTY:
        raise AttributeError(f"headwater.runtime.task_run has no attribute {attr!r}")
    ctx = task_run_ctx.get()
    if ctx is None:
        return _empty(TASK_RUN_EMPTY, attr)
    if attr == "id":
        return str(ctx.task_run.id)  # a str, as in Prefect 2
    value = getattr(ctx.task_run, attr)
    return dict(value) if attr == "parameters" else value


class RunView:
    """The attributes of the current flow or task run, read on access."""

    __slots__ = ("_name", "_read")

    def __init__(self, name: str, read: Callable[[str], Any]) -> None:
        self._name = name
        self._read = read

    def __getattr__(self, attr: str) -> Any:
        return self._read(attr)

    def __repr__(self) -> str:
        return f"<current {self._name}>"


FLOW_RUN = RunView("headwater.runtime.flow_run", flow_run_attr)
TASK_RUN = RunView("headwater.runtime.task_run", task_run_attr)


DEPLOYMENT_EMPTY: dict[str, Any] = {
    "id": None, "flow_run_id": None, "name": None, "version": None, "parameters": {},
}
"""Each deployment attribute, with its value outside a deployment's run."""


def deployment_attr(attr: str) -> Any:
    """Return the attribute ``attr`` of the current deployment (its empty value outside one).

    Raises:
        AttributeError: ``attr`` is not a deployment attribute.
    """
    if attr not in DEPLOYMENT_EMPTY:
        raise AttributeError(f"headwater.runtime.deployment has no attribute {attr!r}")
    deployment = deployment_ctx.get()
    value = DEPLOYMENT_EMPTY[attr] if deployment is None else deployment.get(attr)
    return dict(value) if isinstance(value, dict) else value  # a fresh dict each time

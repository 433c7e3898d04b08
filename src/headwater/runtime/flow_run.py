"""Attributes of the current flow run: ``id``, ``name``, ``flow_name``, ``parameters``...

Read as module attributes (``headwater.runtime.flow_run.id``); they are
computed on each access from the active run context.
"""

from __future__ import annotations

from typing import Any

from headwater._private.context import flow_run_ctx

__all__ = [
    "flow_name",
    "flow_version",
    "id",
    "name",
    "parameters",
    "parent_flow_run_id",
    "parent_task_run_id",
    "run_count",
    "scheduled_start_time",
    "tags",
]

_EMPTY: dict[str, Any] = {
    "id": None, "name": None, "flow_name": None, "flow_version": None, "parameters": {},
    "tags": [], "run_count": 0, "scheduled_start_time": None, "parent_flow_run_id": None,
    "parent_task_run_id": None,
}


def __getattr__(attr: str) -> Any:
    if attr not in _EMPTY:
        raise AttributeError(f"headwater.runtime.flow_run has no attribute {attr!r}")
    ctx = flow_run_ctx.get()
    if ctx is None:
        empty = _EMPTY[attr]
        return empty.copy() if isinstance(empty, (dict, list)) else empty
    run = ctx.flow_run
    if attr == "flow_version":
        return ctx.flow.options.version
    if attr == "scheduled_start_time":
        return run.expected_start_time
    if attr == "parameters":
        return dict(run.parameters)
    return getattr(run, attr)


def __dir__() -> list[str]:
    return sorted(_EMPTY)

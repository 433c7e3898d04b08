"""Attributes of the current flow run: ``id``, ``name``, ``flow_name``, ``parameters``...

Read as module attributes (``headwater.runtime.flow_run.id``); they are
computed on each access from the active run context.
"""

from __future__ import annotations

from typing import Any

from headwater._private.run_views import FLOW_RUN_EMPTY, flow_run_attr

__all__ = [
    "flow_name",
    "flow_version",
    "id",
    "name",
    "parameters",
    "parent_deployment_id",
    "parent_flow_run_id",
    "parent_task_run_id",
    "run_count",
    "scheduled_start_time",
    "tags",
]


def __getattr__(attr: str) -> Any:
    return flow_run_attr(attr)


def __dir__() -> list[str]:
    return sorted(FLOW_RUN_EMPTY)

"""Attributes of the current task run: ``id``, ``name``, ``task_name``, ``parameters``...

Read as module attributes (``headwater.runtime.task_run.run_count``).
"""

from __future__ import annotations

from typing import Any

from headwater._private.run_views import TASK_RUN_EMPTY, task_run_attr

__all__ = ["flow_run_id", "id", "name", "parameters", "run_count", "tags", "task_name"]


def __getattr__(attr: str) -> Any:
    return task_run_attr(attr)


def __dir__() -> list[str]:
    return sorted(TASK_RUN_EMPTY)

"""Attributes of the current task run: ``id``, ``name``, ``task_name``, ``parameters``...

Read as module attributes (``headwater.runtime.task_run.run_count``).
"""

from __future__ import annotations

from typing import Any

from headwater._private.context import task_run_ctx

__all__ = ["flow_run_id", "id", "name", "parameters", "run_count", "tags", "task_name"]

_EMPTY: dict[str, Any] = {
    "id": None, "name": None, "task_name": None, "parameters": {}, "tags": [],
    "run_count": 0, "flow_run_id": None,
}


def __getattr__(attr: str) -> Any:
    if attr not in _EMPTY:
        raise AttributeError(f"headwater.runtime.task_run has no attribute {attr!r}")
    ctx = task_run_ctx.get()
    if ctx is None:
        empty = _EMPTY[attr]
        return empty.copy() if isinstance(empty, (dict, list)) else empty
    value = getattr(ctx.task_run, attr)
    return dict(value) if attr == "parameters" else value


def __dir__() -> list[str]:
    return sorted(_EMPTY)

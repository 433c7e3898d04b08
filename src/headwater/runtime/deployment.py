"""Attributes of the current deployment: ``id``, ``name``, ``version``, ``parameters``...

headwater has no deployments yet, so every flow run runs outside one: ids,
names and versions are None and ``parameters`` is an empty dict, the values
Prefect 2 gives outside a deployment. Code that reads them keeps working.
"""

from __future__ import annotations

from typing import Any

__all__ = ["flow_run_id", "id", "name", "parameters", "version"]

_OUTSIDE_A_DEPLOYMENT: dict[str, Any] = {
    "id": None, "flow_run_id": None, "name": None, "version": None, "parameters": {},
}


def __getattr__(attr: str) -> Any:
    if attr not in _OUTSIDE_A_DEPLOYMENT:
        raise AttributeError(f"headwater.runtime.deployment has no attribute {attr!r}")
    value = _OUTSIDE_A_DEPLOYMENT[attr]
    return dict(value) if isinstance(value, dict) else value  # a fresh dict each time


def __dir__() -> list[str]:
    return sorted(_OUTSIDE_A_DEPLOYMENT)

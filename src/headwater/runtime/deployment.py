"""Attributes of the current deployment: ``id``, ``name``, ``version``, ``parameters``...

Inside a run started from a deployment (``serve``, a worker, ``python -m
headwater.engine``) they describe that deployment version (``id`` a str, as
in Prefect 2; ``parameters`` its defaults merged with the run's); outside
one, ids, names and versions are None and ``parameters`` is an empty dict,
the values Prefect 2 gives outside a deployment.
"""

from __future__ import annotations

from typing import Any

from headwater._private.run_views import DEPLOYMENT_EMPTY, deployment_attr

__all__ = ["flow_run_id", "id", "name", "parameters", "version"]


def __getattr__(attr: str) -> Any:
    return deployment_attr(attr)


def __dir__() -> list[str]:
    return sorted(DEPLOYMENT_EMPTY)

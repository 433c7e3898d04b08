"""The API routes, one router per resource, mounted under ``/api``."""

from __future__ import annotations

from fastapi import APIRouter

from headwater.server.api import (
    admin,
    cache_keys,
    concurrency_leases,
    concurrency_limits,
    deployment_schedules,
    deployments,
    flow_runs,
    flows,
    global_concurrency_limits,
    liveness,
    logs,
    projects,
    records,
    run_locks,
    states,
    task_runs,
    ui,
    work_pools,
)

__all__ = ["ROUTERS"]

ROUTERS: tuple[APIRouter, ...] = (
    admin.router,
    flows.router,
    liveness.router,
    flow_runs.router,
    task_runs.router,
    states.router,
    cache_keys.router,
    logs.router,
    concurrency_leases.router,
    concurrency_limits.router,
    global_concurrency_limits.router,
    records.router,
    run_locks.router,
    deployments.router,
    deployment_schedules.router,
    projects.router,
    work_pools.router,
    ui.router,
)

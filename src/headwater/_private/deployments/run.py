"""``run_deployment``: create a run of a deployment, and wait for it (Prefect 2's semantics).

The run is created through the API (``POST /deployments/{id}/create_flow_run``)
Scheduled for ``scheduled_time`` (now by default); whatever serves the
deployment (``serve``, a worker) runs it. ``timeout=None`` waits until it is
final, ``timeout=0`` returns at once, otherwise it returns after at most that
many seconds. Called inside a flow run with ``as_subflow=True``, a task run
of the calling flow run stands for it (its ``parent_task_run_id``), and ends
in the run's final state when this call sees it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from headwater._private.clock import get_clock

if TYPE_CHECKING:
    from headwater._private.run_records import FlowRun
    from headwater.client import HeadwaterClient

__all__ = ["run_deployment", "run_deployment_async"]

_FINAL = frozenset({"COMPLETED", "FAILED", "CANCELLED", "CRASHED"})


def run_deployment(name: str | uuid.UUID, client: Any = None,
                   parameters: dict[str, Any] | None = None,
                   scheduled_time: dt.datetime | None = None,
                   flow_run_name: str | None = None, timeout: float | None = None,
                   poll_interval: float | None = 5, tags: Iterable[str] | None = None,
                   idempotency_key: str | None = None, work_queue_name: str | None = None,
                   as_subflow: bool | None = True, infra_overrides: dict[str, Any] | None = None,
                   job_variables: dict[str, Any] | None = None) -> Any:
    """Create a flow run of deployment ``name`` (``"flow/deployment"`` or an id); return it.

    In async code (an async flow, or any coroutine outside runs) it returns a
    coroutine to await, as Prefect 2's does; elsewhere it blocks.

    Args:
        name: ``"flow-name/deployment-name"`` (the current version) or a
            deployment version's id.
        client: Unused; headwater talks to the API in the settings.
        parameters: Merged over the deployment's defaults, validated by the API.
        scheduled_time: When the run should start (default now).
        flow_run_name: The run's name (default a random one).
        timeout: Seconds to wait for a final state: None waits, 0 returns at once.
        poll_interval: Seconds between two looks at the run while waiting.
        tags: Tags of the run, added to the deployment's.
        idempotency_key: A second call with the same key returns the same run.
        work_queue_name: The work queue (workers).
        as_subflow: Inside a flow run, link the new run to it through a task run.
        infra_overrides: Not supported (no infrastructure blocks).
        job_variables: Not supported.

    Returns:
        The flow run record (``id``, ``name``, ``state``...), as last read.

    Raises:
        ValueError: ``timeout`` is negative.
        ObjectNotFound: No such deployment.
    """
    del client
    if infra_overrides or job_variables:
        raise ValueError("run_deployment: infra_overrides and job_variables are not supported "
                         "(headwater has no infrastructure blocks); leave them out.")
    coroutine = run_deployment_async(
        name, parameters=parameters, scheduled_time=scheduled_time,
        flow_run_name=flow_run_name, timeout=timeout, poll_interval=poll_interval, tags=tags,
        idempotency_key=idempotency_key, work_queue_name=work_queue_name,
        as_subflow=as_subflow)
    if _in_async_code():
        return coroutine
    from headwater._private import background

    return background.run(lambda: coroutine)


def _in_async_code() -> bool:
    from headwater._private.context import flow_run_ctx, in_async_run_on_loop, task_run_ctx

    if in_async_run_on_loop():
        return True
    if flow_run_ctx.get() is not None or task_run_ctx.get() is not None:
        return False  # sync flow or task code: block
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


async def run_deployment_async(name: str | uuid.UUID, *, parameters: dict[str, Any] | None = None,
                               scheduled_time: dt.datetime | None = None,
                               flow_run_name: str | None = None, timeout: float | None = None,
                               poll_interval: float | None = 5,
                               tags: Iterable[str] | None = None,
                               idempotency_key: str | None = None,
                               work_queue_name: str | None = None,
                               as_subflow: bool | None = True) -> FlowRun:
    """Async twin of :func:`run_deployment` (same arguments)."""
    from headwater._private.target import current_target

    if timeout is not None and timeout < 0:
        raise ValueError("`timeout` cannot be negative")
    scheduled_time = scheduled_time or dt.datetime.now(dt.timezone.utc)
    async with current_target().client() as client:
        deployment, flow_name = await _read_deployment(client, name)
        parent_task_run_id = None
        if as_subflow:
            parent_task_run_id = await _parent_task_run(client, f"{flow_name}/"
                                                        f"{deployment['name']}", deployment)
        run = await client.create_flow_run_from_deployment(
            deployment["id"], parameters=parameters or {}, name=flow_run_name,
            tags=list(tags or []), idempotency_key=idempotency_key,
            work_queue_name=work_queue_name,
            parent_task_run_id=str(parent_task_run_id) if parent_task_run_id else None,
            state={"type": "SCHEDULED", "name": "Scheduled",
                   "state_details": {"scheduled_time": scheduled_time.isoformat()}})
        if timeout != 0:
            run = await _wait(client, str(run["id"]), timeout, poll_interval or 5)
        if parent_task_run_id is not None and run.get("state_type") in _FINAL:
            await client.request("POST", f"task_runs/{parent_task_run_id}/set_state", json={
                "state": {"type": run["state_type"], "name": run.get("state_name"),
                          "message": (run.get("state") or {}).get("message")},
                "force": True})
    return flow_run_record(run, flow_name)


async def _read_deployment(client: HeadwaterClient, name: str | uuid.UUID
                           ) -> tuple[dict[str, Any], str]:
    """The deployment version and its flow's name."""
    from headwater.client import APIError
    from headwater.exceptions import ObjectNotFound

    try:
        deployment_id = name if isinstance(name, uuid.UUID) else uuid.UUID(str(name))
    except ValueError:
        deployment_id = None
    try:
        if deployment_id is not None:
            deployment = await client.read_deployment(deployment_id)
            flow = await client.request("GET", f"flows/{deployment['flow_id']}")
            return dict(deployment), str(flow["name"])
        if "/" not in str(name):
            raise ObjectNotFound(f"Deployment name {name!r}: give it as 'flow-name/"
                                 "deployment-name' (headwater deployment ls lists them).")
        deployment = await client.read_deployment_by_name(str(name))
        return dict(deployment), str(name).split("/", 1)[0]
    except APIError as exc:
        if exc.status_code == 404:
            raise ObjectNotFound(f"No deployment {str(name)!r} in {current_target_where()}. "
                                 "List them with 'headwater deployment ls'.") from None
        raise


def current_target_where() -> str:
    from headwater._private.target import current_target

    return current_target().where()


async def _parent_task_run(client: HeadwaterClient, full_name: str,
                           deployment: dict[str, Any]) -> uuid.UUID | None:
    """In a flow run: a task run of it that stands for the new run; else None."""
    from headwater._private import recording
    from headwater._private.context import flow_run_ctx, task_run_ctx

    flow_ctx, task_ctx = flow_run_ctx.get(), task_run_ctx.get()
    if flow_ctx is None and task_ctx is None:
        return None
    if task_ctx is not None:
        flow_run_id = task_ctx.task_run.flow_run_id
    else:
        assert flow_ctx is not None
        flow_run_id = flow_ctx.flow_run.id
    if flow_run_id is None:
        return None
    recorder = recording.ACTIVE
    if recorder is None:
        return None  # not recorded: there is no flow run in the API to link to
    await recorder.flush_async(30.0)  # the calling flow run must be stored first
    slug = re.sub(r"[^a-z0-9]+", "-", full_name.lower()).strip("-")
    task_run_id = uuid.uuid4()
    await client.request("POST", "task_runs/", json={
        "id": str(task_run_id), "flow_run_id": str(flow_run_id), "name": full_name,
        "task_key": f"headwater.deployments.run_deployment.{slug}",
        "dynamic_key": task_run_id.hex[:12], "task_version": deployment.get("version"),
        "state": {"type": "PENDING", "name": "Pending"}})
    return task_run_id


async def _wait(client: HeadwaterClient, run_id: str, timeout: float | None,
                poll_interval: float) -> dict[str, Any]:
    clock = get_clock()
    deadline = None if timeout is None else clock.monotonic() + timeout
    while True:
        run = await client.read_flow_run(run_id)
        if run.get("state_type") in _FINAL:
            return run
        if deadline is not None and clock.monotonic() >= deadline:
            return run
        wait = poll_interval if deadline is None else min(
            poll_interval, max(0.0, deadline - clock.monotonic()))
        await clock.sleep_async(wait)


def flow_run_record(run: dict[str, Any], flow_name: str) -> FlowRun:
    """The run record of an API flow run (``headwater.client.schemas.objects.FlowRun``)."""
    from headwater._private.run_records import FlowRun
    from headwater._private.states import State, StateDetails, StateType

    def when(value: Any) -> dt.datetime | None:
        return dt.datetime.fromisoformat(value) if isinstance(value, str) else value

    def ident(value: Any) -> uuid.UUID | None:
        return uuid.UUID(str(value)) if value else None

    record = FlowRun(uuid.UUID(str(run["id"])), run["name"], flow_name,
                     frozenset(run.get("tags") or ()), dict(run.get("parameters") or {}),
                     ident(run.get("parent_flow_run_id")), ident(run.get("parent_task_run_id")),
                     when(run.get("expected_start_time")) or dt.datetime.now(dt.timezone.utc))
    state = run.get("state") or {}
    if run.get("state_type"):
        record._state = State(StateType(run["state_type"]), name=run.get("state_name"),
                              message=state.get("message"),
                              state_details=StateDetails(flow_run_id=record.id),
                              timestamp=when(state.get("timestamp")))
    record._run_count = int(run.get("run_count") or 0)
    record._start_time = when(run.get("start_time"))
    record._end_time = when(run.get("end_time"))
    return record

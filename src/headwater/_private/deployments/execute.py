"""Run a stored flow run as itself: what ``python -m headwater.engine`` does.

``serve`` and workers create (or claim) a deployment's flow run, then start a
process that runs :func:`execute_flow_run`: read the run and its deployment
version through the target's API client, find the code (``code.py``), import
the entrypoint, and run the flow *as that run* (its row goes Pending ->
Running -> final; no new row). A run whose code cannot be found ends Failed
with a message naming what is missing and the fix, and a log line saying so.

The deployment's switches travel with the run: ``heartbeat`` (off: no
heartbeats, so the zombie check never judges it) and ``version_lock``: on,
the run is claimed (:mod:`~headwater._private.version_lock`) before anything
else is done for it, so a second starter (a late duplicate, a Lazarus rerun
racing the original) gets a ``VersionLockError`` and neither loads the code
nor touches the run's record.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from headwater._private import background
from headwater._private.deployments.code import CodeNotFoundError, code_root, load_flow
from headwater._private.target import current_target
from headwater.exceptions import HeadwaterException

if TYPE_CHECKING:
    from headwater._private.states import State
    from headwater.client import HeadwaterClient

__all__ = ["FlowRunNotRunnable", "execute_flow_run"]

_log = logging.getLogger("headwater.engine")

#: Stored state types a run may start from (Late runs are SCHEDULED, named "Late").
_STARTABLE = frozenset({"SCHEDULED", "PENDING", None})


class FlowRunNotRunnable(HeadwaterException):
    """The flow run cannot be run here: unknown, not from a deployment, or started already."""


def execute_flow_run(flow_run_id: uuid.UUID | str, *,
                     deployment: Mapping[str, Any] | None = None) -> State[Any]:
    """Run the stored flow run ``flow_run_id`` as itself, to its final state.

    Args:
        flow_run_id: A flow run created from a deployment (Scheduled, or
            Pending once claimed).
        deployment: The deployment version, when the caller has it already;
            read from the run's ``deployment_id`` otherwise.

    Returns:
        The run's final state: Failed (with the reason) when its code cannot
        be found.

    Raises:
        FlowRunNotRunnable: The run does not exist, has no deployment, or is
            not Scheduled or Pending (it ran, or is running, elsewhere).
        VersionLockError: The deployment's version lock is on and the run
            was started by another process (or is final): nothing was done.
    """
    from headwater._private.context import deployment_ctx
    from headwater._private.engine.entry import run_stored_flow
    from headwater._private.engine.flow_job import StoredFlowRun
    from headwater._private.settings import get_current_settings

    try:
        run_id = uuid.UUID(str(flow_run_id))
    except ValueError:
        raise FlowRunNotRunnable(f"{flow_run_id!r} is not a flow run id (a UUID).") from None
    if not current_target().recording:
        raise FlowRunNotRunnable(
            f"Flow run {run_id} cannot be run with HEADWATER_API_ENABLE_RECORDING=false: its "
            "states would not reach its record. Unset it for this process.")
    run, version = _api(lambda client: _read(client, run_id, deployment))
    locked = bool(version is not None and version.get("version_lock"))
    if locked:
        from headwater._private.version_lock import claim

        claim("flow_run", run_id)  # raises VersionLockError: the body must not run here
    _check_startable(run_id, run)
    if version is None:
        return _fail(run_id, f"The deployment version {run.get('deployment_id')} of flow run "
                     f"{run_id} was deleted, so its code cannot be found. Create a new run of "
                     "the deployment.")
    try:
        root = code_root(version.get("code_location"), get_current_settings().home)
        flow = load_flow(str(version.get("entrypoint") or ""), root)
    except CodeNotFoundError as exc:
        return _fail(run_id, str(exc))
    parameters = {**(version.get("parameters") or {}), **(run.get("parameters") or {})}
    stored = StoredFlowRun(
        id=run_id, name=run["name"], tags=frozenset(run.get("tags") or ()),
        expected_start_time=_when(run.get("expected_start_time")),
        state_type=run.get("state_type"),
        parent_flow_run_id=_uuid(run.get("parent_flow_run_id")),
        parent_task_run_id=_uuid(run.get("parent_task_run_id")),
        heartbeat=version.get("heartbeat", True) is not False, version_lock=locked)
    token = deployment_ctx.set({
        "id": str(version["id"]), "flow_run_id": str(run_id), "name": version.get("name"),
        "version": version.get("version"), "parameters": parameters,
    })
    try:
        return run_stored_flow(flow, parameters, stored)
    finally:
        deployment_ctx.reset(token)


def _api(work: Any) -> Any:
    """Run ``work(client)`` on the background loop with a client of the target."""
    async def call() -> Any:
        async with current_target().client() as client:
            return await work(client)

    return background.run(call)


async def _read(client: HeadwaterClient, run_id: uuid.UUID, deployment: Mapping[str, Any] | None,
                ) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The run and its deployment version (None when the version was deleted)."""
    from headwater.client import APIError

    try:
        run = await client.read_flow_run(run_id)
    except APIError as exc:
        if exc.status_code == 404:
            raise FlowRunNotRunnable(
                f"Flow run {run_id} is not in {current_target().where()}. Check the id and "
                "HEADWATER_API_URL (or HEADWATER_HOME).") from None
        raise
    if deployment is None:
        deployment_id = run.get("deployment_id")
        if deployment_id is None:
            raise FlowRunNotRunnable(
                f"Flow run {run_id} was not created from a deployment, so there is no code "
                "to load for it. Run deployments' runs only.")
        try:
            deployment = await client.read_deployment(deployment_id)
        except APIError as exc:
            if exc.status_code == 404:
                return run, None
            raise
    return run, dict(deployment)


def _check_startable(run_id: uuid.UUID, run: Mapping[str, Any]) -> None:
    if run.get("state_type") not in _STARTABLE:
        raise FlowRunNotRunnable(
            f"Flow run {run_id} is {run.get('state_name') or run.get('state_type')}, not "
            "Scheduled or Pending: it ran, or is running, elsewhere. Create a new run of the "
            "deployment to run it again.")


def _fail(run_id: uuid.UUID, message: str) -> State[Any]:
    """End the run Failed with ``message`` (and a log line saying it); return that state."""
    from headwater._private.states import Failed

    state: State[Any] = Failed(message=message)

    async def work(client: HeadwaterClient) -> None:
        await client.set_flow_run_state(run_id, {"type": "FAILED", "name": "Failed",
                                                 "message": message}, force=True)
        await client.create_logs([{
            "name": "headwater.engine", "level": logging.ERROR, "message": message,
            "timestamp": dt.datetime.now(dt.timezone.utc).isoformat(),
            "flow_run_id": str(run_id)}])

    _log.error("Flow run %s failed: %s", run_id, message)
    _api(work)
    return state


def _when(value: Any) -> dt.datetime:
    if value is None:
        return dt.datetime.now(dt.timezone.utc)
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value))


def _uuid(value: Any) -> uuid.UUID | None:
    return None if value is None else uuid.UUID(str(value))

"""Cancel or resume a flow run that runs in another process, through the API.

The API is the meeting point. The caller stores its request as the run's
state; the process running the flow notices it
(:mod:`headwater._private.flow_run_watch`) and acts in-process:

- cancel: the run goes to ``CANCELLING`` (as Prefect 2's ``prefect flow-run
  cancel``); its process cancels it and records ``Cancelled``.
- resume of a suspension (a pause with ``pause_reschedule``): through
  ``POST /flow_runs/{id}/resume``, which makes the run Scheduled
  (``Resuming``) for its deployment's runner, and stores the input after
  checking it against the schema the run saved (Prefect 2's).
- resume of any other pause: a ``PAUSED`` run goes to ``RUNNING`` (the state Prefect 2's
  ``resume_flow_run`` sets), whose ``state_details`` carry the pause's
  ``pause_key`` (so the paused process knows which pause it resumes, and
  never takes an older resume for a newer pause) and the ``run_input``.
  The input is validated in the paused process, against the model the run
  waits for; invalid input leaves the run paused (see ``pausing``).

The API's transition rules refuse to move a run out of a terminal state;
these functions check first so the error can say which state the run is in.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from headwater.exceptions import FlowRunStateError, NotPausedError, ObjectNotFound, RunInputError

if TYPE_CHECKING:
    from headwater.client import HeadwaterClient

__all__ = [
    "cancel_through_api",
    "cancel_through_api_async",
    "read_through_api",
    "request_cancel",
    "request_resume",
    "resume_through_api",
    "resume_through_api_async",
]

_TERMINAL = frozenset({"COMPLETED", "FAILED", "CANCELLED", "CRASHED"})
_RECORDING_HINT = (
    "If it runs in a process that does not record runs (HEADWATER_API_ENABLE_RECORDING=false) "
    "or records them to another API or HEADWATER_HOME, it cannot be reached from here.")


async def _read(client: HeadwaterClient, flow_run_id: uuid.UUID) -> dict[str, Any]:
    from headwater.client import APIError

    try:
        return await client.read_flow_run(flow_run_id)
    except APIError as exc:
        if exc.status_code == 404:
            raise ObjectNotFound(
                f"Flow run {flow_run_id} was not found: it does not run in this process, and "
                f"{_where(client)} has no record of it. {_RECORDING_HINT}") from None
        raise


def _where(client: HeadwaterClient) -> str:
    from headwater._private.target import current_target
    from headwater.client._factory import EMBEDDED_URL

    if client.api_url != EMBEDDED_URL:
        return f"the API at {client.api_url}"
    return current_target().where()


def _state(run: dict[str, Any]) -> dict[str, Any]:
    return dict(run.get("state") or {})


def _refused(flow_run_id: uuid.UUID, action: str, result: dict[str, Any]) -> FlowRunStateError:
    current = (result.get("state") or {}).get("type", "unknown")
    reason = (result.get("details") or {}).get("reason") or "no reason given"
    return FlowRunStateError(f"Flow run {flow_run_id} could not be {action}: the API said "
                             f"{result.get('status')} ({reason}); it is {current}.")


async def request_cancel(client: HeadwaterClient, flow_run_id: uuid.UUID,
                         reason: str | None = None) -> dict[str, Any]:
    """Ask the process running a flow run to cancel it: set its state to CANCELLING.

    Args:
        client: An open API client.
        flow_run_id: The flow run.
        reason: The message of the CANCELLING state, and of the Cancelled
            state the run ends in.

    Returns:
        The flow run as the API returned it before the request.

    Raises:
        ObjectNotFound: The API has no flow run with this id.
        FlowRunStateError: The run already finished (the message says in which state).
    """
    run = await _read(client, flow_run_id)
    current = _state(run).get("type")
    if current in _TERMINAL:
        raise FlowRunStateError(f"Flow run {flow_run_id} already finished in state {current}; "
                                "only an unfinished run can be cancelled.")
    result = await client.set_flow_run_state(
        flow_run_id, {"type": "CANCELLING", "name": "Cancelling", "message": reason})
    if result.get("status") != "ACCEPT":
        raise _refused(flow_run_id, "cancelled", result)
    return run


def _json_input(run_input: Any) -> Any:
    """``run_input`` as JSON types (pydantic models and dataclasses included)."""
    import pydantic_core

    try:
        return pydantic_core.to_jsonable_python(run_input)
    except pydantic_core.PydanticSerializationError as exc:
        raise RunInputError(f"run_input must be JSON-serialisable to reach a flow run in "
                            f"another process: {exc}") from None


async def request_resume(client: HeadwaterClient, flow_run_id: uuid.UUID,
                         run_input: Any = None) -> None:
    """Resume a flow run paused in another process: set its state to RUNNING, with the input.

    The state is proposed with the ``state_version`` just read, so it only
    lands on the pause that was read; if the run moved meanwhile, it is read
    again (a few times).

    Raises:
        ObjectNotFound: The API has no flow run with this id.
        NotPausedError: The run is not paused (the message says its state).
        RunInputError: ``run_input`` cannot be turned into JSON.
        FlowRunStateError: The API refused the resume.
    """
    payload = _json_input(run_input)
    for _ in range(3):
        run = await _read(client, flow_run_id)
        state = _state(run)
        current = state.get("type")
        if current != "PAUSED":
            finished = " (it has finished)" if current in _TERMINAL else ""
            raise NotPausedError(f"Flow run {flow_run_id} is {current or 'in no state'}, "
                                 f"not PAUSED{finished}: there is nothing to resume.")
        if (state.get("state_details") or {}).get("pause_reschedule"):
            await _resume_rescheduled(client, flow_run_id, payload)
            return
        pause_key = (state.get("state_details") or {}).get("pause_key")
        if pause_key is None:
            raise NotPausedError(f"Flow run {flow_run_id} is PAUSED without a pause key: "
                                 "no process waits to be resumed through the API.")
        details: dict[str, Any] = {"pause_key": pause_key}
        if run_input is not None:
            details["run_input"] = payload
        result = await client.set_flow_run_state(
            flow_run_id, {"type": "RUNNING", "name": "Running", "state_details": details,
                          "message": "Resumed through the API."},
            expected_state_version=run.get("state_version"))
        if result.get("status") == "ACCEPT":
            return
        if result.get("status") != "ABORT":  # ABORT: the run moved since it was read
            raise _refused(flow_run_id, "resumed", result)
    raise FlowRunStateError(f"Flow run {flow_run_id} kept changing state; try again.")


async def _resume_rescheduled(client: HeadwaterClient, flow_run_id: uuid.UUID,
                              run_input: Any) -> None:
    """Resume a suspended run (``POST /flow_runs/{id}/resume``): it becomes Scheduled, and
    its deployment's runner starts it again; the API checks the input against the schema
    the run saved."""
    from headwater.exceptions import FlowPauseTimeout

    result = await client.resume_flow_run(flow_run_id, run_input=run_input)
    if result.get("status") == "ACCEPT":
        return
    reason = (result.get("details") or {}).get("reason")
    if (result.get("state") or {}).get("type") == "FAILED":
        raise FlowPauseTimeout(f"Flow run can no longer be resumed. ({reason})")
    if result.get("status") == "ABORT":
        raise NotPausedError(f"Flow run {flow_run_id} cannot be resumed: {reason}")
    raise FlowRunStateError(f"Cannot resume this run: {reason}")


def _client_for(flow_run_id: uuid.UUID) -> HeadwaterClient:
    """A client for the process's target; no local database, no run (none is created)."""
    from headwater._private.target import current_target

    target = current_target()
    path = target.sqlite
    if path is not None and not path.exists():
        raise ObjectNotFound(
            f"Flow run {flow_run_id} was not found: it does not run in this process, and "
            f"nothing was recorded under {target.home} (no {path.name}). "
            f"{_RECORDING_HINT}")
    return target.client()


async def cancel_through_api_async(flow_run_id: uuid.UUID, reason: str | None = None) -> None:
    """`request_cancel` with a client for the API in the settings."""
    async with _client_for(flow_run_id) as client:
        await request_cancel(client, flow_run_id, reason)


async def read_through_api(flow_run_id: uuid.UUID) -> dict[str, Any]:
    """Read a flow run recorded by another process, with a client for the API in the settings.

    Raises:
        ObjectNotFound: The API has no flow run with this id.
    """
    async with _client_for(flow_run_id) as client:
        return await _read(client, flow_run_id)


async def resume_through_api_async(flow_run_id: uuid.UUID, run_input: Any = None) -> None:
    """`request_resume` with a client for the API in the settings."""
    _json_input(run_input)  # bad input fails before any I/O
    async with _client_for(flow_run_id) as client:
        await request_resume(client, flow_run_id, run_input)


def cancel_through_api(flow_run_id: uuid.UUID, reason: str | None = None) -> None:
    """Blocking twin of `cancel_through_api_async` (runs it on the background loop)."""
    from headwater._private import background

    background.run(lambda: cancel_through_api_async(flow_run_id, reason))


def resume_through_api(flow_run_id: uuid.UUID, run_input: Any = None) -> None:
    """Blocking twin of `resume_through_api_async` (runs it on the background loop)."""
    from headwater._private import background

    background.run(lambda: resume_through_api_async(flow_run_id, run_input))

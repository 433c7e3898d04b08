"""``headwater flow ls`` and ``flow-run ls|inspect|logs|cancel|resume|delete``.

Each command reads the API of the process's target (``headwater._private.target``):
the server at ``HEADWATER_API_URL``, or the local database when it is unset,
with a client on headwater's background loop. Rich tables for people,
``--json`` for scripts (one shape, ``_output.py``). A run is named by its
id, a unique part of it, or its name (``_lookup.py``).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import typer

from headwater.cli._common import fail
from headwater.cli._lookup import find_flow_run
from headwater.cli._output import (
    JSON_OPTION,
    call,
    duration,
    print_json,
    progress,
    short_id,
    state_name,
    table,
    when,
)
from headwater.cli._task_runs import task_run_app

__all__ = ["find_flow_run", "flow_app", "flow_run_app", "task_run_app"]

flow_app = typer.Typer(no_args_is_help=True, help="Flows that have run.")
flow_run_app = typer.Typer(no_args_is_help=True,
                           help="Inspect, cancel, resume and delete flow runs.")

RUN_ARGUMENT = typer.Argument(help="The flow run's id, a unique part of it, or its name.")
RUNS_ARGUMENT = typer.Argument(help="Flow runs (ids, unique parts of ids, or names).")
LIMIT_HELP = "How many to show (a page)."
OFFSET_HELP = "How many to skip first (the next page: --offset 20)."
FINAL = frozenset({"COMPLETED", "FAILED", "CANCELLED", "CRASHED"})


@flow_app.command("ls")
def flow_ls(limit: int = typer.Option(50, help="How many flows."),
            as_json: bool = JSON_OPTION) -> None:
    """List flows, by name."""
    check_page(limit, 0)
    flows = call(lambda c: c.read_flows(limit=limit))
    if as_json:
        print_json(flows)
        return
    table("Flows", ["Name", "ID", "Created"],
          [[f.get("name"), short_id(f.get("id")), when(f.get("created"))] for f in flows])


def state_type(state: str | None) -> str | None:
    """``--state`` checked before any request: one of the state types, in any case."""
    if state is None:
        return None
    from headwater._private.storage.state_types import StateType

    names = [t.value for t in StateType]
    if state.upper() not in names:
        fail(f"--state {state!r} is not a state type; use one of: {', '.join(names)}.")
    return state.upper()


def check_page(limit: int, offset: int) -> None:
    """``--limit`` and ``--offset`` checked before any request."""
    if limit < 1 or offset < 0:
        fail("--limit must be 1 or more and --offset 0 or more.")


@flow_run_app.command("ls")
def flow_run_ls(flow: str | None = typer.Option(None, "--flow", help="Only runs of this flow."),
                deployment: str | None = typer.Option(
                    None, "--deployment",
                    help="Only runs of this deployment (FLOW/DEPLOYMENT, every version)."),
                state: str | None = typer.Option(
                    None, "--state", help="Only runs in this state type (COMPLETED, FAILED...)."),
                limit: int = typer.Option(20, "--limit", help=LIMIT_HELP),
                offset: int = typer.Option(0, "--offset", help=OFFSET_HELP),
                as_json: bool = JSON_OPTION) -> None:
    """List flow runs, newest first."""
    wanted = state_type(state)
    check_page(limit, offset)

    async def read(client: Any) -> list[dict[str, Any]]:
        if deployment is not None:
            runs = await client.read_deployment_flow_runs(deployment, state_type=wanted,
                                                          limit=limit, offset=offset)
        else:
            runs = await client.read_flow_runs(flow_name=flow, state_type=wanted, limit=limit,
                                               offset=offset)
        return await with_flow_names(client, runs)

    runs = call(read)
    if as_json:
        print_json(runs)
        return
    table("Flow runs", ["ID", "Name", "Flow", "State", "Started", "Duration"],
          [[short_id(r.get("id")), r.get("name"), r.get("flow_name"), state_name(r),
            when(r.get("start_time")), duration(r)] for r in runs])


@flow_run_app.command("inspect")
def flow_run_inspect(flow_run_id: str = RUN_ARGUMENT, as_json: bool = JSON_OPTION) -> None:
    """Show a flow run: its states, task runs, durations, parameters, and why it stopped."""

    async def read(client: Any) -> dict[str, Any]:
        found = await find_flow_run(client, flow_run_id)
        run = (await with_flow_names(client, [found]))[0]
        run["states"] = await client.read_flow_run_states(found["id"])
        run["task_runs"] = await client.read_task_runs(flow_run_id=found["id"], limit=1000)
        if _state_type_of(run) == "SCHEDULED":  # Scheduled or Late: why it does not start
            run["waiting_reasons"] = await client.read_flow_run_waiting_reasons(found["id"])
        return dict(run)

    run = call(read)
    if as_json:
        print_json(run)
        return
    from rich.console import Console

    console = Console()
    console.print(f"[bold]{run.get('name')}[/] ({run.get('id')}) of flow "
                  f"[bold]{run.get('flow_name')}[/]")
    console.print(f"State: [bold]{state_name(run)}[/] "
                  f"{(run.get('state') or {}).get('message') or ''}")
    console.print(f"Parameters: {json.dumps(run.get('parameters') or {}, default=str)}")
    console.print(f"Started {when(run.get('start_time'))}, took {duration(run)}")
    if not is_final(run):
        console.print(f"Not finished: {_reason(run)}")
    for reason in run.get("waiting_reasons") or []:
        console.print(f"  - {reason['message']}", markup=False)
    table("State history", ["Time", "State", "Message"],
          [[when(s.get("timestamp")), s.get("name"), s.get("message")] for s in run["states"]])
    table("Task runs", ["ID", "Name", "State", "Duration"],
          [[short_id(t.get("id")), t.get("name"), state_name(t), duration(t)]
           for t in run["task_runs"]])


async def with_flow_names(client: Any, runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Fill in ``flow_name`` from the runs' ``flow_id`` (the API returns ids)."""
    if not runs or all("flow_name" in r for r in runs):
        return runs
    names = {f["id"]: f["name"] for f in await client.read_flows(limit=10_000)}
    return [{**r, "flow_name": names.get(r.get("flow_id"), r.get("flow_id"))} for r in runs]


def is_final(run: dict[str, Any]) -> bool:
    """Whether a run has ended (completed, failed, cancelled, crashed)."""
    state = run.get("state") or {}
    return str(state.get("type", run.get("state_type", ""))) in FINAL


def _state_type_of(run: dict[str, Any]) -> str:
    return str((run.get("state") or {}).get("type", run.get("state_type", "")))


def _reason(run: dict[str, Any]) -> str:
    state = run.get("state") or {}
    kind = str(state.get("type", run.get("state_type", "")))
    if kind == "PAUSED":
        return "it is paused, waiting to be resumed."
    if kind == "SCHEDULED":
        return "it has not started yet, because:" if run.get("waiting_reasons") else (
            "it has not started yet; nothing keeps it from starting.")
    if kind == "PENDING":
        return "it has not started yet (or its process stopped before it started)."
    if kind == "RUNNING":
        return ("it is still running, or its process died without reporting "
                "(look at the last log lines).")
    return state.get("message") or f"it is {kind or 'in an unknown state'}."


@flow_run_app.command("logs")
def flow_run_logs(flow_run_id: str = RUN_ARGUMENT,
                  follow: bool = typer.Option(False, "--follow", "-f",
                                              help="Keep printing new lines until the run ends."),
                  as_json: bool = JSON_OPTION) -> None:
    """Print a flow run's log lines, oldest first, each with the run that wrote it."""
    from headwater.cli._logs import stream_logs

    async def stream(client: Any) -> None:
        run = await _run_for_logs(client, flow_run_id)
        run_id = run["id"]

        async def final() -> bool:
            return is_final(await client.read_flow_run(run_id))

        await stream_logs(client, {"flow_run_id": {"any_": [str(run_id)]}}, flow_run=run,
                          writer=None, follow=follow, as_json=as_json, is_final=final)

    call(stream)


async def _run_for_logs(client: Any, text: str) -> dict[str, Any]:
    """The run whose lines to print; a full id of a deleted run still has its lines."""
    from headwater.exceptions import ObjectNotFound

    try:
        return await find_flow_run(client, text)
    except ObjectNotFound:
        try:
            run_id = uuid.UUID(text)
        except ValueError:
            run_id = None
        if run_id is None:
            raise
        return {"id": str(run_id), "name": "-"}  # log lines outlive their run


@flow_run_app.command("cancel")
def flow_run_cancel(flow_run_id: str = RUN_ARGUMENT,
                    reason: str | None = typer.Option(
                        None, "--reason", help="The message of the Cancelled state."),
                    wait: bool = typer.Option(
                        False, "--wait", help="Wait until the run has stopped.")) -> None:
    """Cancel a flow run: the process running it stops it and records it Cancelled."""
    from headwater._private.remote_control import request_cancel

    async def cancel(client: Any) -> dict[str, Any]:
        found = await find_flow_run(client, flow_run_id)
        run = await request_cancel(client, uuid.UUID(str(found["id"])), reason)
        return {**found, **dict(run or {}), "id": found["id"]}

    run = call(cancel)
    typer.echo(f"Flow run {run.get('name')!r} ({run.get('id')}) is Cancelling: the process "
               "running it will stop it and record it Cancelled.")
    if wait:
        final = call(lambda client: wait_final(client, run["id"], f"Waiting for {run['name']}"))
        typer.echo(f"Flow run {run.get('name')!r} is {state_name(final)}.")


@flow_run_app.command("resume")
def flow_run_resume(flow_run_id: str = RUN_ARGUMENT,
                    run_input: str | None = typer.Option(
                        None, "--input", help="The input for a pause that waits for some: a "
                        "JSON object, e.g. '{\"approved\": true}'.")) -> None:
    """Resume a paused flow run; a suspended one is scheduled to run again from its
    deployment (its completed tasks with persisted results are not run again)."""
    from headwater._private.remote_control import request_resume

    parsed = _run_input(run_input)

    async def resume(client: Any) -> dict[str, Any]:
        found = await find_flow_run(client, flow_run_id)
        await request_resume(client, uuid.UUID(str(found["id"])), parsed)
        return {**found, **await client.read_flow_run(found["id"])}

    run = call(resume)
    typer.echo(f"Resumed flow run {run.get('name')!r} ({run.get('id')}): it is "
               f"{state_name(run)}.")


def _run_input(text: str | None) -> Any:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError as exc:
        fail(f"--input is not JSON ({exc}); pass an object, e.g. '{{\"approved\": true}}'.")
    if not isinstance(value, dict):
        fail("--input must be a JSON object (the fields of the input the run waits for).")
    return value


async def wait_final(client: Any, run_id: Any, description: str,
                     interval: float = 1.0) -> dict[str, Any]:
    """Poll a flow run until it is final (a spinner on a terminal); return it."""
    import anyio

    with progress(description, None):
        while True:
            run: dict[str, Any] = await client.read_flow_run(run_id)
            if is_final(run):
                return run
            await anyio.sleep(interval)


@flow_run_app.command("delete")
def flow_run_delete(flow_run_ids: list[str] = RUNS_ARGUMENT) -> None:
    """Delete flow runs with their task runs and states (their logs stay)."""

    async def delete(client: Any) -> list[dict[str, Any]]:
        runs = [await find_flow_run(client, text) for text in flow_run_ids]  # all, or none
        with progress("Deleting flow runs", len(runs)) as advance:
            for run in runs:
                await client.delete_flow_run(run["id"])
                advance(1)
        return runs

    for run in call(delete):
        typer.echo(f"Deleted flow run {run.get('name')!r} ({run['id']}).")

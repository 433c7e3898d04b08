"""``headwater flow ls``, ``flow-run ls|inspect|logs|cancel|delete`` and ``task-run ls``.

Each command reads the API of the process's target (``headwater._private.target``):
the server at ``HEADWATER_API_URL``, or the local database when it is unset,
with a client on headwater's background loop. Rich tables for people,
``--json`` for scripts.
"""

from __future__ import annotations

import datetime as _dt
import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio
import typer

from headwater.cli._common import fail

T = TypeVar("T")

flow_app = typer.Typer(no_args_is_help=True, help="Flows that have run.")
flow_run_app = typer.Typer(no_args_is_help=True, help="Inspect, cancel and delete flow runs.")
task_run_app = typer.Typer(no_args_is_help=True, help="Inspect task runs.")

JSON_OPTION = typer.Option(False, "--json", help="Print JSON instead of a table.")


def _call(fn: Callable[[Any], Awaitable[T]]) -> T:
    """Run ``fn(client)`` with a client for the target; headwater's errors become CLI errors."""
    from headwater._private import background
    from headwater._private.target import current_target
    from headwater.exceptions import HeadwaterException

    async def main() -> T:
        async with current_target().client() as client:
            return await fn(client)

    try:
        return background.run(main)
    except HeadwaterException as exc:  # API errors, unknown runs, refused requests
        fail(str(exc))


def _print_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, default=str))


def _table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
    Console().print(table)


def _when(value: Any) -> str:
    if not value:
        return ""
    try:
        moment = _dt.datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _duration(run: dict[str, Any]) -> str:
    seconds = run.get("total_run_time")
    if seconds is None:
        start, end = run.get("start_time"), run.get("end_time")
        if not start or not end:
            return ""
        seconds = (_dt.datetime.fromisoformat(end) - _dt.datetime.fromisoformat(start))
        seconds = seconds.total_seconds()
    return f"{float(seconds):.3f}s"


def _state(run: dict[str, Any]) -> str:
    state = run.get("state") or {}
    return str(state.get("name") or run.get("state_name") or run.get("state_type") or "")


@flow_app.command("ls")
def flow_ls(limit: int = typer.Option(50, help="How many flows."),
            as_json: bool = JSON_OPTION) -> None:
    """List flows, by name."""
    flows = _call(lambda c: c.read_flows(limit=limit))
    if as_json:
        _print_json(flows)
        return
    _table("Flows", ["Name", "ID", "Created"],
           [[f.get("name"), f.get("id"), _when(f.get("created"))] for f in flows])


LIMIT_HELP = "How many to show (a page)."
OFFSET_HELP = "How many to skip first (the next page: --offset 20)."


def _state_type(state: str | None) -> str | None:
    """``--state`` checked before any request: one of the state types, in any case."""
    if state is None:
        return None
    from headwater._private.storage.state_types import StateType

    names = [t.value for t in StateType]
    if state.upper() not in names:
        fail(f"--state {state!r} is not a state type; use one of: {', '.join(names)}.")
    return state.upper()


def _page(limit: int, offset: int) -> None:
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
    state_type = _state_type(state)
    _page(limit, offset)

    async def read(client: Any) -> list[dict[str, Any]]:
        if deployment is not None:
            runs = await client.read_deployment_flow_runs(deployment, state_type=state_type,
                                                          limit=limit, offset=offset)
        else:
            runs = await client.read_flow_runs(flow_name=flow, state_type=state_type,
                                               limit=limit, offset=offset)
        return await _with_flow_names(client, runs)

    runs = _call(read)
    if as_json:
        _print_json(runs)
        return
    _table("Flow runs", ["Name", "Flow", "State", "Started", "Duration", "ID"],
           [[r.get("name"), r.get("flow_name"), _state(r), _when(r.get("start_time")),
             _duration(r), r.get("id")] for r in runs])


async def find_flow_run(client: Any, text: str) -> dict[str, Any]:
    """The flow run ``text`` names: its id, or its name when one run has it.

    Raises:
        ObjectNotFound: No run has that id or name (the message says so), or
            several have that name (the message lists them, newest first).
    """
    from headwater.client import APIError
    from headwater.exceptions import ObjectNotFound

    try:
        run_id = uuid.UUID(text)
    except ValueError:
        run_id = None
    if run_id is not None:
        try:
            run: dict[str, Any] = await client.read_flow_run(run_id)
            return run
        except APIError as exc:
            if exc.status_code != 404:
                raise
    body = {"flow_runs": {"name": {"any_": [text]}}, "limit": 20,
            "sort": "EXPECTED_START_TIME_DESC"}
    named = list(await client.request("POST", "flow_runs/filter", json=body))
    if len(named) == 1:
        return dict(named[0])
    if not named:
        raise ObjectNotFound(f"no flow run with id or name {text!r}; "
                             "'headwater flow-run ls' lists the recent ones.")
    listed = ", ".join(f"{r['id']} ({r.get('state_type') or 'no state'})" for r in named)
    raise ObjectNotFound(f"{len(named)} flow runs are named {text!r}: {listed}; "
                         "give the id of the one you mean.")


@flow_run_app.command("inspect")
def flow_run_inspect(flow_run_id: str = typer.Argument(help="The flow run's id or name."),
                     as_json: bool = JSON_OPTION) -> None:
    """Show a flow run: its states, task runs, durations, parameters, and why it stopped."""

    async def read(client: Any) -> dict[str, Any]:
        found = await find_flow_run(client, flow_run_id)
        flow_run_id_ = found["id"]
        run = (await _with_flow_names(client, [found]))[0]
        run["states"] = await client.read_flow_run_states(flow_run_id_)
        run["task_runs"] = await client.read_task_runs(flow_run_id=flow_run_id_, limit=1000)
        if _state_type_of(run) == "SCHEDULED":
            run["waiting_reasons"] = await client.read_flow_run_waiting_reasons(flow_run_id_)
        return dict(run)

    run = _call(read)
    if as_json:
        _print_json(run)
        return
    from rich.console import Console

    console = Console()
    console.print(f"[bold]{run.get('name')}[/] ({run.get('id')}) of flow "
                  f"[bold]{run.get('flow_name')}[/]")
    console.print(f"State: [bold]{_state(run)}[/] {(run.get('state') or {}).get('message') or ''}")
    console.print(f"Parameters: {json.dumps(run.get('parameters') or {}, default=str)}")
    console.print(f"Started {_when(run.get('start_time'))}, took {_duration(run)}")
    if not _is_final(run):
        console.print(f"Not finished: {_reason(run)}")
    for reason in run.get("waiting_reasons") or []:
        console.print(f"  - {reason['message']}", markup=False)
    _table("State history", ["Time", "State", "Message"],
           [[_when(s.get("timestamp")), s.get("name"), s.get("message")]
            for s in run["states"]])
    _table("Task runs", ["Name", "State", "Duration", "ID"],
           [[t.get("name"), _state(t), _duration(t), t.get("id")] for t in run["task_runs"]])


async def _with_flow_names(client: Any, runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Fill in ``flow_name`` from the runs' ``flow_id`` (the API returns ids)."""
    if not runs or all("flow_name" in r for r in runs):
        return runs
    names = {f["id"]: f["name"] for f in await client.read_flows(limit=10_000)}
    return [{**r, "flow_name": names.get(r.get("flow_id"), r.get("flow_id"))} for r in runs]


def _state_type_of(run: dict[str, Any]) -> str:
    return str((run.get("state") or {}).get("type", run.get("state_type", "")))


def _is_final(run: dict[str, Any]) -> bool:
    state = run.get("state") or {}
    return str(state.get("type", run.get("state_type", ""))) in {
        "COMPLETED", "FAILED", "CANCELLED", "CRASHED"}


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
def flow_run_logs(flow_run_id: str = typer.Argument(help="The flow run's id or name."),
                  follow: bool = typer.Option(False, "--follow", "-f",
                                              help="Keep printing new lines until the run ends."),
                  as_json: bool = JSON_OPTION) -> None:
    """Print a flow run's log lines, oldest first."""

    async def stream(client: Any) -> None:
        try:  # an id is used as it is: log lines outlive a deleted run
            run_id: Any = uuid.UUID(flow_run_id)
        except ValueError:
            run_id = (await find_flow_run(client, flow_run_id))["id"]
        offset = 0
        while True:
            logs = await client.read_logs(flow_run_id=run_id, limit=500, offset=offset)
            for line in logs:
                if as_json:
                    typer.echo(json.dumps(line, default=str))
                else:
                    typer.echo(f"{_when(line.get('timestamp'))} | "
                               f"{_level(line.get('level'))} | {line.get('message')}")
            offset += len(logs)
            if len(logs) == 500:
                continue
            if not follow or _is_final(await client.read_flow_run(run_id)):
                return
            await anyio.sleep(1.0)

    _call(stream)


@flow_run_app.command("cancel")
def flow_run_cancel(flow_run_id: str,
                    reason: str | None = typer.Option(
                        None, "--reason", help="The message of the Cancelled state.")) -> None:
    """Cancel a flow run: the process running it stops it and records it Cancelled."""
    from headwater._private.remote_control import request_cancel

    run_id = _run_id(flow_run_id)
    run = _call(lambda c: request_cancel(c, run_id, reason))
    typer.echo(f"Flow run {run.get('name')!r} ({run_id}) is Cancelling: the process running it "
               "will stop it and record it Cancelled.")


@flow_run_app.command("delete")
def flow_run_delete(flow_run_id: str) -> None:
    """Delete a flow run with its task runs and states (its logs stay)."""
    _call(lambda client: client.delete_flow_run(_run_id(flow_run_id)))
    typer.echo(f"Deleted flow run {flow_run_id}.")


def _run_id(text: str) -> Any:
    """``text`` as a run id, or a CLI error that says what is wrong."""
    import uuid

    try:
        return uuid.UUID(text)
    except ValueError:
        fail(f"{text!r} is not a flow run id (a UUID).")


def _level(level: Any) -> str:
    import logging

    return logging.getLevelName(int(level)) if isinstance(level, int) else str(level)


@task_run_app.command("ls")
def task_run_ls(flow_run: str | None = typer.Option(
                    None, "--flow-run", help="Only the task runs of this flow run (by id)."),
                limit: int = typer.Option(200, "--limit", help=LIMIT_HELP),
                offset: int = typer.Option(0, "--offset", help=OFFSET_HELP),
                as_json: bool = JSON_OPTION) -> None:
    """List the task runs of a flow run, oldest first, or the most recent task runs."""
    _page(limit, offset)
    sort = "EXPECTED_START_TIME_ASC" if flow_run is not None else "EXPECTED_START_TIME_DESC"
    runs = _call(lambda c: c.read_task_runs(flow_run_id=flow_run, limit=limit, offset=offset,
                                            sort=sort))
    if as_json:
        _print_json(runs)
        return
    _table("Task runs", ["Name", "State", "Started", "Duration", "ID"],
           [[r.get("name"), _state(r), _when(r.get("start_time")), _duration(r), r.get("id")]
            for r in runs])

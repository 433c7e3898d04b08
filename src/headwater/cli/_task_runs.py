"""``headwater task-run ls|inspect|logs``.

A task run is named like a flow run: its id, a unique part of it, or its
name (``_lookup.py``); ``--flow-run`` takes a flow run the same way.
"""

from __future__ import annotations

import json
from typing import Any

import typer

from headwater.cli._lookup import find_flow_run, find_task_run
from headwater.cli._output import (
    JSON_OPTION,
    call,
    duration,
    print_json,
    short_id,
    state_name,
    table,
    when,
)

__all__ = ["task_run_app"]

task_run_app = typer.Typer(no_args_is_help=True, help="Inspect task runs.")

TASK_RUN_ARGUMENT = typer.Argument(help="The task run's id, a unique part of it, or its name.")
FINAL = frozenset({"COMPLETED", "FAILED", "CANCELLED", "CRASHED"})


@task_run_app.command("ls")
def task_run_ls(flow_run: str | None = typer.Option(
                    None, "--flow-run",
                    help="Only the task runs of this flow run (id, part of it, or name)."),
                limit: int = typer.Option(200, "--limit", help="How many to show (a page)."),
                offset: int = typer.Option(0, "--offset", help="How many to skip first."),
                as_json: bool = JSON_OPTION) -> None:
    """List the task runs of a flow run, oldest first, or the most recent task runs."""
    from headwater.cli._runs import check_page

    check_page(limit, offset)
    sort = "EXPECTED_START_TIME_ASC" if flow_run is not None else "EXPECTED_START_TIME_DESC"

    async def read(client: Any) -> list[dict[str, Any]]:
        run_id = None if flow_run is None else (await find_flow_run(client, flow_run))["id"]
        return list(await client.read_task_runs(flow_run_id=run_id, limit=limit,
                                                offset=offset, sort=sort))

    runs = call(read)
    if as_json:
        print_json(runs)
        return
    table("Task runs", ["ID", "Name", "State", "Started", "Duration"],
          [[short_id(r.get("id")), r.get("name"), state_name(r), when(r.get("start_time")),
            duration(r)] for r in runs])


@task_run_app.command("inspect")
def task_run_inspect(task_run_id: str = TASK_RUN_ARGUMENT, as_json: bool = JSON_OPTION) -> None:
    """Show a task run: its flow run, states, duration, inputs and why it stopped."""

    async def read(client: Any) -> dict[str, Any]:
        run = await find_task_run(client, task_run_id)
        run["states"] = await client.read_task_run_states(run["id"])
        if run.get("flow_run_id"):
            flow_run = await client.read_flow_run(run["flow_run_id"])
            run["flow_run_name"] = flow_run.get("name")
        return run

    run = call(read)
    if as_json:
        print_json(run)
        return
    from rich.console import Console

    console = Console()
    owner = (f"in flow run [bold]{run.get('flow_run_name')}[/] ({run.get('flow_run_id')})"
             if run.get("flow_run_id") else "outside any flow run")
    console.print(f"[bold]{run.get('name')}[/] ({run.get('id')}) {owner}")
    console.print(f"State: [bold]{state_name(run)}[/] "
                  f"{(run.get('state') or {}).get('message') or ''}")
    console.print(f"Task key: {run.get('task_key')}, tags: {', '.join(run.get('tags') or [])}")
    if run.get("task_inputs"):
        console.print(f"Inputs: {json.dumps(run.get('task_inputs'), default=str)}")
    console.print(f"Started {when(run.get('start_time'))}, took {duration(run)}, "
                  f"run count {run.get('run_count', 0)}")
    table("State history", ["Time", "State", "Message"],
          [[when(s.get("timestamp")), s.get("name"), s.get("message")] for s in run["states"]])


@task_run_app.command("logs")
def task_run_logs(task_run_id: str = TASK_RUN_ARGUMENT,
                  follow: bool = typer.Option(False, "--follow", "-f",
                                              help="Keep printing new lines until the run ends."),
                  as_json: bool = JSON_OPTION) -> None:
    """Print the log lines a task run wrote, oldest first."""
    from headwater.cli._logs import stream_logs

    async def stream(client: Any) -> None:
        run = await find_task_run(client, task_run_id)

        async def final() -> bool:
            now = await client.request("GET", f"task_runs/{run['id']}")
            return str(now.get("state_type")) in FINAL

        await stream_logs(client, {"task_run_id": {"any_": [str(run["id"])]}}, flow_run=None,
                          writer=str(run.get("name")), follow=follow, as_json=as_json,
                          is_final=final)

    call(stream)

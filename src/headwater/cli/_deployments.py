"""``headwater deployment ...``, ``deployment schedule ...`` and ``project ...``.

A deployment is named ``FLOW/DEPLOYMENT`` (or given by a version's id).
Each command is one or two API calls through the process's target (the
server at ``HEADWATER_API_URL``, or the local database), as in ``_runs.py``:
rich tables for people, ``--json`` for scripts, one-line ``Error:`` messages.
"""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any

import anyio
import typer

from headwater.cli._common import fail
from headwater.cli._deploy import parse_params as key_values
from headwater.cli._output import (
    JSON_OPTION,
    call,
    print_json,
    short_id,
    state_name,
    table,
    when,
)
from headwater.cli._runs import LIMIT_HELP, OFFSET_HELP, check_page

__all__ = ["deployment_app", "project_app"]

deployment_app = typer.Typer(no_args_is_help=True,
                             help="Deployments: registered, versioned, scheduled flows.")
schedule_app = typer.Typer(no_args_is_help=True, help="The schedules of a deployment.")
project_app = typer.Typer(no_args_is_help=True, help="Projects: groups of deployments.")
deployment_app.add_typer(schedule_app, name="schedule")

NAME_ARG = typer.Argument(help="The deployment: FLOW/DEPLOYMENT (or a version's id).")
SCHEDULE_ARG = typer.Argument(help="The schedule's id, or the part 'schedule ls' shows.")
_FINAL = {"COMPLETED", "FAILED", "CANCELLED", "CRASHED"}


async def find_deployment(client: Any, name: str) -> dict[str, Any]:
    """The deployment ``name`` names: ``FLOW/DEPLOYMENT`` (current version) or an id."""
    try:
        return dict(await client.read_deployment(uuid.UUID(name)))
    except ValueError:
        pass
    if "/" not in name and _looks_like_id_part(name):
        return await _deployment_by_id_part(client, name)
    if "/" not in name:
        from headwater.exceptions import InvalidNameError

        raise InvalidNameError(f"{name!r} is not a deployment: name it FLOW/DEPLOYMENT (e.g. "
                               "'etl/nightly'; 'headwater deployment ls' lists them) or give "
                               "a version's id.")
    return dict(await client.read_deployment_by_name(name))


def _looks_like_id_part(text: str) -> bool:
    hexed = text.replace("-", "")
    return len(hexed) >= 4 and all(ch in "0123456789abcdefABCDEF" for ch in hexed)


async def _deployment_by_id_part(client: Any, part: str) -> dict[str, Any]:
    """The one deployment version whose id contains ``part`` (tables show 8 hex digits)."""
    from headwater.exceptions import ObjectNotFound

    body = {"deployments": {"id": {"like_": part}, "archived": {"eq_": None}}, "limit": 20}
    found = list(await client.request("POST", "deployments/filter", json=body))
    if len(found) == 1:
        return dict(found[0])
    if not found:
        raise ObjectNotFound(f"no deployment with id {part!r}; 'headwater deployment ls' "
                             "lists them by FLOW/DEPLOYMENT name.")
    listed = ", ".join(f"{_full_name(d)} {d.get('version')} ({d.get('id')})" for d in found)
    raise ObjectNotFound(f"{len(found)} deployment versions have {part!r} in their id: "
                         f"{listed}; give more of the id.")


def find_schedule(schedules: list[dict[str, Any]], part: str) -> dict[str, Any]:
    """The schedule whose id is or contains ``part`` (tables show its last 8 hex digits)."""
    from headwater.exceptions import ObjectNotFound

    wanted = part.replace("-", "").lower()
    found = [s for s in schedules if wanted in str(s.get("id", "")).replace("-", "")]
    if len(found) == 1:
        return found[0]
    if not found:
        raise ObjectNotFound(f"no schedule with id {part!r}; 'headwater deployment schedule "
                             "ls NAME' lists them.")
    raise ObjectNotFound(f"{len(found)} schedules have {part!r} in their id; give more of it.")


def describe_schedule(schedule: dict[str, Any]) -> str:
    """A schedule's JSON in a few words: ``cron '0 9 * * *' (Europe/Paris)``."""
    zone = f" ({schedule['timezone']})" if schedule.get("timezone") else ""
    if "cron" in schedule:
        return f"cron {schedule['cron']!r}{zone}"
    if "interval" in schedule:
        anchor = f" from {schedule['anchor_date']}" if schedule.get("anchor_date") else ""
        return f"every {_seconds(float(schedule['interval']))}{anchor}{zone}"
    if "rrule" in schedule:
        return f"rrule {schedule['rrule']!r}{zone}"
    return json.dumps(schedule)


def _seconds(value: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if value >= size and value % size == 0:
            return f"{int(value // size)}{unit}"
    return f"{value:g}s"


def _full_name(d: dict[str, Any]) -> str:
    return f"{d.get('flow_name')}/{d.get('name')}"


def _schedules_cell(d: dict[str, Any]) -> str:
    schedules = d.get("schedules") or []
    active = sum(1 for s in schedules if s.get("active"))
    return f"{active}/{len(schedules)} active" if schedules else ""


@deployment_app.command("ls")
def deployment_ls(flow: str | None = typer.Option(None, "--flow", help="Only this flow's."),
                  project: str | None = typer.Option(None, "--project",
                                                     help="Only this project's."),
                  tag: Annotated[list[str] | None, typer.Option(
                      "--tag", help="Only those with this tag.")] = None,
                  archived: bool = typer.Option(False, "--archived",
                                                help="List archived versions too."),
                  limit: int = typer.Option(50, "--limit", help=LIMIT_HELP),
                  offset: int = typer.Option(0, "--offset", help=OFFSET_HELP),
                  as_json: bool = JSON_OPTION) -> None:
    """List deployments (their current versions), by name."""
    check_page(limit, offset)
    rows = call(lambda c: c.read_deployments(
        flow_name=flow, project=project, tags=tag or None,
        archived=None if archived else False, limit=limit, offset=offset))
    if as_json:
        print_json(rows)
        return
    table("Deployments", ["Name", "Version", "Project", "Status", "Schedules", "Tags", "ID"],
           [[_full_name(d), d.get("version"), d.get("project"), _status(d),
             _schedules_cell(d), ", ".join(d.get("tags") or []), short_id(d.get("id"))]
            for d in rows])


def _status(d: dict[str, Any]) -> str:
    return "archived" if d.get("archived") else "paused" if d.get("paused") else "ready"


@deployment_app.command("inspect")
def deployment_inspect(name: str = NAME_ARG, as_json: bool = JSON_OPTION) -> None:
    """Show a deployment: version, code, parameters, schedules, settings."""
    d = call(lambda c: find_deployment(c, name))
    if as_json:
        print_json(d)
        return
    from rich.console import Console

    console = Console()
    console.print(f"[bold]{_full_name(d)}[/] version [bold]{d.get('version')}[/] "
                  f"({_status(d)}), project {d.get('project')}")
    console.print(f"ID: {d.get('id')}  hash: {d.get('version_hash')}")
    console.print(f"Entrypoint: {d.get('entrypoint') or ''}  code: "
                  f"{json.dumps(d.get('code_location'))}")
    console.print(f"Parameters: {json.dumps(d.get('parameters') or {}, default=str)}")
    lateness = d.get("max_lateness_seconds")
    console.print(f"Late runs: {d.get('late_runs')} after "
                  f"{'no limit' if lateness is None else _seconds(float(lateness))}; "
                  f"catch-up {'on' if d.get('catchup') else 'off'}")
    if d.get("work_pool_name") or d.get("work_queue_name"):
        console.print(f"Work pool: {d.get('work_pool_name')}  queue: {d.get('work_queue_name')}")
    console.print(f"Liveness: {describe_switches(d)}")
    _schedule_table(d.get("schedules") or [])


def describe_switches(d: dict[str, Any]) -> str:
    """The liveness switches in words: ``heartbeats on, Lazarus on, version lock off``."""
    def on(key: str, default: bool) -> str:
        value = d.get(key)
        return "on" if (default if value is None else value) else "off"

    return (f"heartbeats {on('heartbeat', True)}, Lazarus {on('lazarus', True)}, "
            f"version lock {on('version_lock', False)}")


@deployment_app.command("set")
def deployment_set(
        name: str = NAME_ARG,
        heartbeat: Annotated[bool | None, typer.Option(
            "--heartbeat/--no-heartbeat",
            help="Its runs send heartbeats; off: the zombie check never judges them.")] = None,
        lazarus: Annotated[bool | None, typer.Option(
            "--lazarus/--no-lazarus",
            help="A run of it that crashed is rescheduled (Lazarus).")] = None,
        version_lock: Annotated[bool | None, typer.Option(
            "--version-lock/--no-version-lock",
            help="Its runs and their task runs start once and only once.")] = None,
        as_json: bool = JSON_OPTION) -> None:
    """Turn a deployment's liveness switches on or off (every version; no new version).

    Runs already created follow the new setting when they next start (and
    Lazarus reads it when their process dies).
    """
    switches = {k: v for k, v in (("heartbeat", heartbeat), ("lazarus", lazarus),
                                  ("version_lock", version_lock)) if v is not None}
    if not switches:
        fail("Nothing to set: give --heartbeat/--no-heartbeat, --lazarus/--no-lazarus or "
             "--version-lock/--no-version-lock.")

    async def update(client: Any) -> dict[str, Any]:
        d = await find_deployment(client, name)
        if d.get("archived"):
            current = await client.read_deployment_by_name(_full_name(d))
            d = dict(current)  # the switches are the deployment's: set them through its current
        await client.update_deployment(d["id"], **switches)
        return dict(await client.read_deployment(d["id"]))

    d = call(update)
    if as_json:
        print_json(d)
        return
    typer.echo(f"{_full_name(d)}: {describe_switches(d)}.")


def _schedule_table(schedules: list[dict[str, Any]]) -> None:
    table("Schedules", ["Schedule", "Active", "Parameters", "ID"],
           [[describe_schedule(s.get("schedule") or {}), "yes" if s.get("active") else "no",
             json.dumps(s.get("parameters") or {}, default=str), short_id(s.get("id"))]
            for s in schedules])


def parse_params(pairs: list[str], params_json: str | None) -> dict[str, Any]:
    """``-p x=1 -p name=abc`` (values read as JSON, else text) over ``--params '{...}'``."""
    values: dict[str, Any] = {}
    if params_json:
        try:
            loaded = json.loads(params_json)
        except ValueError as exc:
            fail(f"--params is not JSON ({exc}); write e.g. --params '{{\"x\": 1}}'.")
        if not isinstance(loaded, dict):
            fail("--params must be a JSON object, e.g. --params '{\"x\": 1}'.")
        values.update(loaded)
    values.update(key_values(pairs, "-p"))
    return values


@deployment_app.command("run")
def deployment_run(name: str = NAME_ARG,
                   param: Annotated[list[str] | None, typer.Option(
                       "--param", "-p", help="A parameter, KEY=VALUE (JSON or text).")] = None,
                   params: str | None = typer.Option(None, "--params",
                                                     help="Parameters as a JSON object."),
                   tag: Annotated[list[str] | None, typer.Option(
                       "--tag", help="A tag for the run.")] = None,
                   key: str | None = typer.Option(None, "--idempotency-key",
                                                  help="Create the run once per key."),
                   watch: bool = typer.Option(False, "--watch",
                                              help="Wait for the run, printing its states; "
                                                   "exit 1 unless it completes."),
                   as_json: bool = JSON_OPTION) -> None:
    """Create a run of a deployment's current version (a worker or serve process runs it)."""
    values = parse_params(param or [], params)

    async def create(client: Any) -> dict[str, Any]:
        d = await find_deployment(client, name)
        run: dict[str, Any] = await client.create_flow_run_from_deployment(
            d["id"], parameters=values, tags=tag or None, idempotency_key=key)
        return run

    run = call(create)
    if as_json and not watch:
        print_json(run)
        return
    typer.echo(f"Created flow run {run.get('name')!r} ({run.get('id')}) of {name}, "
               f"{state_name(run)}.")
    if watch:
        final = call(lambda c: _watch(c, str(run["id"])))
        if as_json:
            print_json(final)
        if str(final.get("state_type")) != "COMPLETED":
            raise typer.Exit(1)


async def _watch(client: Any, run_id: str, poll: float = 1.0) -> dict[str, Any]:
    """Print each new state of a run until it is final; return the run."""
    seen = None
    while True:
        run: dict[str, Any] = await client.read_flow_run(run_id)
        state = (run.get("state") or {})
        shown = (state.get("id"), state.get("name"))
        if shown != seen:
            seen = shown
            message = f": {state['message']}" if state.get("message") else ""
            typer.echo(f"{when(state.get('timestamp'))} {state.get('name')}{message}")
        if str(run.get("state_type")) in _FINAL:
            return run
        await anyio.sleep(poll)


@deployment_app.command("versions")
def deployment_versions(name: str = typer.Argument(help="The deployment: FLOW/DEPLOYMENT."),
                        as_json: bool = JSON_OPTION) -> None:
    """List every version of a deployment, newest first."""
    rows = call(lambda c: c.read_deployment_versions(name))
    if as_json:
        print_json(rows)
        return
    table(f"Versions of {name}", ["Version", "Status", "Created", "Hash", "ID"],
           [[d.get("version"), "current" if not d.get("archived") else "archived",
             when(d.get("created")), str(d.get("version_hash"))[:12], short_id(d.get("id"))]
            for d in rows])


@deployment_app.command("pause")
def deployment_pause(name: str = NAME_ARG) -> None:
    """Pause a deployment: no new scheduled runs; those planned and not started go."""
    d = call(lambda c: _apply(c, name, "pause_deployment"))
    typer.echo(f"Paused {_full_name(d)} (version {d.get('version')}).")


@deployment_app.command("resume")
def deployment_resume(name: str = NAME_ARG) -> None:
    """Resume a paused deployment: its schedules plan runs again."""
    d = call(lambda c: _apply(c, name, "resume_deployment"))
    typer.echo(f"Resumed {_full_name(d)} (version {d.get('version')}).")


async def _apply(client: Any, name: str, method: str) -> dict[str, Any]:
    d = await find_deployment(client, name)
    result: dict[str, Any] = await getattr(client, method)(d["id"])
    return result


@deployment_app.command("delete")
def deployment_delete(name: str = NAME_ARG) -> None:
    """Delete a deployment, every version of it (given by name) or one version (by id).

    Its runs stay (those planned by its schedules and not started go).
    """
    async def delete(client: Any) -> int:
        d = await find_deployment(client, name)
        versions = ([d] if _is_id(name) else
                    await client.read_deployment_versions(_full_name(d)))
        for version in versions:
            await client.delete_deployment(version["id"])
        return len(versions)

    count = call(delete)
    typer.echo(f"Deleted {name} ({count} version{'s' if count != 1 else ''}).")


def _is_id(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


@schedule_app.command("ls")
def schedule_ls(name: str = NAME_ARG, as_json: bool = JSON_OPTION) -> None:
    """List a deployment's schedules."""
    async def read(client: Any) -> list[dict[str, Any]]:
        d = await find_deployment(client, name)
        return list(await client.read_deployment_schedules(d["id"]))

    rows = call(read)
    if as_json:
        print_json(rows)
        return
    _schedule_table(rows)


def _set_active(name: str, schedule_id: str, active: bool) -> None:
    async def update(client: Any) -> None:
        d = await find_deployment(client, name)
        schedule = find_schedule(await client.read_deployment_schedules(d["id"]), schedule_id)
        await client.update_deployment_schedule(d["id"], schedule["id"], active=active)

    call(update)
    typer.echo(f"Schedule {schedule_id} of {name} is {'active' if active else 'paused'}.")


@schedule_app.command("pause")
def schedule_pause(name: str = NAME_ARG,
                   schedule_id: str = SCHEDULE_ARG
                   ) -> None:
    """Pause one schedule of a deployment (its planned runs not started go)."""
    _set_active(name, schedule_id, False)


@schedule_app.command("resume")
def schedule_resume(name: str = NAME_ARG,
                    schedule_id: str = SCHEDULE_ARG
                    ) -> None:
    """Resume a paused schedule of a deployment."""
    _set_active(name, schedule_id, True)


@project_app.command("ls")
def project_ls(as_json: bool = JSON_OPTION) -> None:
    """List projects."""
    rows = call(lambda c: c.read_projects())
    if as_json:
        print_json(rows)
        return
    table("Projects", ["Name", "Description", "Created"],
           [[p.get("name"), p.get("description"), when(p.get("created"))] for p in rows])


@project_app.command("create")
def project_create(name: str = typer.Argument(help="The project's name."),
                   description: str | None = typer.Option(None, "--description",
                                                          help="What it groups.")) -> None:
    """Create a project (deployments name it with --project)."""
    project = call(lambda c: c.create_project(name, description))
    typer.echo(f"Project {project.get('name')!r} ({project.get('id')}).")

"""``headwater deploy path/file.py:fn --name NAME``: register a deployment of a flow."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from headwater.cli._common import fail

__all__ = ["deploy"]


def parse_params(items: list[str], option: str = "--param") -> dict[str, Any]:
    """``["x=1", "name=abc"]`` -> ``{"x": 1, "name": "abc"}`` (JSON values when they are).

    ``option`` is the flag the items came from, named in the error.
    """
    out: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key:
            fail(f"{option} {item!r}: give it as name=value, e.g. {option} x=1.")
        try:
            out[key] = json.loads(text)
        except ValueError:
            out[key] = text
    return out


def deploy(
    entrypoint: Annotated[str, typer.Argument(help="The flow: path/to/file.py:flow_function.")],
    name: Annotated[str, typer.Option("--name", "-n", help="The deployment's name.")],
    pool: Annotated[str | None, typer.Option("--pool", "-p", help="Work pool of its workers.")]
    = None,
    work_queue: Annotated[str | None, typer.Option("--work-queue", "-q", help="Work queue.")]
    = None,
    cron: Annotated[list[str] | None, typer.Option(
        "--cron", help="A cron schedule (repeatable).")] = None,
    interval: Annotated[list[float] | None, typer.Option(
        "--interval", help="An interval schedule, in seconds (repeatable).")] = None,
    rrule: Annotated[list[str] | None, typer.Option(
        "--rrule", help="An RRule schedule (repeatable).")] = None,
    timezone: Annotated[str | None, typer.Option(
        "--timezone", help="The schedules' time zone.")] = None,
    param: Annotated[list[str] | None, typer.Option(
        "--param", help="A default parameter, name=value (repeatable).")] = None,
    tag: Annotated[list[str] | None, typer.Option(
        "--tag", "-t", help="A tag of its runs (repeatable).")] = None,
    label: Annotated[list[str] | None, typer.Option(
        "--label", help="A label (repeatable).")] = None,
    version: Annotated[str | None, typer.Option(
        "--version", "-v", help="The version; default: the content hash.")] = None,
    project: Annotated[str | None, typer.Option(
        "--project", help="Its project (default 'default').")] = None,
    description: Annotated[str | None, typer.Option("--description", "-d")] = None,
    paused: Annotated[bool, typer.Option("--paused", help="Register it paused.")] = False,
    git_url: Annotated[str | None, typer.Option(
        "--git-url", help="Run the code from this git repository (with --commit) instead of "
        "this folder.")] = None,
    commit: Annotated[str | None, typer.Option("--commit", help="The commit of --git-url.")]
    = None,
    subdirectory: Annotated[str | None, typer.Option(
        "--subdirectory", help="The folder of --git-url the entrypoint is relative to.")]
    = None,
    heartbeat: Annotated[bool | None, typer.Option(
        "--heartbeat/--no-heartbeat", help="Its runs send heartbeats (default: on, or as "
        "the deployment has it).")] = None,
    lazarus: Annotated[bool | None, typer.Option(
        "--lazarus/--no-lazarus", help="Its crashed runs are rescheduled (default: on, or "
        "as the deployment has it).")] = None,
    version_lock: Annotated[bool | None, typer.Option(
        "--version-lock/--no-version-lock", help="Its runs start once and only once "
        "(default: off, or as the deployment has it).")] = None,
) -> None:
    """Register a deployment of a flow for workers; unchanged code is a no-op that says so.

    The entrypoint is checked without running the file (a top-level @flow
    function), then imported to read its parameters. Its code location is
    the current folder, or --git-url at --commit. The liveness switches
    (--no-heartbeat, --no-lazarus, --version-lock) are not part of the
    version: changing one changes the deployment, not its version.
    """
    from headwater._private.deployments.code import load_flow
    from headwater._private.deployments.discovery import check_entrypoint
    from headwater._private.deployments.flow_methods import describe_registration, to_deployment
    from headwater._private.deployments.runner_deployment import register_sync

    root = Path.cwd()
    check_entrypoint(entrypoint, root)
    flow = load_flow(entrypoint, root)
    location: dict[str, Any] = {"kind": "local", "path": str(root.resolve())}
    if git_url is not None:
        if not commit:
            fail("--git-url needs --commit (the commit workers check out).")
        location = {"kind": "git", "url": git_url, "commit": commit,
                    "subdirectory": subdirectory}
    deployment = to_deployment(
        flow, name, cron=cron or None, interval=interval or None, rrule=rrule or None,
        timezone=timezone, parameters=parse_params(param or []), tags=tag, labels=label,
        version=version, project=project, description=description, paused=paused,
        work_pool_name=pool, work_queue_name=work_queue, entrypoint=entrypoint,
        code_location=location, heartbeat=heartbeat, lazarus=lazarus,
        version_lock=version_lock)
    row, created = register_sync(deployment)
    typer.echo(describe_registration(deployment, row, created))
    if created:
        typer.echo(f"Run it with: headwater deployment run '{deployment.full_name}'")

"""``headwater deploy path/file.py:fn --name NAME``: register a deployment of a flow."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from headwater.cli._common import fail

__all__ = ["deploy"]


def parse_params(items: list[str]) -> dict[str, Any]:
    """``["x=1", "name=abc"]`` -> ``{"x": 1, "name": "abc"}`` (JSON values when they are)."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key:
            fail(f"--param {item!r}: give it as name=value, e.g. --param x=1.")
        try:
            out[key] = json.loads(text)
        except ValueError:
            out[key] = text
    return out


def deploy(
    entrypoint: str = typer.Argument(..., help="The flow: path/to/file.py:flow_function."),
    name: str = typer.Option(..., "--name", "-n", help="The deployment's name."),
    pool: str | None = typer.Option(None, "--pool", "-p", help="Work pool of its workers."),
    work_queue: str | None = typer.Option(None, "--work-queue", "-q", help="Work queue."),
    cron: list[str] | None = typer.Option(None, "--cron", help="A cron schedule (repeatable)."),
    interval: list[float] | None = typer.Option(None, "--interval",
                                         help="An interval schedule, in seconds (repeatable)."),
    rrule: list[str] | None = typer.Option(None, "--rrule", help="An RRule schedule (repeatable)."),
    timezone: str | None = typer.Option(None, "--timezone", help="The schedules' time zone."),
    param: list[str] | None = typer.Option(None, "--param", help="A default parameter, name=value."),
    tag: list[str] | None = typer.Option(None, "--tag", "-t", help="A tag of its runs (repeatable)."),
    label: list[str] | None = typer.Option(None, "--label", help="A label (repeatable)."),
    version: str | None = typer.Option(None, "--version", "-v",
                                       help="The version; default: the content hash."),
    project: str | None = typer.Option(None, "--project", help="Its project (default "
                                       "'default')."),
    description: str | None = typer.Option(None, "--description", "-d"),
    paused: bool = typer.Option(False, "--paused", help="Register it paused."),
    git_url: str | None = typer.Option(None, "--git-url", help="Run the code from this git "
                                       "repository (with --commit) instead of this folder."),
    commit: str | None = typer.Option(None, "--commit", help="The commit of --git-url."),
    subdirectory: str | None = typer.Option(None, "--subdirectory",
                                            help="The folder of --git-url the entrypoint is "
                                            "relative to."),
) -> None:
    """Register a deployment of a flow for workers; unchanged code is a no-op that says so.

    The entrypoint is checked without running the file (a top-level @flow
    function), then imported to read its parameters. Its code location is
    the current folder, or --git-url at --commit.
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
        code_location=location)
    row, created = register_sync(deployment)
    typer.echo(describe_registration(deployment, row, created))
    if created:
        typer.echo(f"Run it with: headwater deployment run '{deployment.full_name}'")

"""The ``headwater`` typer app: its command groups, ``version``, and `main`."""

from __future__ import annotations

import os
import sys

import typer

from headwater.cli._concurrency import concurrency_app
from headwater.cli._config import config_app
from headwater.cli._deploy import deploy
from headwater.cli._deployments import deployment_app, project_app
from headwater.cli._migrate import migrate
from headwater.cli._profile import profile_app
from headwater.cli._records import records_app
from headwater.cli._runs import flow_app, flow_run_app, task_run_app
from headwater.cli._server import server_app
from headwater.cli._ui import ui
from headwater.cli._work_pools import work_pool_app, work_queue_app
from headwater.cli._worker import worker_app

__all__ = ["app", "main"]

_debug = False  # --debug: errors keep their tracebacks

# Commands that must work while the settings are broken, to fix them.
_NO_LOGGING_SETUP = frozenset({"config", "profile", "migrate"})

app = typer.Typer(name="headwater", no_args_is_help=True, add_completion=False,
                  help="headwater: an asyncio-native workflow runtime with Prefect 2's API.")
app.add_typer(config_app, name="config")
app.add_typer(profile_app, name="profile")
app.add_typer(server_app, name="server")
app.add_typer(concurrency_app, name="concurrency-limit")
app.add_typer(flow_app, name="flow")
app.add_typer(deployment_app, name="deployment")
app.add_typer(project_app, name="project")
app.add_typer(flow_run_app, name="flow-run")
app.add_typer(task_run_app, name="task-run")
app.add_typer(records_app, name="records")
app.add_typer(work_pool_app, name="work-pool")
app.add_typer(work_queue_app, name="work-queue")
app.add_typer(worker_app, name="worker")
app.command("migrate")(migrate)
app.command("ui")(ui)
app.command("deploy")(deploy)


def _print_version(value: bool) -> None:
    if value:
        from headwater import __version__

        typer.echo(f"headwater {__version__}")
        raise typer.Exit()


@app.callback()
def _entry(ctx: typer.Context,
           _version: bool = typer.Option(False, "--version", callback=_print_version,
                                         is_eager=True, help="Print the version and exit."),
           debug: bool = typer.Option(False, "--debug",
                                      help="Show tracebacks of errors (also HEADWATER_DEBUG=1).")
           ) -> None:
    """headwater: an asyncio-native workflow runtime with Prefect 2's API."""
    global _debug
    _debug = debug
    if ctx.invoked_subcommand not in _NO_LOGGING_SETUP:
        from headwater._private.logging_config import setup_logging

        setup_logging()


@app.command("version")
def version() -> None:
    """Print headwater's version, Python's, and where runs are recorded."""
    import platform

    from headwater import __version__
    from headwater._private.settings import get_current_settings
    from headwater._private.target import current_target

    settings = get_current_settings()
    target = current_target()
    where = (f"server at {target.api_url}" if target.api_url
             else f"embedded, {target.sqlite or 'HEADWATER_API_DATABASE_CONNECTION_URL'}")
    if not target.recording:
        where += " (recording off: set HEADWATER_API_ENABLE_RECORDING=true)"
    typer.echo(f"Version:   {__version__}")
    typer.echo(f"Python:    {platform.python_version()}")
    typer.echo(f"API:       {where}")
    typer.echo(f"Profile:   {settings.profile or 'default'}")


def main() -> None:
    """Run the ``headwater`` command line.

    A user error (a bad setting, an invalid logging file, a run that does not
    exist...) is one line on stderr with what to do, and exit status 1 (2 for
    a bad setting, as for a bad option); its traceback only with ``--debug``
    or ``HEADWATER_DEBUG=1``.
    """
    from headwater.exceptions import HeadwaterException, SettingsError

    try:
        app()  # usage errors: click's own message and exit status
    except HeadwaterException as exc:
        if _debug or os.environ.get("HEADWATER_DEBUG", "").lower() in ("1", "true", "yes"):
            raise
        typer.secho(f"Error: {exc}", err=True, fg=typer.colors.RED)
        sys.exit(2 if isinstance(exc, SettingsError) else 1)

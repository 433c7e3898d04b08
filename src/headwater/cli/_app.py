"""The ``headwater`` typer app: its command groups, ``version``, and `main`."""

from __future__ import annotations

import typer

from headwater.cli._concurrency import concurrency_app
from headwater.cli._config import config_app
from headwater.cli._migrate import migrate
from headwater.cli._profile import profile_app
from headwater.cli._records import records_app
from headwater.cli._runs import flow_app, flow_run_app, task_run_app
from headwater.cli._server import server_app

__all__ = ["app", "main"]

# Commands that must work while the settings are broken, to fix them.
_NO_LOGGING_SETUP = frozenset({"config", "profile", "migrate"})

app = typer.Typer(name="headwater", no_args_is_help=True, add_completion=False,
                  help="headwater: an asyncio-native workflow runtime with Prefect 2's API.")
app.add_typer(config_app, name="config")
app.add_typer(profile_app, name="profile")
app.add_typer(server_app, name="server")
app.add_typer(concurrency_app, name="concurrency-limit")
app.add_typer(flow_app, name="flow")
app.add_typer(flow_run_app, name="flow-run")
app.add_typer(task_run_app, name="task-run")
app.add_typer(records_app, name="records")
app.command("migrate")(migrate)


@app.callback()
def _entry(ctx: typer.Context) -> None:
    """headwater: an asyncio-native workflow runtime with Prefect 2's API."""
    if ctx.invoked_subcommand not in _NO_LOGGING_SETUP:
        from headwater._private.logging_config import setup_logging

        setup_logging()


@app.command("version")
def version() -> None:
    """Print headwater's version, Python's, and where runs are recorded."""
    import platform

    from headwater import __version__
    from headwater._private.settings import get_current_settings

    settings = get_current_settings()
    api = settings.api
    where = f"server at {api.url}" if api.url else f"embedded, {settings.home / 'headwater.db'}"
    if not api.enable_recording:
        where += " (recording off: set HEADWATER_API_ENABLE_RECORDING=true)"
    typer.echo(f"Version:   {__version__}")
    typer.echo(f"Python:    {platform.python_version()}")
    typer.echo(f"API:       {where}")
    typer.echo(f"Profile:   {settings.profile or 'default'}")


def main() -> None:
    """Run the ``headwater`` command line."""
    app()

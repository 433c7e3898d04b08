"""``headwater server start``: run the orchestration API with uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer

from headwater.cli._common import fail
from headwater.cli._records import ship_local_spool

__all__ = ["server_app"]

server_app = typer.Typer(no_args_is_help=True, help="Run the headwater API server.")


def _banner(host: str, port: int, database: str, auth: bool) -> str:
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    base = f"http://{shown_host}:{port}"
    lines = [
        "headwater server",
        f"  API:       {base}/api   (set HEADWATER_API_URL={base}/api on clients)",
        f"  Docs:      {base}/api/docs",
        f"  Database:  {database}",
        f"  Auth:      {'API key required (HEADWATER_SERVER_API_KEY)' if auth else 'none'}",
    ]
    if host in ("0.0.0.0", "::"):
        lines.append(f"  Listening on every interface ({host}): reachable from other machines.")
    return "\n".join(lines)


def _exposure_warning(host: str, auth: bool) -> str | None:
    """A warning when anyone on the network could use the API: no key, not loopback."""
    from headwater.server.middleware import is_loopback

    if auth or is_loopback(host):
        return None
    return (f"WARNING: the server listens on {host} without an API key: anyone who can reach "
            "this machine can read and change every run. Set HEADWATER_SERVER_API_KEY, or "
            "listen on 127.0.0.1.")


@server_app.command("start")
def start(
    host: Annotated[str, typer.Option(
        help="Interface to listen on; 0.0.0.0 exposes the server to the network.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 4200,
    log_level: Annotated[str, typer.Option(help="uvicorn's log level.")] = "info",
) -> None:
    """Start the API server (SQLite under HEADWATER_HOME unless
    HEADWATER_API_DATABASE_CONNECTION_URL is set)."""
    try:
        import uvicorn

        from headwater.server.app import create_app, resolve_database_url
        from headwater.server.database.engine import Database
    except ImportError as exc:
        fail(f"the server needs extra packages ({exc.name} is missing): "
             'pip install "headwater[server]"')
    try:
        url = resolve_database_url()
        app = create_app(url, bind_host=host, scheduler=True)
        database: Database = app.state.database
    except ValueError as exc:
        fail(str(exc))
    auth = _auth_enabled()
    typer.echo(_banner(host, port, database.display_url(), auth))
    warning = _exposure_warning(host, auth)
    if warning is not None:
        typer.secho(warning, fg=typer.colors.YELLOW, err=True)
    # Records this home's processes could not store (this server was down) go in first.
    ship_local_spool(app, _api_key())
    uvicorn.run(app, host=host, port=port, log_level=log_level.lower())


def _api_key() -> str | None:
    from headwater.settings import get_current_settings

    secret = get_current_settings().server.api_key
    return secret.get_secret_value() if secret is not None else None


def _auth_enabled() -> bool:
    return _api_key() is not None

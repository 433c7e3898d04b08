"""``headwater server start``: run the orchestration API with uvicorn."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer

from headwater.cli._common import fail
from headwater.cli._records import ship_local_spool

__all__ = ["serve", "server_app"]

server_app = typer.Typer(no_args_is_help=True, help="Run the headwater API server.")


def _banner(host: str, port: int, database: str, auth: bool) -> str:
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    base = f"http://{shown_host}:{port}"
    lines = [
        "headwater server",
        f"  UI:        {base}/",
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
    """Start the API server and the web UI (SQLite under HEADWATER_HOME unless
    HEADWATER_API_DATABASE_CONNECTION_URL is set)."""
    serve(host, port, log_level)


def serve(host: str, port: int, log_level: str,
          on_started: Callable[[], None] | None = None) -> None:
    """Run the server until interrupted (``on_started``: called once it answers)."""
    try:
        import uvicorn

        from headwater.server.app import create_app, resolve_database_url
        from headwater.server.database.engine import Database
    except ImportError as exc:
        fail(f"the server needs extra packages ({exc.name} is missing): "
             'pip install "headwater[server]"')
    try:
        url = resolve_database_url()
        app = create_app(url, bind_host=host)
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
    config = uvicorn.Config(app, host=host, port=port, log_level=log_level.lower())
    server = uvicorn.Server(config)
    if on_started is not None:
        _call_when_started(server, on_started)
    server.run()


def _call_when_started(server: Any, callback: Callable[[], None]) -> None:
    """Call ``callback`` from a thread once uvicorn says it has started."""
    import threading
    import time

    def wait() -> None:
        while not server.started:
            if server.should_exit:
                return
            time.sleep(0.05)
        callback()

    threading.Thread(target=wait, name="headwater-ui-started", daemon=True).start()


def _api_key() -> str | None:
    from headwater.settings import get_current_settings

    secret = get_current_settings().server.api_key
    return secret.get_secret_value() if secret is not None else None


def _auth_enabled() -> bool:
    return _api_key() is not None

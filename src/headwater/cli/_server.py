"""``headwater server start|status|stop``: run the orchestration API with uvicorn.

``start`` records itself in ``HEADWATER_HOME/servers/<port>.json``
(``_server_files.py``) so that ``status`` and ``stop`` find it from another shell.
"""

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
    lines.append("  Stop it with Ctrl-C, or 'headwater server stop' from another shell.")
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
    _check_port(host, port)
    auth = _auth_enabled()
    typer.echo(_banner(host, port, database.display_url(), auth))
    warning = _exposure_warning(host, auth)
    if warning is not None:
        typer.secho(warning, fg=typer.colors.YELLOW, err=True)
    # Records this home's processes could not store (this server was down) go in first.
    ship_local_spool(app, _api_key())
    from headwater._private.target import current_target
    from headwater.cli._server_files import removed_on_exit, write_server

    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    record = write_server(current_target().home, host, port, f"http://{shown_host}:{port}/api")
    with removed_on_exit(record):
        uvicorn.run(app, host=host, port=port, log_level=log_level.lower())


def _check_port(host: str, port: int) -> None:
    """A busy port is one clear error naming it and the way out, before anything starts."""
    from headwater._private.target import current_target
    from headwater.cli._server_files import port_in_use, read_servers

    if not port_in_use(host, port):
        return
    ours = [s for s in read_servers(current_target().home) if s.port == port]
    who = (f"a headwater server (process {ours[0].pid}) already listens there; "
           "'headwater server stop' stops it, or"
           if ours else "another program listens there;")
    fail(f"port {port} on {host} is in use: {who} start this one on another port with "
         f"--port (e.g. 'headwater server start --port {port + 1}').")


@server_app.command("status")
def status(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Say which servers started from this HEADWATER_HOME are running, and whether they answer."""
    import httpx

    from headwater._private.target import current_target
    from headwater.cli._output import print_json
    from headwater.cli._server_files import as_dict, read_servers

    home = current_target().home
    servers = read_servers(home)
    rows = []
    for server in servers:
        try:
            answers = httpx.get(f"{server.url}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            answers = False
        rows.append({**as_dict(server), "answers": answers})
    if as_json:
        print_json(rows)
        return
    if not rows:
        typer.echo(f"No headwater server started from {home} is running "
                   "('headwater server start' starts one).")
        return
    for row in rows:
        health = "answers" if row["answers"] else "does not answer yet"
        typer.echo(f"Running: {row['url']} (process {row['pid']}, {row['host']}:{row['port']}), "
                   f"{health}.")


@server_app.command("stop")
def stop(port: Annotated[int | None, typer.Option(
        help="The port of the server to stop, when several run.")] = None) -> None:
    """Stop the server started from this HEADWATER_HOME (it finishes its requests first)."""
    from headwater._private.target import current_target
    from headwater.cli._output import progress
    from headwater.cli._server_files import read_servers, stop_server

    home = current_target().home
    servers = [s for s in read_servers(home) if port is None or s.port == port]
    if not servers:
        on = f" on port {port}" if port is not None else ""
        fail(f"no headwater server started from {home} is running{on}; "
             "'headwater server status' lists them.")
    if len(servers) > 1:
        ports = ", ".join(str(s.port) for s in servers)
        fail(f"{len(servers)} servers are running (ports {ports}); say which with --port.")
    server = servers[0]
    with progress(f"Stopping the server on port {server.port}", None):
        stopped = stop_server(server)
    if not stopped:
        fail(f"the server (process {server.pid}) did not stop within 15 s; "
             f"'kill -9 {server.pid}' ends it at once.")
    typer.echo(f"Stopped the server at {server.url} (process {server.pid}).")


def _api_key() -> str | None:
    from headwater.settings import get_current_settings

    secret = get_current_settings().server.api_key
    return secret.get_secret_value() if secret is not None else None


def _auth_enabled() -> bool:
    return _api_key() is not None

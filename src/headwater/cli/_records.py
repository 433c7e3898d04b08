"""``headwater records ls|flush``: run records kept on disk (the spool), and shipping them.

A process that could not store its run records (the API was down, or
refused its key) keeps them under ``HEADWATER_HOME/spool``; the next process
on that home ships them first. These commands show them and ship them now,
to the process's target (``HEADWATER_API_URL``, or the local database).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from headwater.cli._common import fail

if TYPE_CHECKING:
    from headwater._private.recording.spool import SpoolReport
    from headwater._private.target import Target

__all__ = ["records_app", "ship_local_spool"]

records_app = typer.Typer(no_args_is_help=True,
                          help="Run records kept on disk while they could not be stored.")


def _spool() -> tuple[Target, Path]:
    from headwater._private.target import current_target

    target = current_target()
    return target, target.home / "spool"


def _batch_records(path: Path) -> int | None:
    from headwater._private.recording.spool import count_records

    try:
        return count_records(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return None


@records_app.command("ls")
def records_ls(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List the spooled batches (waiting, and rejected by the API with the reason)."""
    from headwater._private.recording.spool import REJECTED, spooled_files

    _, spool = _spool()
    rows: list[dict[str, Any]] = [
        {"file": str(path), "records": _batch_records(path), "status": "waiting", "reason": None}
        for path in spooled_files(spool)]
    for path in spooled_files(spool / REJECTED):
        reason_file = path.with_suffix(".reason")
        reason = reason_file.read_text(encoding="utf-8").strip() if reason_file.exists() else None
        rows.append({"file": str(path), "records": _batch_records(path), "status": "rejected",
                     "reason": reason})
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        typer.echo(f"No spooled run records under {spool}.")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Spooled run records ({spool})")
    for column in ("status", "records", "file", "reason"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["status"], str(row["records"] if row["records"] is not None else "?"),
                      Path(row["file"]).name, row["reason"] or "")
    Console().print(table)


@records_app.command("flush")
def records_flush() -> None:
    """Ship the spooled run records to the API (or the local database) now, in order."""
    from headwater._private import background
    from headwater._private.recording.spool import spooled_files
    from headwater.cli._output import progress

    target, spool = _spool()
    files = spooled_files(spool)
    if not files:
        typer.echo(f"No spooled run records under {spool}.")
        return
    with progress(f"Shipping to {target.where()}", len(files)) as advance:
        report = background.run(lambda: _ship(target, spool, lambda _p, _n: advance(1)))
    _report(report, target.where())


async def _ship(target: Target, spool: Path, advance: Any) -> SpoolReport:
    from headwater._private.recording.spool import ship_spool
    from headwater._private.recording.transports import transport_factory

    transport = await transport_factory(target)()
    try:
        return await ship_spool(spool, transport, advance)
    finally:
        await transport.close()


def _report(report: SpoolReport, where: str) -> None:
    typer.echo(f"Shipped {report.shipped_files} batch(es), {report.shipped_records} record(s), "
               f"to {where}.")
    for path, reason in report.rejected:
        typer.secho(f"Rejected by the API and set aside: {path} ({reason})", err=True,
                    fg=typer.colors.YELLOW)
    for path in report.unreadable:
        typer.secho(f"Not a batch of run records (left in place): {path}", err=True,
                    fg=typer.colors.YELLOW)
    if report.error is not None:
        fail(f"stopped: {where} could not store a batch ({type(report.error).__name__}: "
             f"{report.error}); {report.left} batch(es) left. Run this again once it can.")


def ship_local_spool(app: Any, api_key: str | None) -> None:
    """Ship this home's spool into the server's own database (``headwater server start``).

    Through the app in process, before it starts serving; says what it did.
    """
    from headwater._private import background
    from headwater._private.recording.spool import ship_spool, spooled_files
    from headwater._private.recording.transports import ClientTransport
    from headwater._private.target import current_target
    from headwater.cli._output import progress

    spool = current_target().home / "spool"
    files = spooled_files(spool)
    if not files:
        return

    async def ship() -> SpoolReport:
        import httpx

        from headwater.client import HeadwaterClient

        # A loopback name: a keyless server answers only those (DNS rebinding).
        client = HeadwaterClient("http://localhost/api", api_key,
                                 transport=httpx.ASGITransport(app=app), retries=0)
        try:
            with progress(f"Shipping {len(files)} spooled batch(es)", len(files)) as advance:
                return await ship_spool(spool, ClientTransport(client),
                                        lambda _p, _n: advance(1))
        finally:
            await client.aclose()
            await app.state.database.aclose()  # uvicorn's loop opens it again

    report = background.run(ship)
    typer.echo(f"Shipped {report.shipped_files} spooled batch(es) of run records "
               f"({report.shipped_records} records) from {spool}.")
    if report.error is not None or report.rejected:
        typer.secho(f"Some spooled batches were not stored; see 'headwater records ls'. "
                    f"({report.error or report.rejected[0][1]})", err=True,
                    fg=typer.colors.YELLOW)

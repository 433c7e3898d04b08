"""What the run commands share: calling the target's API, and printing for people or scripts.

``--json`` has one shape everywhere (``docs/cli.md``): the API's objects with
the API's field names, ids in full, times in ISO 8601; a command about one
thing prints one object, a listing prints an array, and ``logs`` prints one
object per line (JSON Lines) so that ``--follow`` can stream. Tables show
the last 8 hex digits of an id (the random part: ids start with the time, so
their first digits are shared by runs made together); any unique part of
an id, or a run's name, is accepted wherever a run id is.

Errors of the API reach the user as one sentence: what was refused and
why, never an HTTP method and URL, a pydantic error list, or the in-process
API's host name.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import sys
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import typer

from headwater.cli._common import fail

__all__ = ["JSON_OPTION", "call", "duration", "print_json", "progress", "short_id",
           "state_name", "table", "when"]

T = TypeVar("T")

JSON_OPTION = typer.Option(False, "--json", help="Print JSON instead of a table (docs/cli.md).")
SHORT_ID = 8  # hex digits of an id a table shows


def call(fn: Callable[[Any], Awaitable[T]]) -> T:
    """Run ``fn(client)`` with a client for the target; headwater's errors become CLI errors."""
    from headwater._private import background
    from headwater._private.target import current_target
    from headwater.client import APIError
    from headwater.exceptions import HeadwaterException

    target = current_target()

    async def main() -> T:
        async with target.client() as client:
            return await fn(client)

    try:
        return background.run(main)
    except APIError as exc:
        fail(api_error_text(exc, target.where()))
    except HeadwaterException as exc:  # unknown runs, an unreachable API
        fail(str(exc))


def api_error_text(exc: Any, where: str) -> str:
    """One sentence for an API error: who refused, and the API's reason in plain words."""
    status = exc.status_code
    reason = _plain_detail(exc.detail)
    if status in (401, 403):
        return (f"{where} refused the API key ({status}: {reason}); set HEADWATER_API_KEY to "
                "the server's HEADWATER_SERVER_API_KEY.")
    if status == 404:
        return f"not found at {where}: {reason}"
    if status == 422:
        return f"{where} refused the request as invalid: {reason}"
    return f"{where} answered {status}: {reason}"


def _plain_detail(detail: str) -> str:
    """The API's ``detail``; a pydantic error list becomes ``field: message; ...``."""
    import ast

    if not detail.startswith("[{"):
        return detail
    try:
        errors = ast.literal_eval(detail)  # the client keeps str(list of dicts)
    except (ValueError, SyntaxError):
        return detail
    parts = []
    for error in errors[:3]:
        where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("body",))
        parts.append(f"{where}: {error.get('msg')}" if where else str(error.get("msg")))
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    return "; ".join(parts) + more


def print_json(value: Any) -> None:
    """Print one object or one array, as every ``--json`` does."""
    typer.echo(json.dumps(value, indent=2, default=str))


def print_json_line(value: Any) -> None:
    """Print one object on one line (JSON Lines: ``logs --json``)."""
    typer.echo(json.dumps(value, default=str))


def table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    """Print a rich table."""
    from rich.console import Console
    from rich.table import Table

    shown = Table(title=title)
    for column in columns:
        # Ids and names are what a person types next: never cut with "…"
        # (a narrow terminal folds a long name onto a second line).
        typed = column in ("ID", "Name")
        shown.add_column(column, no_wrap=column == "ID",
                         overflow="fold" if typed else "ellipsis")
    for row in rows:
        shown.add_row(*("" if cell is None else str(cell) for cell in row))
    Console().print(shown)


def short_id(run_id: Any) -> str:
    """The part of an id a table shows: its last 8 hex digits (random, so they differ)."""
    return str(run_id or "").replace("-", "")[-SHORT_ID:]


def when(value: Any) -> str:
    """An API time as local ``YYYY-MM-DD HH:MM:SS``."""
    if not value:
        return ""
    try:
        moment = _dt.datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def duration(run: dict[str, Any]) -> str:
    """A run's run time, in seconds."""
    seconds = run.get("total_run_time")
    if seconds is None:
        start, end = run.get("start_time"), run.get("end_time")
        if not start or not end:
            return ""
        seconds = (_dt.datetime.fromisoformat(end) - _dt.datetime.fromisoformat(start))
        seconds = seconds.total_seconds()
    return f"{float(seconds):.3f}s"


def state_name(run: dict[str, Any]) -> str:
    """A run's current state's name."""
    state = run.get("state") or {}
    return str(state.get("name") or run.get("state_name") or run.get("state_type") or "")


def level_name(level: Any) -> str:
    """A log level number as its name."""
    import logging

    return logging.getLevelName(int(level)) if isinstance(level, int) else str(level)


@contextlib.contextmanager
def progress(description: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """A transient rich progress bar on stderr, when stderr is a terminal; yields ``advance(n)``.

    Off a terminal (pipes, CI, tests) nothing is drawn: output stays what it was.
    """
    if not sys.stderr.isatty():
        yield lambda _n: None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda n: bar.advance(task, n)

"""Printing a run's log lines, once or following, for ``flow-run logs`` and ``task-run logs``.

Each line says which run wrote it: the task run's name, or the flow run's
for the flow's own lines. ``--follow`` outlives a server restart: while the
API cannot be reached it says "reconnecting" once on stderr and tries again
with backoff (1, 2, 4... up to 10 s), then goes on from the last line it printed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import typer

from headwater.cli._output import level_name, print_json_line, when

__all__ = ["stream_logs"]

PAGE = 500
FINAL = frozenset({"COMPLETED", "FAILED", "CANCELLED", "CRASHED"})


class _Writers:
    """Names of the runs that write lines: task run ids to names, read as they appear."""

    def __init__(self, client: Any, flow_run: dict[str, Any] | None) -> None:
        self.client = client
        self.names: dict[str, str] = {}
        if flow_run is not None:
            self.names[str(flow_run["id"])] = str(flow_run.get("name"))
        self.flow_run = flow_run

    async def name(self, line: dict[str, Any]) -> str:
        task_run_id = line.get("task_run_id")
        run_id = str(task_run_id or line.get("flow_run_id") or "")
        if run_id and run_id not in self.names and task_run_id and self.flow_run is not None:
            for run in await self.client.read_task_runs(flow_run_id=self.flow_run["id"],
                                                        limit=10_000):
                self.names[str(run["id"])] = str(run.get("name"))
        return self.names.get(run_id, run_id[-8:] if run_id else "-")


async def stream_logs(client: Any, criteria: dict[str, Any], *, flow_run: dict[str, Any] | None,
                      writer: str | None, follow: bool, as_json: bool,
                      is_final: Callable[[], Awaitable[bool]]) -> None:
    """Print the lines matching ``criteria`` (a log filter), oldest first.

    Args:
        client: The API client.
        criteria: The ``logs`` filter, e.g. ``{"flow_run_id": {"any_": [id]}}``.
        flow_run: The flow run the lines belong to, to name their writers.
        writer: The one writer's name, when all lines are one run's.
        follow: Keep printing new lines until ``is_final()``.
        as_json: One JSON object per line instead of text.
        is_final: Whether the run has ended (asked when no new lines came).
    """
    from headwater.client import APIUnreachable

    writers = _Writers(client, flow_run)
    offset, failures = 0, 0
    while True:
        try:
            body = {"logs": criteria, "limit": PAGE, "offset": offset, "sort": "TIMESTAMP_ASC"}
            logs = list(await client.request("POST", "logs/filter", json=body))
            for line in logs:
                await _print(line, writer or await writers.name(line), as_json)
            offset += len(logs)
            if len(logs) == PAGE:
                continue
            if not follow or await is_final():
                return
            if failures:
                typer.secho("Reconnected.", err=True, fg=typer.colors.GREEN)
                failures = 0
            await anyio.sleep(1.0)
        except APIUnreachable:
            if not follow:
                raise
            if not failures:
                typer.secho(f"The API at {client.api_url} does not answer: reconnecting "
                            "(Ctrl-C to stop)...", err=True, fg=typer.colors.YELLOW)
            await anyio.sleep(min(10.0, 2.0 ** failures))
            failures += 1


async def _print(line: dict[str, Any], writer: str, as_json: bool) -> None:
    if as_json:
        print_json_line(line)
    else:
        typer.echo(f"{when(line.get('timestamp'))} | {level_name(line.get('level')):<8} | "
                   f"{writer} | {line.get('message')}")

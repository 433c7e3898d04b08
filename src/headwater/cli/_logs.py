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
    """Names of the runs that write lines: the flow run's, and task runs' read as they appear."""

    def __init__(self, client: Any, flow_run: dict[str, Any] | None) -> None:
        self.client = client
        self.names: dict[str, str] = {}
        if flow_run is not None:
            self.names[str(flow_run["id"])] = str(flow_run.get("name"))

    async def learn(self, lines: list[dict[str, Any]]) -> None:
        """Read the names of the task runs of these lines not known yet: one request a page."""
        unknown = sorted({str(line["task_run_id"]) for line in lines
                          if line.get("task_run_id") and str(line["task_run_id"])
                          not in self.names})
        if not unknown:
            return
        body = {"task_runs": {"id": {"any_": unknown}}, "limit": len(unknown)}
        for run in await self.client.request("POST", "task_runs/filter", json=body):
            self.names[str(run["id"])] = str(run.get("name"))
        for run_id in unknown:  # deleted since: its id's end, once
            self.names.setdefault(run_id, run_id.replace("-", "")[-8:])

    def name(self, line: dict[str, Any]) -> str:
        run_id = str(line.get("task_run_id") or line.get("flow_run_id") or "")
        return self.names.get(run_id, run_id.replace("-", "")[-8:] if run_id else "-")


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
            if writer is None and not as_json:
                await writers.learn(logs)
            for line in logs:
                _print(line, writer or writers.name(line), as_json)
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


def _print(line: dict[str, Any], writer: str, as_json: bool) -> None:
    if as_json:
        print_json_line(line)
    else:
        typer.echo(f"{when(line.get('timestamp'))} | {level_name(line.get('level')):<8} | "
                   f"{writer} | {line.get('message')}")

"""``headwater worker start``: poll a work pool and execute its runs until stopped."""

from __future__ import annotations

import asyncio
import signal
from typing import Annotated

import typer

from headwater.cli._common import fail

__all__ = ["worker_app"]

worker_app = typer.Typer(no_args_is_help=True, help="Start workers that execute work pools' runs.")


@worker_app.command("start")
def start(
    pool: Annotated[str, typer.Option("--pool", "-p", help="The work pool to take runs from "
                                      "(created if it does not exist).")],
    queue: Annotated[list[str] | None, typer.Option(
        "--queue", "-q", help="Only this queue of the pool (repeat for several).")] = None,
    label: Annotated[list[str] | None, typer.Option(
        "--label", "-l", help="A label this worker offers (repeat for several); it takes runs "
        "whose labels are a subset of its own.")] = None,
    limit: Annotated[int | None, typer.Option(
        "--limit", min=1, help="At most this many runs at once.")] = None,
    name: Annotated[str | None, typer.Option("--name", "-n", help="The worker's name.")] = None,
    type_: Annotated[str, typer.Option("--type", "-t", help="The worker type.")] = "process",
    run_once: Annotated[bool, typer.Option(
        "--run-once", help="Do one round (heartbeat, claim, launch), wait for the runs it "
        "launched to end, and exit.")] = False,
) -> None:
    """Start a worker: it polls the pool, claims runs atomically and executes them.

    Stop it with Ctrl-C or SIGTERM: it claims no more runs and stops the ones
    it runs (SIGTERM to each, SIGKILL after HEADWATER_WORKER_CANCEL_GRACE_SECONDS;
    a second Ctrl-C kills them at once). Runs never outlive their worker: if
    it is killed, they are killed too, and the zombie check and Lazarus take
    over.
    """
    from headwater._private.workers.plugins import get_worker_class
    from headwater.exceptions import HeadwaterException

    try:
        cls = get_worker_class(type_)
        worker = cls(pool, work_queues=queue or None, labels=label or [], limit=limit, name=name)
    except (ValueError, TypeError) as exc:
        fail(str(exc))

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()

        def on_signal() -> None:
            if stop.is_set():  # the second one: do not wait for the grace period
                worker.kill_runs()
            stop.set()

        try:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, on_signal)
        except (NotImplementedError, RuntimeError):  # Windows: Ctrl-C raises instead
            pass
        async with worker:
            typer.echo(f"Worker {worker.name!r} started on work pool {pool!r}.")
            if run_once:
                launched = await worker.run_once()
                typer.echo(f"Launched {len(launched)} flow run(s).")
                await worker.wait_for_runs(stop)
                return
            await worker.start(stop)
        typer.echo(f"Worker {worker.name!r} stopped.")

    try:
        asyncio.run(main())
    except HeadwaterException as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        typer.echo("Worker stopped.")

"""``headwater work-pool create|ls|inspect|pause|resume|delete`` and ``headwater work-queue ...``.

Pools and queues live at the target's API (the server at ``HEADWATER_API_URL``,
or the local database), like runs.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from headwater.cli._output import JSON_OPTION, call, print_json, table, when

__all__ = ["work_pool_app", "work_queue_app"]

work_pool_app = typer.Typer(no_args_is_help=True,
                            help="Work pools: where deployments' runs wait for workers.")
work_queue_app = typer.Typer(no_args_is_help=True,
                             help="Work queues: the queues of a work pool, by priority.")

PoolName = Annotated[str, typer.Argument(help="The work pool's name.")]
QueueName = Annotated[str, typer.Argument(help="The work queue's name.")]
PoolOption = Annotated[str, typer.Option("--pool", "-p", help="The work pool of the queue.")]
Limit = Annotated[int | None, typer.Option("--concurrency-limit", min=0,
                                           help="At most this many runs at once.")]


def _limit(value: Any) -> str:
    return "none" if value is None else str(value)


@work_pool_app.command("create")
def pool_create(name: PoolName,
                type_: Annotated[str, typer.Option("--type", help="The worker type.")] = "process",
                limit: Limit = None,
                paused: Annotated[bool, typer.Option("--paused", help="Create it paused.")] = False,
                require_labels: Annotated[bool, typer.Option(
                    "--require-labels", help="Runs without labels go to no worker.")] = False,
                description: Annotated[str | None, typer.Option(help="What it is for.")] = None,
                ) -> None:
    """Create a work pool (with its `default` queue)."""
    pool = call(lambda c: c.create_work_pool(
        name, type=type_, concurrency_limit=limit, is_paused=paused,
        require_labels=require_labels, description=description))
    typer.echo(f"Created work pool {pool['name']!r} ({pool['type']}, concurrency limit "
               f"{_limit(pool['concurrency_limit'])}).")


@work_pool_app.command("ls")
def pool_ls(as_json: bool = JSON_OPTION) -> None:
    """List the work pools."""
    pools = call(lambda c: c.read_work_pools())
    if as_json:
        print_json(pools)
        return
    table("Work pools", ["Name", "Type", "Status", "Concurrency limit", "Require labels"],
           [[p["name"], p["type"], p["status"], _limit(p["concurrency_limit"]),
             "yes" if p["require_labels"] else "no"] for p in pools])


@work_pool_app.command("inspect")
def pool_inspect(name: PoolName, as_json: bool = JSON_OPTION) -> None:
    """Show a work pool, its queues and its workers."""
    async def read(client: Any) -> dict[str, Any]:
        pool = dict(await client.read_work_pool(name))
        pool["queues"] = await client.read_work_queues(name)
        pool["workers"] = await client.read_workers_for_work_pool(name)
        return pool

    pool = call(read)
    if as_json:
        print_json(pool)
        return
    typer.echo(f"Work pool {pool['name']!r} ({pool['type']}): {pool['status']}, concurrency "
               f"limit {_limit(pool['concurrency_limit'])}, labels "
               f"{'required' if pool['require_labels'] else 'optional'}")
    table("Queues", ["Name", "Priority", "Status", "Concurrency limit", "Last polled"],
           [[q["name"], q["priority"], q["status"], _limit(q["concurrency_limit"]),
             when(q["last_polled"])] for q in pool["queues"]])
    table("Workers", ["Name", "Status", "Labels", "Host", "Last heartbeat"],
           [[w["name"], w["status"], ", ".join(w["labels"]), w["host"],
             when(w["last_heartbeat_time"])] for w in pool["workers"]])


@work_pool_app.command("pause")
def pool_pause(name: PoolName) -> None:
    """Pause a work pool: workers take none of its runs until it is resumed."""
    call(lambda c: c.update_work_pool(name, is_paused=True))
    typer.echo(f"Paused work pool {name!r}.")


@work_pool_app.command("resume")
def pool_resume(name: PoolName) -> None:
    """Resume a paused work pool."""
    call(lambda c: c.update_work_pool(name, is_paused=False))
    typer.echo(f"Resumed work pool {name!r}.")


@work_pool_app.command("delete")
def pool_delete(name: PoolName) -> None:
    """Delete a work pool, its queues and its workers (its runs stay)."""
    call(lambda c: c.delete_work_pool(name))
    typer.echo(f"Deleted work pool {name!r}.")


@work_queue_app.command("create")
def queue_create(name: QueueName, pool: PoolOption,
                 priority: Annotated[int, typer.Option(min=1, help="1 is served first.")] = 1,
                 limit: Limit = None,
                 description: Annotated[str | None, typer.Option(help="What it is for.")] = None,
                 ) -> None:
    """Create a queue in a work pool."""
    queue = call(lambda c: c.create_work_queue(name, work_pool_name=pool, priority=priority,
                                                concurrency_limit=limit,
                                                description=description))
    typer.echo(f"Created work queue {queue['name']!r} in pool {pool!r} (priority "
               f"{queue['priority']}, concurrency limit {_limit(queue['concurrency_limit'])}).")


@work_queue_app.command("ls")
def queue_ls(pool: PoolOption, as_json: bool = JSON_OPTION) -> None:
    """List a work pool's queues, by priority."""
    queues = call(lambda c: c.read_work_queues(pool))
    if as_json:
        print_json(queues)
        return
    table(f"Queues of {pool}", ["Name", "Priority", "Status", "Concurrency limit",
                                 "Last polled"],
           [[q["name"], q["priority"], q["status"], _limit(q["concurrency_limit"]),
             when(q["last_polled"])] for q in queues])


@work_queue_app.command("inspect")
def queue_inspect(name: QueueName, pool: PoolOption, as_json: bool = JSON_OPTION) -> None:
    """Show a work queue."""
    queue = call(lambda c: c.read_work_queue(name, work_pool_name=pool))
    if as_json:
        print_json(queue)
        return
    typer.echo(f"Work queue {queue['name']!r} of pool {pool!r}: {queue['status']}, priority "
               f"{queue['priority']}, concurrency limit {_limit(queue['concurrency_limit'])}, "
               f"last polled {when(queue['last_polled']) or 'never'}")


@work_queue_app.command("pause")
def queue_pause(name: QueueName, pool: PoolOption) -> None:
    """Pause a work queue: workers take none of its runs until it is resumed."""
    call(lambda c: c.update_work_queue(name, work_pool_name=pool, is_paused=True))
    typer.echo(f"Paused work queue {name!r} of pool {pool!r}.")


@work_queue_app.command("resume")
def queue_resume(name: QueueName, pool: PoolOption) -> None:
    """Resume a paused work queue."""
    call(lambda c: c.update_work_queue(name, work_pool_name=pool, is_paused=False))
    typer.echo(f"Resumed work queue {name!r} of pool {pool!r}.")


@work_queue_app.command("delete")
def queue_delete(name: QueueName, pool: PoolOption) -> None:
    """Delete a work queue (not the pool's default queue)."""
    call(lambda c: c.delete_work_queue(name, work_pool_name=pool))
    typer.echo(f"Deleted work queue {name!r} of pool {pool!r}.")
